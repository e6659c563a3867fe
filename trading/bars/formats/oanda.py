"""OANDA v20 candles JSON, as returned by ``GET /v3/instruments/{instrument}/candles``.

Reference: https://developer.oanda.com/rest-live-v20/instrument-ep/ — ``granularity`` gives the timeframe,
``time`` is RFC 3339 (or UNIX seconds with ``Accept-Datetime-Format: UNIX``), prices are strings under
``mid``/``bid``/``ask``; ``complete: false`` marks the forming candle (stored with ``complete=False``).
JSON has no useful line numbers, so errors give the candle's position (1-based) as the line.
"""

from __future__ import annotations

import json

import numpy as np

from trading.bars.validation import BarImportError, RawBars, RowError

GRANULARITIES = {"M1": 1, "M5": 5, "M15": 15, "M30": 30, "H1": 60, "H4": 240, "D": 1440, "W": 10080, "M": 43200}
_KEYS = {"open": "o", "high": "h", "low": "l", "close": "c"}


def parse(text: str, *, file: str, price: str = "mid") -> RawBars:
    try:
        document = json.loads(text)
    except json.JSONDecodeError as e:
        raise BarImportError(f"{file}: not JSON: {e}", [RowError(file, e.lineno, "json", "", e.msg)]) from e
    candles = document.get("candles") if isinstance(document, dict) else None
    if not isinstance(candles, list):
        raise BarImportError(f"{file}: no 'candles' list in the JSON document")
    granularity = document.get("granularity")
    if granularity is not None and granularity not in GRANULARITIES:
        raise BarImportError(f"{file}: unsupported granularity {granularity!r}")
    errors: list[RowError] = []
    columns: dict[str, list[str]] = {"time": [], "open": [], "high": [], "low": [], "close": [], "volume": []}
    complete, lines = [], []
    for i, candle in enumerate(candles):
        prices = candle.get(price) if isinstance(candle, dict) else None
        if not isinstance(prices, dict):
            errors.append(
                RowError(file, i + 1, f"candles[{i}].{price}", str(candle)[:80], f"candle has no {price!r} prices")
            )
            continue
        lines.append(i + 1)
        columns["time"].append(str(candle.get("time", "")))
        for name, key in _KEYS.items():
            columns[name].append(str(prices.get(key, "")))
        columns["volume"].append(str(candle.get("volume", 0)))
        complete.append(bool(candle.get("complete", True)))
    sample = columns["time"][0] if columns["time"] else ""
    fmt = "unix" if sample.replace(".", "").isdigit() else "%Y-%m-%dT%H:%M:%S.%fZ"
    if sample.endswith("Z") and "." not in sample:
        fmt = "%Y-%m-%dT%H:%M:%SZ"
    return RawBars(
        file=file,
        lines=np.asarray(lines, dtype=np.int64),
        time=columns["time"],
        time_format=fmt,
        time_field="time",
        open=columns["open"],
        high=columns["high"],
        low=columns["low"],
        close=columns["close"],
        volume=columns["volume"],
        complete=np.asarray(complete, dtype=bool),
        timeframe=GRANULARITIES.get(granularity) if granularity else None,
        errors=errors,
        notes={"instrument": str(document.get("instrument", "")), "price": price},
    )
