"""A dry run (or a finished import) as text, for the management command."""

from __future__ import annotations

from typing import Any


def plan_text(plan: dict[str, Any]) -> str:
    """Everything the import would create, every line not understood (with the name that skips it), and every
    line deliberately not used."""
    out = []
    library = plan.get("library") or {}
    if library.get("error"):
        out.append(f"Library: cannot be used: {library['error']}")
    else:
        kind = "ours" if library.get("ours") else "foreign"
        out.append(f"Library: {library.get('path')} (getFrameworkVersion {library.get('version')}, {kind})")
    account = plan.get("account")
    if account and account.get("existing"):
        out.append(f"Account: existing #{account['existing']} {account['name']!r}")
    elif account and account.get("broker"):
        out.append(
            f"Account: create {account['broker']} {account['environment']} {account['broker_account_id']} "
            f"{account['name']!r} (currency {account['currency']}, token {account['token']}, "
            f"virtual orders {account['virtual_orders']})"
        )
    if account:
        out.append(f"Reference broker time zone: {account['ref_broker_name']}")
    channel = plan.get("notification_channel")
    if channel:
        out.append(f"Notification channel: {channel['name']} via {channel['server']} (password {channel['password']})")
    out.append(f"Instances ({len(plan['instances'])}):")
    for i in plan["instances"]:
        slots = sum(1 for s in i["rates_requirements"] if s)
        out.append(
            f"  [{i['section']}] #{i['instance_id']} {i['name']!r} {i['instrument']} strategy {i['strategy_id']}, runs on "
            f"{i['timeframe']}-minute bars, TIMEFRAME {i['strategy_timeframe']}, {slots} rates slot(s); risk "
            f"{i['risk_percent']}%, max orders {i['max_open_orders']}, max spread {i['max_spread']}, mode "
            f"{i['operational_mode']}, max drawdown {i['max_drawdown_percent']}%"
        )
        out.append(f"      parameters: {i['parameters']}")
        if i["optimization_space"]:
            out.append(f"      optimisation space: {i['optimization_space']}")
    if plan["skipped"]:
        out.append(f"Skipped sections: {', '.join(plan['skipped'])}")
    out.append(f"Not understood ({len(plan['problems'])}):")
    for p in plan["problems"]:
        where = f"{p['file']}:{p['line']}" if p["line"] is not None else p["file"]
        out.append(f"  {where}  {p['key']}={p['value']}  {p['why']}  (skip: {p['skip']})")
    out.append(f"Ignored ({len(plan['ignored'])}):")
    for i in plan["ignored"]:
        where = f"{i['file']}:{i['line']}" if i["line"] is not None else i["file"]
        out.append(f"  {where}  {i['key']}={i['value']}  {i['why']}")
    out.append("Valid: nothing is written unless --apply" if plan["valid"] else "Not valid: nothing can be written")
    return "\n".join(out)
