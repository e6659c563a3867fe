"""Drift report: what an instance did live (or on paper) over a period against a parity replay of the same bars.

The replay is ``engine_run`` with the parity engine, the instance's parameters and the stored bars of the
period, from the account's balance at the start. Live trades are the instance's Trade rows opened in the
period (market entries open at a bar's close, so up to one bar after ``end``); each is paired with a replayed
trade by side and open time (``drift_match``). Rows without a twin get a note saying what the live side did
at that bar (no run, a failed run, a blocked signal, a rejected order). README "Drift report" has the rules.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from decimal import Decimal

from django.db import transaction
from django.utils import timezone

from backtests.engine.market import Costs
from backtests.engine.parity import EngineResult
from backtests.models import DriftMatch, DriftReport, DriftTrade, DriftVerdict, Engine, RunStatus
from backtests.services.data import NoData, instance_with_parameters
from backtests.services.drift_match import MONEY, Pair, TradeView, pair_difference, trades_match
from backtests.services.queueing import job_enqueue
from backtests.services.runs import engine_run_stored
from trading.models import (
    Execution,
    ExecutionStatus,
    Order,
    OrderIntent,
    OrderStatus,
    StrategyInstance,
    Trade,
    TradeState,
)
from trading.services.prices import quote_to_account_rate
from trading.services.quotas import quota_check

PROFIT_TOLERANCE = Decimal("0.01")  # money differences below a cent are rounding, not drift


class DriftError(ValueError):
    """An instance, a period or data a drift report cannot be made from; the message says which."""


def _live_profit(trade: Trade) -> Decimal:
    return trade.realized_pl + trade.financing - trade.commission


def account_balance_at(*, instance: StrategyInstance, moment: datetime) -> Decimal:
    """The account's balance at ``moment``: today's balance less what trades closed since then realised."""
    closed = Trade.objects.filter(account_id=instance.account_id, state=TradeState.CLOSED, close_time__gte=moment)
    return (instance.account.balance - sum((_live_profit(t) for t in closed), Decimal(0))).quantize(Decimal("0.01"))


@transaction.atomic
def drift_report_create(
    *,
    instance_id: int,
    start: datetime,
    end: datetime,
    tolerance: timedelta | None = None,
    initial_balance: Decimal | None = None,
    costs: Costs | None = None,
    owner=None,
) -> DriftReport:
    """Check the inputs and record a pending report (nothing runs: see drift_report_execute / _enqueue)."""
    quota_check(user=owner, quota="backtests")
    instance = StrategyInstance.objects.select_related("instrument", "account").filter(pk=instance_id).first()
    if instance is None:
        raise DriftError(f"instance {instance_id} does not exist")
    for name, value in (("start", start), ("end", end)):
        if value.tzinfo is None:
            raise DriftError(f"{name} {value.isoformat()} has no time zone; give UTC times")
    if start >= end:
        raise DriftError(f"the period is empty: start {start.isoformat()} is not before end {end.isoformat()}")
    if not Execution.objects.filter(instance=instance, bar_time__gte=start, bar_time__lte=end).exists():
        raise DriftError(
            f"instance {instance_id} has no live runs for bars between {start.isoformat()} and "
            f"{end.isoformat()}: nothing to compare"
        )
    tolerance = timedelta(minutes=instance.timeframe) if tolerance is None else tolerance
    if tolerance < timedelta(0):
        raise DriftError(f"the tolerance must not be negative (was {tolerance})")
    balance = account_balance_at(instance=instance, moment=start) if initial_balance is None else initial_balance
    report = DriftReport(
        instance=instance,
        owner=owner,
        start=start,
        end=end,
        tolerance_seconds=int(tolerance.total_seconds()),
        strategy_id=instance.strategy_id,
        symbol=instance.instrument.symbol,
        timeframe=instance.timeframe,
        parameters=instance.parameters or {},
        initial_balance=balance,
        account_currency=instance.account.currency,
        costs=(costs or Costs()).as_json(),
    )
    report.full_clean()
    report.save()
    return report


def drift_report_enqueue(*, report: DriftReport) -> DriftReport:
    """Queue the report on Celery once the current transaction commits; its task id is stored on the row."""
    from backtests.tasks import drift_report_task

    return job_enqueue(job=report, task=drift_report_task)


def _utc(seconds: int) -> datetime:
    return datetime.fromtimestamp(int(seconds), tz=UTC)


def _replayed(result: EngineResult, digits: int) -> list[TradeView]:
    return [
        TradeView(
            ref=t.ticket,
            side=t.side,
            units=Decimal(repr(t.units)).quantize(MONEY),
            open_time=_utc(t.open_time),
            open_price=Decimal(int(t.open_price)).scaleb(-digits),
            close_time=_utc(t.close_time),
            close_price=Decimal(int(t.close_price)).scaleb(-digits),
            profit=Decimal(repr(t.profit)).quantize(MONEY),
            close_reason=t.reason,
        )
        for t in result.trades
    ]


def _live(report: DriftReport, instance: StrategyInstance) -> tuple[list[TradeView], dict[int, datetime]]:
    """The instance's trades opened in the period, and the bar of the live run that opened each."""
    last_open = report.end + timedelta(minutes=report.timeframe)
    trades = list(Trade.objects.filter(instance=instance, open_time__gte=report.start, open_time__lte=last_open))
    views = [
        TradeView(
            ref=t.pk,
            side=t.side,
            units=t.initial_units,
            open_time=t.open_time,
            open_price=t.open_price,
            close_time=t.close_time,
            close_price=t.close_price,
            profit=_live_profit(t) if t.state == TradeState.CLOSED else None,
            close_reason=t.close_reason,
        )
        for t in trades
    ]
    bars = dict(
        Order.objects.filter(trade__in=trades, intent=OrderIntent.OPEN, execution__isnull=False).values_list(
            "trade_id", "execution__bar_time"
        )
    )
    return views, bars


