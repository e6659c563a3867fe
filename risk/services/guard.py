"""Guard rails on a run's intents, before any order is written.

Only opening intents are checked; closes, modifies and cancels of the instance's own positions always go.
Each opening intent meets, in order: kill switch, the instance's own ``max_open_orders``, then each limit's
drawdown, daily loss, open trades, fat finger, currency exposure, spread. The first rule that trips blocks it;
the block is stored with the figures that tripped it and repeated in the execution's signal notes.

Orders in flight count everywhere: an entry not sent yet, being sent, or whose answer was lost (NEW,
SUBMITTING, UNKNOWN) counts as an open position and as exposure, so no instance passes its limits because an
earlier order has not been answered yet.
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from datetime import datetime
from decimal import Decimal

from django.db.models import Q

from risk.models import BlockedSignal, BlockRule, RiskLimit
from risk.services import figures
from risk.services.kill_switch import kill_switch_engaged
from trading.models import Execution, StrategyInstance
from trading.services.execution.translate import Intent, Translation
from trading.services.prices import PriceUnavailable

RATIO_PLACES = Decimal("0.0001")


@dataclass
class _Scope:
    """One limit row and what this run has already let through under it."""

    limit: RiskLimit
    extra_positions: int = 0
    extra_exposure: dict[str, Decimal] = field(default_factory=dict)
    exposure: dict[str, Decimal] | None = None

    @property
    def name(self) -> str:
        return "instance" if self.limit.instance_id else "account"


def _intent_json(intent: Intent) -> dict[str, object]:
    def s(value: Decimal | None) -> str | None:
        return None if value is None else str(value)

    return {
        "kind": intent.kind,
        "row": intent.row,
        "type": intent.order_type,
        "side": intent.side,
        "units": s(intent.units),
        "price": s(intent.price),
        "sl": s(intent.stop_loss),
        "tp": s(intent.take_profit),
    }


def _q(value: Decimal) -> str:
    return str(value.quantize(RATIO_PLACES))


@dataclass(frozen=True)
class RiskContext:
    """What the guard reads once per account and bar close, shared by every instance of a batch."""

    kill_switch: bool
    account_limits: list[RiskLimit]
    instance_limits: dict[int, list[RiskLimit]]

    def limits_for(self, instance_id: int) -> list[RiskLimit]:
        return [*self.account_limits, *self.instance_limits.get(instance_id, [])]


def risk_context_load(*, account_id: int, instance_ids: list[int]) -> RiskContext:
    """Kill switch and the limits covering ``instance_ids`` of one account: two queries for a whole batch."""
    limits = RiskLimit.objects.filter(
        Q(account_id=account_id, instance__isnull=True) | Q(instance_id__in=instance_ids)
    ).select_related("instance")
    account_limits: list[RiskLimit] = []
    instance_limits: dict[int, list[RiskLimit]] = {}
    for limit in limits:
        if limit.instance_id is None:
            account_limits.append(limit)
        else:
            instance_limits.setdefault(limit.instance_id, []).append(limit)
    return RiskContext(kill_switch_engaged(account_id), account_limits, instance_limits)


class _Checker:
    def __init__(
        self,
        instance: StrategyInstance,
        bid: Decimal,
        ask: Decimal,
        now: datetime,
        context: RiskContext,
        *,
        held: int,
    ) -> None:
        self.instance, self.account, self.instrument = instance, instance.account, instance.instrument
        self.bid, self.ask, self.now = bid, ask, now
        # Account-wide limits first, then the instance's own.
        self.scopes = [_Scope(limit) for limit in context.limits_for(instance.instance_id)]
        self.kill_switch = context.kill_switch
        self.held = held  # the instance's positions, entries in flight included, after this run's own exits

    def check(self, intent: Intent) -> tuple[str, dict[str, object]] | None:
        if self.kill_switch:
            return BlockRule.KILL_SWITCH, {"kill_switch": "engaged"}
        limit = self.instance.max_open_orders
        if self.held >= limit:
            return BlockRule.MAX_OPEN_TRADES, {"scope": "instance settings", "open": self.held, "limit": limit}
        for scope in self.scopes:
            blocked = self._check_scope(scope, intent)
            if blocked is not None:
                rule, values = blocked
                return rule, {"scope": scope.name, **values}
        self.held += 1
        for scope in self.scopes:  # let through: count it against the next intents of this run
            scope.extra_positions += 1
            for currency, delta in self._exposure_delta(intent).items():
                scope.extra_exposure[currency] = scope.extra_exposure.get(currency, Decimal(0)) + delta
        return None

    def _check_scope(self, scope: _Scope, intent: Intent) -> tuple[str, dict[str, object]] | None:
        limit, account = scope.limit, self.account
        instance = limit.instance
        if limit.max_drawdown_pct is not None:
            pct, peak, current = figures.drawdown(limit, account)
            if pct >= limit.max_drawdown_pct:
                return BlockRule.MAX_DRAWDOWN, {
                    "drawdown_pct": _q(pct),
                    "peak": str(peak),
                    "current": str(current),
                    "limit_pct": str(limit.max_drawdown_pct),
                }
        if limit.daily_loss_limit is not None:
            pl = figures.daily_pl(account, instance, self.now)
            if -pl >= limit.daily_loss_limit:
                return BlockRule.DAILY_LOSS, {
                    "daily_pl": str(pl),
                    "limit": str(limit.daily_loss_limit),
                    "day_start": figures.fx_day_start(self.now).isoformat(),
                }
        if limit.max_open_trades is not None:
            count = figures.open_positions(account, instance) + scope.extra_positions
            if count >= limit.max_open_trades:
                return BlockRule.MAX_OPEN_TRADES, {"open": count, "limit": limit.max_open_trades}
        if limit.max_order_equity_ratio is not None:
            try:
                n = figures.notional(self.instrument, account.currency, intent.units, self._price(intent))
            except PriceUnavailable as e:
                return BlockRule.FAT_FINGER, {"error": str(e), "limit": str(limit.max_order_equity_ratio)}
            ratio = n / account.equity if account.equity > 0 else None
            if ratio is None or ratio > limit.max_order_equity_ratio:
                return BlockRule.FAT_FINGER, {
                    "notional": str(n),
                    "equity": str(account.equity),
                    "ratio": _q(ratio) if ratio is not None else "inf",
                    "limit": str(limit.max_order_equity_ratio),
                }
        if limit.max_currency_exposure_ratio is not None:
            blocked = self._check_exposure(scope, intent)
            if blocked is not None:
                return blocked
        if limit.max_spread_points is not None:
            points = (self.ask - self.bid) / self.instrument.point
            if points > limit.max_spread_points:
                return BlockRule.SPREAD, {
                    "spread_points": str(points),
                    "bid": str(self.bid),
                    "ask": str(self.ask),
                    "limit": limit.max_spread_points,
                }
        return None

    def _price(self, intent: Intent) -> Decimal:
        return intent.price or (self.ask if intent.side == "buy" else self.bid)

    def _exposure_delta(self, intent: Intent) -> dict[str, Decimal]:
        try:
            n = figures.notional(self.instrument, self.account.currency, intent.units, self._price(intent))
        except PriceUnavailable:
            return {}
        sign = 1 if intent.side == "buy" else -1
        return {self.instrument.base_currency: sign * n, self.instrument.quote_currency: -sign * n}

    def _check_exposure(self, scope: _Scope, intent: Intent) -> tuple[str, dict[str, object]] | None:
        limit, equity = scope.limit, self.account.equity
        assert limit.max_currency_exposure_ratio is not None
        if scope.exposure is None:
            scope.exposure = figures.currency_exposure(self.account, limit.instance)
        try:
            figures.notional(self.instrument, self.account.currency, intent.units, self._price(intent))
        except PriceUnavailable as e:
            return BlockRule.CURRENCY_EXPOSURE, {"error": str(e)}
        for currency, delta in self._exposure_delta(intent).items():
            if currency == self.account.currency:
                continue
            before = scope.exposure.get(currency, Decimal(0)) + scope.extra_exposure.get(currency, Decimal(0))
            after = before + delta
            if abs(after) <= abs(before):
                continue  # reduces (or keeps) this currency's exposure
            if equity <= 0 or abs(after) / equity > limit.max_currency_exposure_ratio:
                return BlockRule.CURRENCY_EXPOSURE, {
                    "currency": currency,
                    "exposure_before": str(before),
                    "exposure_after": str(after),
                    "equity": str(equity),
                    "ratio": _q(abs(after) / equity) if equity > 0 else "inf",
                    "limit": str(limit.max_currency_exposure_ratio),
                }
        return None


def intents_check(
    *,
    instance: StrategyInstance,
    execution: Execution | None,
    translation: Translation,
    bid: Decimal,
    ask: Decimal,
    now: datetime,
    context: RiskContext | None = None,
    open_count: int | None = None,
) -> Translation:
    """Return ``translation`` without the opening intents a guard rail blocks; record each block.

    ``context``: the batch's shared kill switch and limits (read once per bar close); loaded here when None.
    ``open_count``: the instance's open trades + entries pending or in flight, as its book was read for this
    run; counted here when None.
    """
    if not any(intent.kind == "open" for intent in translation.intents):
        return translation
    if context is None:
        context = risk_context_load(account_id=instance.account_id, instance_ids=[instance.instance_id])
    if open_count is None:
        open_count = figures.open_positions(instance.account, instance)
    # This run's own exits go out before its entries (closes first, one instrument's orders in sequence).
    exits = sum(1 for intent in translation.intents if intent.kind in ("close", "cancel"))
    checker = _Checker(instance, bid, ask, now, context, held=max(open_count - exits, 0))
    allowed: list[Intent] = []
    notes: list[str] = []
    blocks: list[BlockedSignal] = []
    for intent in translation.intents:
        verdict = checker.check(intent) if intent.kind == "open" else None
        if verdict is None:
            allowed.append(intent)
            continue
        rule, values = verdict
        blocks.append(
            BlockedSignal(
                account_id=instance.account_id,
                instance=instance,
                execution=execution,
                rule=rule,
                intent=_intent_json(intent),
                values=values,
                created_at=now,
            )
        )
        notes.append(f"row {intent.row}: {intent.side} {intent.units} blocked by {rule}: {values}")
    if blocks:
        BlockedSignal.objects.bulk_create(blocks)
    return replace(translation, intents=allowed, notes=[*translation.notes, *notes])
