"""Vectorised reading of well-formed delimited bar files (generic CSV, MetaTrader, HistData).

The exact per-line parsers (:mod:`trading.bars.formats.generic` and :func:`trading.bars.validation.build_bars`)
cost several seconds per million rows. This module reads the same files with numpy over the raw bytes:
lines and fields are found from the positions of the newline and delimiter bytes, times are decoded from
a (rows, width) matrix of character codes with the same fixed-width layout :func:`~trading.bars.validation.
parse_times` uses, and prices become integer points by reading their digits without the '.' and scaling by
the number of decimals of each value.

It only accepts what it can read exactly as the per-line path does: an ASCII file with ``\\n`` or ``\\r\\n``
line ends, no blank or short lines, every time the same width, prices of plain digits with at most one '.'
(at most 15 digits), and volumes and spreads of plain digits (optionally with decimals). Anything else,
and every file that fails a validation rule, returns None, and the caller runs the per-line path, which
gives the exact error report (file, line, field, value).
"""

from __future__ import annotations

import numpy as np

from trading.bars.validation import PRICE_FIELDS, RawBars, fixed_layout, parse_fixed_codes

_MAX_DIGITS = 15  # exact in float64, so the values equal the per-line path's float parse
_POINTS_LIMIT = 2**50  # below this rint(float(text) * 10**digits) is the exact integer the text means
_ALLOWED = bytes(range(0x20, 0x7F)) + b"\t\n"
_MARGIN = 64  # spaces before the data, more than the widest field read
_NEWLINE, _DOT, _ZERO, _NINE = 10, 46, 48, 57


class _Reject(Exception):
    """The file does not fit the fast path."""


def _field_matrix(
    buf: np.ndarray, starts: np.ndarray, ends: np.ndarray, max_width: int
) -> tuple[np.ndarray, np.ndarray]:
    """Right-aligned (rows, width) char codes of fields ``buf[starts:ends]`` and the mask of padding cells."""
    lengths = ends - starts
    width = int(lengths.max()) if len(lengths) else 0
    if width == 0 or width > max_width or (lengths <= 0).any():
        raise _Reject
    # Row i is the `width` bytes ending at ends[i]: one gather of contiguous windows (buf starts with
    # _MARGIN spaces, so every window is inside it).
    codes = np.lib.stride_tricks.sliding_window_view(buf, width)[ends - width]
    if lengths.min() == width:
        return codes, np.zeros(codes.shape, dtype=bool)
    pad = np.arange(-width, 0)[None, :] < -lengths[:, None]
    return codes, pad


def _powers(width: int) -> np.ndarray:
    return 10 ** np.arange(width - 1, -1, -1, dtype=np.int64)