def _replay_note(report: DriftReport, trade: TradeView) -> str:
    """What the live side did at the bar whose close opened a replayed trade that has no live twin."""
    bar = trade.open_time - timedelta(minutes=report.timeframe)
    execution = Execution.objects.filter(instance_id=report.instance_id, bar_time=bar).first()
    if execution is None:
        return f"no live run for the bar {bar:%Y-%m-%d %H:%M} (or the replayed trade came from a pending order)"
    if execution.status != ExecutionStatus.SUCCESS:
        return f"live run for the bar {bar:%Y-%m-%d %H:%M} {execution.status}: {execution.error}"[:500]
    notes = [str(s["note"]) for s in execution.signals if isinstance(s, dict) and "note" in s]
    rejected = list(
        Order.objects.filter(execution=execution, status=OrderStatus.REJECTED).values_list("reject_reason", flat=True)
    )
    parts = [f"live run for the bar {bar:%Y-%m-%d %H:%M} placed {execution.orders_placed} orders"]
    parts += [f"rejected: {r}" for r in rejected] + notes
    return "; ".join(parts)[:500]


def _live_note(pair: Pair, report: DriftReport) -> str:
    trade = pair.live
    assert trade is not None
    return (
        f"the replay opened no {trade.side} trade within {report.tolerance_seconds} s of "
        f"{trade.open_time:%Y-%m-%d %H:%M:%S}"
    )


def drift_report_execute(*, report_id: int) -> DriftReport:
    """Replay the period, pair the trades and store the rows and totals (marks the report failed on an error)."""
    report = DriftReport.objects.select_related("instance__instrument", "instance__account").get(pk=report_id)
    DriftReport.objects.filter(pk=report.pk).update(status=RunStatus.RUNNING, started_at=timezone.now(), error="")
    try:
        if report.instance is None:
            raise DriftError("the instance of this report was deleted")
        instance = instance_with_parameters(report.instance, report.parameters)
        try:
            output = engine_run_stored(
                inputs=report, instance=instance, start=report.start, end=report.end, engine=Engine.PARITY
            )
        except NoData as e:
            raise DriftError(f"no bars to replay for {report.symbol} M{report.timeframe}: {e}") from e
        _store(report, instance, output.result)
    except Exception as e:  # recorded on the report; the caller (task, command) reports it
        DriftReport.objects.filter(pk=report.pk).update(
            status=RunStatus.FAILED, error=f"{type(e).__name__}: {e}", finished_at=timezone.now()
        )
        raise
    report.refresh_from_db()
    return report


