"""Dukascopy historical data CSV: ``Gmt time,Open,High,Low,Close,Volume`` with ``02.01.2024 00:00:00.000``.

Times are UTC. Dukascopy fills closed-market periods (weekends, holidays) with flat zero-volume bars;
those are dropped unless ``keep_flat=True`` and counted in the report. Volumes are fractional (lots) and
are rounded to integers.
"""

from __future__ import annotations

import numpy as np

from trading.bars.formats import generic
from trading.bars.validation import RawBars


def parse(text: str, *, file: str, keep_flat: bool = False, date_format: str | None = None) -> RawBars:
    raw = generic.parse(text, file=file, delimiter=",", has_header=True, date_format=date_format, source_tz="UTC")
    if keep_flat or raw.volume is None:
        return raw
    flat = np.array(
        [
            v.strip() in ("0", "0.0", "0.00", "0.0000") and o == h == lo == c
            for v, o, h, lo, c in zip(raw.volume, raw.open, raw.high, raw.low, raw.close, strict=True)
        ],
        dtype=bool,
    )
    if flat.any():
        keep = ~flat
        for name in ("time", "open", "high", "low", "close", "volume"):
            values = getattr(raw, name)
            setattr(raw, name, [v for v, k in zip(values, keep, strict=True) if k])
        raw.lines = raw.lines[keep]
        raw.dropped = int(flat.sum())
    return raw
