"""Latest prices from stored bars, and quote→account currency conversion.

Bars hold bid prices; the ask is the bid plus the bar's spread when the data has one, else the
instrument's configured spread.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import dataclass
from datetime import datetime, timedelta
from decimal import Decimal

from trading.models import Bar, Instrument, Timeframe


class PriceUnavailable(Exception):
    """No bar is stored for the instrument; import or fetch data first."""


@dataclass(frozen=True)
class LastPrice:
    bid: Decimal
    ask: Decimal
    time: datetime  # close time of the bar the price comes from


# Latest prices already read in the current bar close (run + dispatch), by instrument id; None outside one.
_memo: ContextVar[dict[int, LastPrice] | None] = ContextVar("asirikuy_last_price_memo", default=None)


@contextmanager
def prices_memo() -> Iterator[None]:
    """Within the block, ``last_price(instrument)`` reads each instrument's newest bar once.

    For one bar close: a batch's runs and the paper fills after them quote the same stored bar, which
    only changes when the next bar is written, so reading it again per order would only add round trips.
    """
    if _memo.get() is not None:  # nested: the outer block's memo serves
        yield
        return
    token = _memo.set({})
    try:
        yield
    finally:
        _memo.reset(token)


def last_price(instrument: Instrument, *, at: datetime | None = None) -> LastPrice:
    """Close of the newest complete bar (finest timeframe first) at or before ``at``."""
    memo = _memo.get() if at is None else None
    if memo is not None:
        price = memo.get(instrument.pk)
        if price is None:
            price = memo[instrument.pk] = _last_price(instrument, at=None)
        return price
    return _last_price(instrument, at=at)


def _last_price(instrument: Instrument, *, at: datetime | None) -> LastPrice:
    for timeframe in (Timeframe.M1, Timeframe.M5, Timeframe.M15, Timeframe.H1, Timeframe.H4, Timeframe.D1):
        qs = Bar.objects.filter(instrument=instrument, timeframe=timeframe, complete=True)
        if at is not None:
            qs = qs.filter(time__lte=at - timedelta(minutes=int(timeframe)))
        row = qs.order_by("-time").values_list("time", "close", "spread").first()
        if row is not None:
            time, close, spread = row
            bid = instrument.from_points(close)
            spread_points = spread if spread is not None else instrument.spread_points
            return LastPrice(
                bid=bid, ask=bid + instrument.from_points(spread_points), time=time + timedelta(minutes=int(timeframe))
            )
    raise PriceUnavailable(f"no bars stored for {instrument.symbol}; import data or start its feed")


def quote_to_account_rate(instrument: Instrument, account_currency: str, *, price: Decimal | None = None) -> Decimal:
    """How many account-currency units one unit of the instrument's quote currency is worth."""
    quote, base = instrument.quote_currency, instrument.base_currency
    if quote == account_currency:
        return Decimal(1)
    if base == account_currency:
        p = price if price is not None else last_price(instrument).bid
        return Decimal(1) / p
    direct = Instrument.objects.filter(base_currency=quote, quote_currency=account_currency).first()
    if direct is not None:
        return last_price(direct).bid
    inverse = Instrument.objects.filter(base_currency=account_currency, quote_currency=quote).first()
    if inverse is not None:
        return Decimal(1) / last_price(inverse).bid
    raise PriceUnavailable(
        f"cannot convert {quote} to {account_currency}: add {quote}{account_currency} or {account_currency}{quote}"
    )
