"""MetaTrader history exports: MT4 ``2024.01.02,00:00,o,h,l,c,vol`` and MT5 ``<DATE>\\t<TIME>\\t…<SPREAD>``.

MetaTrader shows and exports bars in the broker's *server* time, so ``source_tz`` (a name from
:data:`trading.bars.brokertime.BROKER_TIMEZONES`, e.g. ``MT_GMT2_US_DST``) is required.
"""

from __future__ import annotations

from trading.bars.formats import generic
from trading.bars.validation import BarImportError, RawBars


def parse(
    text: str, *, file: str, source_tz: str | None = None, delimiter: str | None = None, date_format: str | None = None
) -> RawBars:
    if not source_tz:
        raise BarImportError(
            f"{file}: MetaTrader exports are in the broker's server time; pass source_tz "
            "(e.g. MT_GMT2_US_DST for a GMT+2/+3 broker on US DST dates, or UTC)"
        )
    return generic.parse(text, file=file, delimiter=delimiter, date_format=date_format, source_tz=source_tz)
