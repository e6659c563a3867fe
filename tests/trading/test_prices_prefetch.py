"""A bar close reads the quotes of its instruments and their conversions in two queries, with the same results."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from decimal import Decimal

import pytest

from trading.models import Bar, Instrument
from trading.services.prices import PriceUnavailable, last_price, prices_memo, prices_prefetch, quote_to_account_rate

T0 = datetime(2024, 3, 12, 10, 0, tzinfo=UTC)


def _instrument(symbol: str, digits: int = 5) -> Instrument:
    return Instrument.objects.create(
        symbol=symbol, base_currency=symbol[:3], quote_currency=symbol[3:], digits=digits, spread_points=7
    )


def _bars(instrument: Instrument, timeframe: int, closes: list[int], *, incomplete_after: bool = False) -> None:
    for n, close in enumerate(closes):
        Bar.objects.create(
            instrument=instrument,
            timeframe=timeframe,
            time=T0 + timedelta(minutes=timeframe * n),
            open=close,
            high=close + 5,
            low=close - 5,
            close=close,
            spread=3 if n == len(closes) - 1 else None,
        )
    if incomplete_after:  # a forming bar is never a price
        Bar.objects.create(
            instrument=instrument,
            timeframe=timeframe,
            time=T0 + timedelta(minutes=timeframe * len(closes)),
            open=1,
            high=1,
            low=1,
            close=1,
            complete=False,
        )


def _figures(instruments: list[Instrument]) -> list[object]:
    out: list[object] = []
    for instrument in instruments:
        out.append(last_price(instrument))
        try:
            out.append(quote_to_account_rate(instrument, "USD"))
        except PriceUnavailable as e:
            out.append(str(e))
    return out


@pytest.mark.django_db
def test_prefetched_quotes_and_conversions_are_those_read_one_by_one(django_assert_num_queries):
    eurusd, eurgbp, eurjpy, audcad = (_instrument(s) for s in ("EURUSD", "EURGBP", "EURJPY", "AUDCAD"))
    gbpusd, usdjpy, nzdusd = _instrument("GBPUSD"), _instrument("USDJPY", digits=3), _instrument("NZDUSD")
    _bars(eurusd, 1, [110000, 110020], incomplete_after=True)
    _bars(eurgbp, 1, [85000, 85010])
    _bars(eurjpy, 1, [160000, 160100])
    _bars(audcad, 1, [89000])
    _bars(gbpusd, 1, [127000, 127050])
    _bars(usdjpy, 1, [150000, 150200])
    _bars(nzdusd, 5, [61000, 61010])  # no M1 bars: the price comes from M5, read on its own
    wanted = [eurusd, eurgbp, eurjpy, audcad, nzdusd]
    one_by_one = _figures(wanted)

    with prices_memo():
        with django_assert_num_queries(2):  # the conversion instruments, then every newest M1 bar
            prices_prefetch(wanted, "USD")
        with django_assert_num_queries(2):  # NZDUSD: no M1 bar, then its M5 bar
            prefetched = _figures(wanted)

    assert prefetched == one_by_one
    assert one_by_one[0].bid == Decimal("1.10020") and one_by_one[0].ask == Decimal("1.10023")  # newest complete
    assert one_by_one[3] == Decimal("1.27050")  # GBP to USD: GBPUSD
    assert one_by_one[5] == Decimal(1) / Decimal("150.200")  # JPY to USD: 1 / USDJPY
    assert "cannot convert CAD to USD" in str(one_by_one[7])
    assert one_by_one[8].time == T0 + timedelta(minutes=10)  # the M5 bar's close time