@transaction.atomic
def _store(report: DriftReport, instance: StrategyInstance, result: EngineResult) -> None:
    instrument = instance.instrument
    period_end = report.end + timedelta(minutes=report.timeframe)
    live, signal_bars = _live(report, instance)
    pairs = trades_match(
        live, _replayed(result, instrument.digits), tolerance=timedelta(seconds=report.tolerance_seconds)
    )
    rows: list[DriftTrade] = []
    for index, pair in enumerate(pairs):
        lv, bt = pair.live, pair.backtest
        rate = quote_to_account_rate(instrument, report.account_currency, price=pair.first.open_price)
        diff = pair_difference(pair, digits=instrument.digits, rate=rate, period_end=period_end)
        match = DriftMatch.BOTH if lv and bt else DriftMatch.LIVE_ONLY if lv else DriftMatch.BACKTEST_ONLY
        note = "" if lv and bt else _live_note(pair, report) if lv else _replay_note(report, pair.first)
        rows.append(
            DriftTrade(
                report=report,
                index=index,
                match=match,
                side=pair.first.side,
                live_trade_id=lv.ref if lv else None,
                live_signal_bar=signal_bars.get(lv.ref) if lv else None,
                live_units=lv.units if lv else None,
                live_open_time=lv.open_time if lv else None,
                live_open_price=lv.open_price if lv else None,
                live_close_time=lv.close_time if lv else None,
                live_close_price=lv.close_price if lv else None,
                live_profit=lv.profit if lv else None,
                live_close_reason=lv.close_reason if lv else "",
                backtest_ticket=bt.ref if bt else None,
                backtest_units=bt.units if bt else None,
                backtest_open_time=bt.open_time if bt else None,
                backtest_open_price=bt.open_price if bt else None,
                backtest_close_time=bt.close_time if bt else None,
                backtest_close_price=bt.close_price if bt else None,
                backtest_profit=bt.profit if bt else None,
                backtest_close_reason=bt.close_reason if bt else "",
                open_offset_seconds=diff.open_offset_seconds,
                entry_slippage_points=diff.entry_slippage_points,
                entry_slippage=diff.entry_slippage,
                exit_slippage_points=diff.exit_slippage_points,
                exit_slippage=diff.exit_slippage,
                profit_difference=diff.profit_difference,
                close_reason_differs=diff.close_reason_differs,
                note=note,
            )
        )
    DriftTrade.objects.filter(report=report).delete()
    DriftTrade.objects.bulk_create(rows)
    DriftReport.objects.filter(pk=report.pk).update(**_totals(report, rows, period_end, len(result.time)))


def _totals(report: DriftReport, rows: list[DriftTrade], period_end: datetime, bars: int) -> dict:
    """Counts, money totals, the verdict and a one-paragraph summary."""
    both = [r for r in rows if r.match == DriftMatch.BOTH]
    live_only = sum(r.match == DriftMatch.LIVE_ONLY for r in rows)
    backtest_only = sum(r.match == DriftMatch.BACKTEST_ONLY for r in rows)
    reasons = sum(r.close_reason_differs for r in rows)
    zero = Decimal(0)
    live_profit = sum(
        (
            r.live_profit
            for r in rows
            if r.live_profit is not None and r.live_close_time is not None and r.live_close_time <= period_end
        ),
        zero,
    )
    # The replay's end-of-test closes are artificial (live may still hold those trades): left out of the totals.
    backtest_profit = sum(
        (r.backtest_profit for r in rows if r.backtest_profit is not None and r.backtest_close_reason != "end_of_test"),
        zero,
    )
    entry = sum((r.entry_slippage for r in both if r.entry_slippage is not None), zero)
    exit_ = sum((r.exit_slippage for r in both if r.exit_slippage is not None), zero)
    prices_differ = any(
        r.entry_slippage_points
        or r.exit_slippage_points
        or r.open_offset_seconds
        or (r.profit_difference is not None and abs(r.profit_difference) >= PROFIT_TOLERANCE)
        for r in both
    )
    if live_only or backtest_only:
        verdict = DriftVerdict.TRADE_DRIFT
    elif prices_differ or reasons or abs(live_profit - backtest_profit) >= PROFIT_TOLERANCE:
        verdict = DriftVerdict.PRICE_DRIFT
    else:
        verdict = DriftVerdict.MATCH
    executions = Execution.objects.filter(
        instance_id=report.instance_id, bar_time__gte=report.start, bar_time__lte=report.end
    )
    runs = executions.count()
    failed = executions.exclude(status=ExecutionStatus.SUCCESS).count()
    currency = report.account_currency
    summary = (
        f"{DriftVerdict(verdict).label}. {len(both)} trades in both, {live_only} only live, {backtest_only} only in "
        f"the replay; {reasons} close reasons differ. Closed in the period: live P/L {live_profit.quantize(MONEY)} vs "
        f"replay {backtest_profit.quantize(MONEY)} {currency} (difference "
        f"{(live_profit - backtest_profit).quantize(MONEY)}). Slippage on paired trades: entries {entry} {currency}, "
        f"exits {exit_} {currency} (positive = live filled worse). {runs} live runs, {failed} failed or skipped; "
        f"{bars} bars replayed."
    )
    return {
        "status": RunStatus.DONE,
        "bars_replayed": bars,
        "live_executions": runs,
        "live_executions_failed": failed,
        "matched": len(both),
        "live_only": live_only,
        "backtest_only": backtest_only,
        "close_reason_differences": reasons,
        "live_profit": live_profit,
        "backtest_profit": backtest_profit,
        "profit_difference": live_profit - backtest_profit,
        "entry_slippage": entry,
        "exit_slippage": exit_,
        "verdict": verdict,
        "summary": summary,
        "finished_at": timezone.now(),
    }
