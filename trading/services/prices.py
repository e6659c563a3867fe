"""Latest prices from stored bars, and quote→account currency conversion.

Bars hold bid prices; the ask is the bid plus the bar's spread when the data has one, else the
instrument's configured spread.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import dataclass
from datetime import datetime, timedelta
from decimal import Decimal

from django.db.models import OuterRef, Q, Subquery

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
# The instrument converting a quote currency to an account currency (direct, inverse), as looked up in the block.
_pairs: ContextVar[dict[tuple[str, str], tuple[Instrument | None, Instrument | None]] | None] = ContextVar(
    "asirikuy_conversion_memo", default=None
)


@contextmanager
def prices_memo() -> Iterator[None]:
    """Within the block, ``last_price(instrument)`` reads each instrument's newest bar once.

    For one bar close: a batch's runs and the paper fills after them quote the same stored bar, which
    only changes when the next bar is written, so reading it again per order would only add round trips.
    """
    if _memo.get() is not None:  # nested: the outer block's memo serves
        yield
        return
    token, pairs_token = _memo.set({}), _pairs.set({})
    try:
        yield
    finally:
        _memo.reset(token)
        _pairs.reset(pairs_token)


def prices_prefetch(instruments: Iterable[Instrument], account_currency: str) -> None:
    """Inside ``prices_memo``: the newest M1 bar of ``instruments`` and of the instruments converting their quote
    currencies to ``account_currency``, in two queries instead of two or three per instrument. An instrument
    without an M1 bar is left to ``last_price`` (which falls back to coarser timeframes)."""
    memo, pairs = _memo.get(), _pairs.get()
    if memo is None or pairs is None:
        return
    wanted = {i.pk: i for i in instruments}
    quotes = {
        i.quote_currency
        for i in wanted.values()
        if account_currency not in (i.quote_currency, i.base_currency)
        and (i.quote_currency, account_currency) not in pairs
    }
    if quotes:
        found = Instrument.objects.filter(
            Q(base_currency__in=quotes, quote_currency=account_currency)
            | Q(base_currency=account_currency, quote_currency__in=quotes)
        ).order_by("symbol")
        by_pair: dict[tuple[str, str], Instrument] = {}
        for inst in found:
            by_pair.setdefault((inst.base_currency, inst.quote_currency), inst)
        for quote in quotes:
            pair = (by_pair.get((quote, account_currency)), by_pair.get((account_currency, quote)))
            pairs[(quote, account_currency)] = pair
            wanted.update({inst.pk: inst for inst in pair if inst is not None})
    missing = [pk for pk in wanted if pk not in memo]
    if not missing:
        return
    newest = Bar.objects.filter(instrument=OuterRef("pk"), timeframe=Timeframe.M1, complete=True).order_by("-time")
    rows = (
        Instrument.objects.filter(pk__in=missing)
        .annotate(
            bar_time=Subquery(newest.values("time")[:1]),
            bar_close=Subquery(newest.values("close")[:1]),
            bar_spread=Subquery(newest.values("spread")[:1]),
        )
        .order_by()
        .values_list("pk", "bar_time", "bar_close", "bar_spread")
    )
    for pk, time, close, spread in rows:
        if time is not None:
            memo[pk] = _price(wanted[pk], Timeframe.M1, time, close, spread)


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
            return _price(instrument, timeframe, *row)
    raise PriceUnavailable(f"no bars stored for {instrument.symbol}; import data or start its feed")


def _price(instrument: Instrument, timeframe: int, time: datetime, close: int, spread: int | None) -> LastPrice:
    bid = instrument.from_points(close)
    spread_points = spread if spread is not None else instrument.spread_points
    return LastPrice(
        bid=bid, ask=bid + instrument.from_points(spread_points), time=time + timedelta(minutes=int(timeframe))
    )


def quote_to_account_rate(instrument: Instrument, account_currency: str, *, price: Decimal | None = None) -> Decimal:
    """How many account-currency units one unit of the instrument's quote currency is worth."""
    quote, base = instrument.quote_currency, instrument.base_currency
    if quote == account_currency:
        return Decimal(1)
    if base == account_currency:
        p = price if price is not None else last_price(instrument).bid
        return Decimal(1) / p
    pairs = _pairs.get()
    known = pairs.get((quote, account_currency)) if pairs is not None else None
    if known is not None:
        direct, inverse = known
    else:
        direct = Instrument.objects.filter(base_currency=quote, quote_currency=account_currency).first()
        inverse = None
        if direct is None:
            inverse = Instrument.objects.filter(base_currency=account_currency, quote_currency=quote).first()
        if pairs is not None:
            pairs[(quote, account_currency)] = (direct, inverse)
    if direct is not None:
        return last_price(direct).bid
    if inverse is not None:
        return Decimal(1) / last_price(inverse).bid
    raise PriceUnavailable(
        f"cannot convert {quote} to {account_currency}: add {quote}{account_currency} or {account_currency}{quote}"
    )
