"""Generic delimited text: header or not, delimiter and date format detected or given.

Columns are found by header name (date/time/datetime/timestamp, open, high, low, close, volume/tickvol,
spread; MetaTrader's ``<DATE>`` style too) or, without a header, by position: ``datetime, open, high, low,
close[, volume[, spread]]`` or ``date, time, open, high, low, close[, volume[, spread]]``.
"""

from __future__ import annotations

import re
from datetime import datetime

import numpy as np

from trading.bars.validation import BarImportError, RawBars, RowError

DATE_FORMATS = (
    "%Y-%m-%d %H:%M:%S",
    "%Y-%m-%d %H:%M",
    "%Y-%m-%dT%H:%M:%S",
    "%Y-%m-%dT%H:%M:%SZ",
    "%Y-%m-%dT%H:%M",
    "%Y.%m.%d %H:%M:%S",
    "%Y.%m.%d %H:%M",
    "%Y%m%d %H%M%S",
    "%Y%m%d %H:%M:%S",
    "%Y%m%d %H:%M",
    "%d.%m.%Y %H:%M:%S.%f",
    "%d.%m.%Y %H:%M:%S",
    "%d.%m.%Y %H:%M",
    "%Y/%m/%d %H:%M:%S",
    "%Y/%m/%d %H:%M",
    "%m/%d/%Y %H:%M:%S",
    "%m/%d/%Y %H:%M",
    "%d/%m/%Y %H:%M:%S",
    "%d/%m/%Y %H:%M",
)
DELIMITERS = ("\t", ";", ",", "|")
_NAMES = {
    "date": "date",
    "<date>": "date",
    "day": "date",
    "time": "time",
    "<time>": "time",
    "datetime": "datetime",
    "timestamp": "datetime",
    "date time": "datetime",
    "gmt time": "datetime",
    "time (utc)": "datetime",
    "local time": "datetime",
    "open": "open",
    "<open>": "open",
    "o": "open",
    "high": "high",
    "<high>": "high",
    "h": "high",
    "low": "low",
    "<low>": "low",
    "l": "low",
    "close": "close",
    "<close>": "close",
    "c": "close",
    "volume": "volume",
    "vol": "volume",
    "tickvol": "volume",
    "<tickvol>": "volume",
    "tick volume": "volume",
    "spread": "spread",
    "<spread>": "spread",
}
_TIME_ONLY = re.compile(r"^\d{1,2}:\d{2}(:\d{2})?$")


def detect_delimiter(line: str) -> str:
    counts = {d: line.count(d) for d in DELIMITERS}
    best = max(counts, key=counts.__getitem__)
    if counts[best] < 4 and " " in line.strip():
        return " "
    return best


def detect_date_format(samples: list[str]) -> str:
    """The first candidate format that reads every sample (or "unix" for epoch seconds)."""
    samples = [s.strip() for s in samples if s.strip()]
    if samples and all(re.fullmatch(r"\d{9,10}(\.\d+)?", s) for s in samples):
        return "unix"
    for fmt in DATE_FORMATS:
        try:
            for sample in samples:
                datetime.strptime(sample, fmt)  # noqa: DTZ007 - only checks the shape
        except ValueError:
            continue
        return fmt
    raise BarImportError(f"cannot detect the date format of {samples[:1]}; pass date_format")


