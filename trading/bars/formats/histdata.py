"""HistData.com M1 ASCII: ``20240102 170000;1.103210;1.103300;1.103100;1.103250;0``, no header.

Reference: https://www.histdata.com/f-a-q/data-files-detailed-specification/ — times are EST *without*
daylight saving (fixed UTC-5) all year, hence the ``HISTDATA_EST`` clock.
"""

from __future__ import annotations

from trading.bars.formats import generic
from trading.bars.validation import RawBars


def parse(text: str, *, file: str, source_tz: str = "HISTDATA_EST") -> RawBars:
    raw = generic.parse(
        text, file=file, delimiter=";", has_header=False, date_format="%Y%m%d %H%M%S", source_tz=source_tz
    )
    raw.timeframe = raw.timeframe or 1
    return raw