def _decimal_digits(codes: np.ndarray, pad: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """(value of the digits without the '.', number of decimals) per row; rejects anything but [0-9]+(.[0-9]*)?"""
    width = codes.shape[1]
    digits = codes - np.uint8(_ZERO)  # wraps below '0': anything but a digit is > 9
    dotted = codes == _DOT
    if not dotted.any():
        # Whole numbers, right-aligned: padding reads as leading zeros.
        digits[pad] = 0
        if (digits > 9).any() or width > _MAX_DIGITS:
            raise _Reject
        return digits.astype(np.int64) @ _powers(width), np.zeros(len(codes), dtype=np.int64)
    where = int(np.argmax(dotted[0]))
    if 0 < where < width - 1 and not pad.any() and dotted[:, where].all():
        # Every value the same width with the '.' in the same place, as in "1.10321".
        rest = np.delete(digits, where, axis=1)
        if (rest > 9).any() or width - 1 > _MAX_DIGITS:
            raise _Reject
        return rest.astype(np.int64) @ _powers(width - 1), np.full(len(codes), width - 1 - where, dtype=np.int64)
    return _decimal_digits_any(codes, pad)


def _decimal_digits_any(codes: np.ndarray, pad: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    is_digit = (codes >= _ZERO) & (codes <= _NINE) & ~pad
    is_dot = (codes == _DOT) & ~pad
    if not (is_digit | is_dot | pad).all():
        raise _Reject
    dots = is_dot.sum(axis=1)
    count = is_digit.sum(axis=1)
    if (dots > 1).any() or (count == 0).any() or (count > _MAX_DIGITS).any():
        raise _Reject
    # First char must be a digit, as in "1.5" (".5" and "5." are left to the per-line path).
    width = codes.shape[1]
    first = width - (~pad).sum(axis=1)
    if not is_digit[np.arange(len(codes)), first].all() or is_dot[:, -1].any():
        raise _Reject
    dots_right = np.cumsum(is_dot[:, ::-1], axis=1)[:, ::-1] - is_dot  # dots strictly right of each cell
    power = (width - 1 - np.arange(width))[None, :] - dots_right
    digits = np.where(is_digit, codes.astype(np.int64) - _ZERO, 0)
    value = (digits * np.power(10, np.where(is_digit, power, 0), dtype=np.int64)).sum(axis=1)
    decimals = np.where(dots > 0, width - 1 - np.argmax(is_dot, axis=1), 0)
    return value, decimals


def _points(codes: np.ndarray, pad: np.ndarray, digits: int) -> np.ndarray:
    value, decimals = _decimal_digits(codes, pad)
    up = digits - decimals
    scaled = np.where(up >= 0, value * np.power(10, np.maximum(up, 0), dtype=np.int64), 0)
    if (up < 0).any():
        divisor = np.power(10, np.maximum(-up, 0), dtype=np.int64)
        if (np.where(up < 0, value % divisor, 0) != 0).any():
            raise _Reject  # more decimals than the instrument has: an error for the per-line path to report
        scaled = np.where(up < 0, value // divisor, scaled)
    if (scaled <= 0).any() or (scaled >= _POINTS_LIMIT).any():
        raise _Reject
    return scaled


def _counts(codes: np.ndarray, pad: np.ndarray) -> np.ndarray:
    """Non-negative numbers rounded half to even, as ``np.rint(float(text))`` on the per-line path."""
    value, decimals = _decimal_digits(codes, pad)
    if not decimals.any():
        return value
    # value and 10**decimals are exact doubles and division rounds correctly: this is float(text).
    return np.rint(value / np.power(10.0, decimals)).astype(np.int64)


def read_delimited(text: str, head: RawBars, *, digits: int, header: bool | None = None) -> dict | None:
    """Columns of every row of ``text`` parsed as ``head`` (the per-line parse of its first lines) says.

    ``header=False`` reads a later piece of the file (no header line whatever ``head`` found).

    Returns {"seconds": wall-clock epoch seconds, "points": {field: points}, "volume", "spread" (or None),
    "rows"}, or None when the file does not fit the fast path or a value fails a check.
    """
    try:
        return _read(text, head, digits, head.layout["header"] if header is None and head.layout else header)
    except _Reject:
        return None


def _read(text: str, head: RawBars, digits: int, header: bool | None) -> dict:
    layout = head.layout
    delimiter = head.notes.get("delimiter", "")
    if layout is None or head.errors or len(delimiter) != 1 or delimiter == " " or head.time_format == "unix":
        raise _Reject
    try:
        data = text.encode("ascii")
    except UnicodeEncodeError:
        raise _Reject from None
    if b"\r" in data:
        data = data.replace(b"\r\n", b"\n")
    if data.translate(None, _ALLOWED) or not data[:1].strip():
        raise _Reject  # other line breaks, control characters, or a blank first line
    if header:
        cut = data.find(b"\n")
        data = data[cut + 1 :] if cut >= 0 else b""
    data = data.rstrip(b"\n")
    if not data:
        raise _Reject
    buf = np.frombuffer(b" " * _MARGIN + data, dtype=np.uint8)
    newlines = np.flatnonzero(buf == _NEWLINE)
    rows = len(newlines) + 1
    starts = np.empty(rows, dtype=np.int64)
    starts[0] = _MARGIN
    starts[1:] = newlines + 1
    ends = np.empty(rows, dtype=np.int64)
    ends[:-1] = newlines
    ends[-1] = len(buf)
    width = layout["width"]
    found = np.flatnonzero(buf == ord(delimiter))
    if len(found) != rows * (width - 1):
        raise _Reject
    marks = found.reshape(rows, width - 1) if width > 1 else np.empty((rows, 0), dtype=np.int64)
    if width > 1 and ((marks[:, 0] < starts).any() or (marks[:, -1] > ends).any()):
        raise _Reject  # delimiters are not (width - 1) on every line
    field_starts = np.column_stack([starts, marks + 1])
    field_ends = np.column_stack([marks, ends])

    def column(role: str, max_width: int) -> tuple[np.ndarray, np.ndarray]:
        index = layout["roles"][role]
        return _field_matrix(buf, field_starts[:, index], field_ends[:, index], max_width)

    roles = layout["roles"]
    if "datetime" in roles:
        times, pad = column("datetime", 40)
    else:
        date, date_pad = column("date", 20)
        clock, clock_pad = column("time", 20)
        times = np.column_stack([date, np.full(rows, ord(" "), dtype=np.uint8), clock])
        pad = np.column_stack([date_pad, np.zeros(rows, dtype=bool), clock_pad])
    if pad.any():
        raise _Reject  # times of different widths: the per-line path reports the odd ones
    time_layout = fixed_layout(head.time_format, times.shape[1])
    if time_layout is None:
        raise _Reject
    seconds, ok = parse_fixed_codes(times, time_layout)
    if not ok.all():
        raise _Reject
    points = {name: _points(*column(name, _MAX_DIGITS + 1), digits) for name in PRICE_FIELDS}
    volume = _counts(*column("volume", _MAX_DIGITS + 1)) if "volume" in roles else np.zeros(rows, dtype=np.int64)
    spread = _counts(*column("spread", 9)) if "spread" in roles else None
    if spread is not None and (spread >= 2**31).any():
        raise _Reject
    return {"seconds": seconds, "points": points, "volume": volume, "spread": spread, "rows": rows}
