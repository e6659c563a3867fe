"""Parsers of the bar file formats users have; each returns :class:`trading.bars.validation.RawBars`.

``csv`` (generic, header or not, delimiter and date format detected or given), ``metatrader`` (MT4
history export and MT5 "Export Bars"), ``histdata`` (HistData.com M1 ASCII), ``dukascopy`` (Dukascopy
historical data CSV) and ``oanda`` (OANDA v20 candles JSON). :func:`detect_format` picks one from the
first line of the text.
"""

from __future__ import annotations

import re
from collections.abc import Callable

from trading.bars.formats import dukascopy, generic, histdata, metatrader, oanda
from trading.bars.validation import BarImportError, RawBars

Parser = Callable[..., RawBars]

PARSERS: dict[str, Parser] = {
    "csv": generic.parse,
    "metatrader": metatrader.parse,
    "histdata": histdata.parse,
    "dukascopy": dukascopy.parse,
    "oanda": oanda.parse,
}

_HISTDATA = re.compile(r"^\d{8} \d{6};")
_MT4 = re.compile(r"^\d{4}\.\d{2}\.\d{2},\d{2}:\d{2},")


def detect_format(text: str, file: str = "") -> str:
    """Name of the format of ``text`` judging by its first non-blank line."""
    head = text.lstrip("\ufeff \r\n\t")
    if head.startswith("{") or file.lower().endswith(".json"):
        return "oanda"
    first = head.split("\n", 1)[0].strip()
    lowered = first.lower()
    if lowered.startswith(("gmt time", "time (utc)", "local time")):
        return "dukascopy"
    if _HISTDATA.match(first):
        return "histdata"
    if _MT4.match(first) or first.startswith("<DATE>"):
        return "metatrader"
    return "csv"


def parse(text: str, *, fmt: str | None, file: str, **options) -> tuple[str, RawBars]:
    name = fmt or detect_format(text, file)
    if name not in PARSERS:
        raise BarImportError(f"unknown format {name!r}; known: {', '.join(PARSERS)}")
    return name, PARSERS[name](text, file=file, **options)
