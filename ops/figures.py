"""Account figures shared by the metrics, the daily summary and the health page: open risk, drawdown."""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal

from trading.models import BrokerAccount, Side, Trade, TradeState
from trading.services.prices import PriceUnavailable, quote_to_account_rate

ZERO = Decimal(0)


@dataclass(frozen=True)
class OpenRisk:
    """What the open trades would lose if every stop loss were hit (account currency), and those without one."""

    at_stops: Decimal
    trades: int
    without_stop: int
    unpriced: int  # stops that could not be converted to the account currency


def open_risk(account: BrokerAccount) -> OpenRisk:
    """Loss to each open trade's stop from its entry (a stop already in profit risks nothing).

    Netting trades of a virtual account are left out: the instances' virtual trades carry the exposure.
    """
    trades = Trade.objects.filter(account=account, state=TradeState.OPEN, netting=False).select_related("instrument")
    total, count, without, unpriced = ZERO, 0, 0, 0
    rates: dict[int, Decimal] = {}
    for trade in trades:
        count += 1
        if trade.stop_loss is None:
            without += 1
            continue
        move = trade.stop_loss - trade.open_price if trade.side == Side.BUY else trade.open_price - trade.stop_loss
        if move >= 0:
            continue
        instrument = trade.instrument
        if instrument.pk not in rates:
            try:
                rates[instrument.pk] = quote_to_account_rate(instrument, account.currency, price=trade.stop_loss)
            except PriceUnavailable:
                unpriced += 1
                continue
        total += -move * trade.current_units * rates[instrument.pk]
    return OpenRisk(at_stops=total.quantize(Decimal("0.01")), trades=count, without_stop=without, unpriced=unpriced)