def split_table(
    text: str, *, file: str, delimiter: str | None, has_header: bool | None, skip_lines: int = 0
) -> tuple[list[str] | None, list[list[str]], np.ndarray, list[RowError], str]:
    """Split text into (header, columns, line numbers, errors of rows with the wrong width, delimiter)."""
    lines = text.lstrip("\ufeff").splitlines()
    numbered = [(i + 1, line) for i, line in enumerate(lines) if i >= skip_lines and line.strip()]
    if not numbered:
        raise BarImportError(f"{file}: no data rows")
    delimiter = delimiter or detect_delimiter(numbered[0][1])
    header = None
    first = numbered[0][1].split(delimiter)
    if has_header is None:
        has_header = not first[0].strip()[:1].isdigit()
    if has_header:
        header = [h.strip() for h in first]
        numbered = numbered[1:]
    rows = [
        line.rstrip(delimiter + " ").split(delimiter) if delimiter == " " else line.split(delimiter)
        for _, line in numbered
    ]
    numbers = np.fromiter((n for n, _ in numbered), dtype=np.int64, count=len(numbered))
    width = len(header) if header else len(rows[0]) if rows else 0
    widths = np.fromiter(map(len, rows), dtype=np.int64, count=len(rows))
    errors = []
    if (widths != width).any():
        keep = widths == width
        for i in np.flatnonzero(~keep):
            errors.append(
                RowError(file, int(numbers[i]), "row", numbered[i][1], f"has {widths[i]} fields, expected {width}")
            )
        rows = [r for r, k in zip(rows, keep, strict=True) if k]
        numbers = numbers[keep]
    columns = [list(c) for c in zip(*rows, strict=True)] if rows else [[] for _ in range(width)]
    return header, columns, numbers, errors, delimiter


def to_raw(
    header: list[str] | None,
    columns: list[list[str]],
    numbers: np.ndarray,
    errors: list[RowError],
    *,
    file: str,
    date_format: str | None,
    source_tz: str,
) -> RawBars:
    """Map columns by header names (or position) to a RawBars."""
    if header:
        roles = {}
        for index, name in enumerate(header):
            role = _NAMES.get(name.strip().lower())
            if role and role not in roles:
                roles[role] = index
    else:
        separate_time = len(columns) > 1 and bool(columns[1]) and bool(_TIME_ONLY.match(columns[1][0].strip()))
        names = (["date", "time"] if separate_time else ["datetime"]) + [
            "open",
            "high",
            "low",
            "close",
            "volume",
            "spread",
        ]
        roles = {name: i for i, name in enumerate(names[: len(columns)])}
    if "time" in roles and not {"date", "datetime"} & roles.keys():
        roles["datetime"] = roles.pop("time")  # a lone "time" column holds date and time
    missing = [r for r in ("open", "high", "low", "close") if r not in roles]
    if missing or not ({"datetime"} & roles.keys() or {"date", "time"} <= roles.keys()):
        raise BarImportError(f"{file}: cannot find the columns {missing or ['date/time']} in header {header}")
    if "datetime" in roles:
        times, field = columns[roles["datetime"]], header[roles["datetime"]] if header else "time"
    else:
        dates, clock = columns[roles["date"]], columns[roles["time"]]
        times = [f"{d} {t}" for d, t in zip(dates, clock, strict=True)]
        field = "date time"
    fmt = date_format or detect_date_format(times[:50])
    return RawBars(
        file=file,
        lines=numbers,
        time=times,
        time_format=fmt,
        time_field=field,
        source_tz=source_tz,
        open=columns[roles["open"]],
        high=columns[roles["high"]],
        low=columns[roles["low"]],
        close=columns[roles["close"]],
        volume=columns[roles["volume"]] if "volume" in roles else None,
        spread=columns[roles["spread"]] if "spread" in roles else None,
        errors=errors,
        notes={"date_format": fmt},
        layout={"header": header is not None, "width": len(header) if header else len(columns), "roles": roles},
    )


def parse(
    text: str,
    *,
    file: str,
    delimiter: str | None = None,
    has_header: bool | None = None,
    date_format: str | None = None,
    source_tz: str = "UTC",
) -> RawBars:
    header, columns, numbers, errors, delimiter = split_table(
        text, file=file, delimiter=delimiter, has_header=has_header
    )
    raw = to_raw(header, columns, numbers, errors, file=file, date_format=date_format, source_tz=source_tz)
    raw.notes["delimiter"] = delimiter
    return raw
