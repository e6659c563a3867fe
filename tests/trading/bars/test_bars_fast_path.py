"""The vectorised import path (``formats.fast``) gives exactly the bars of the per-line path, and leaves
every file it cannot read exactly, or that has an error, to the per-line path."""

from __future__ import annotations

from datetime import UTC, datetime

import numpy as np
import pytest

from tests.trading.bars.conftest import DATA
from trading.bars import formats
from trading.bars.importing import _fast_bars
from trading.bars.validation import build_bars
from trading.models import Instrument

EURUSD = Instrument(symbol="EURUSD", digits=5)
USDJPY = Instrument(symbol="USDJPY", digits=3)


def both_paths(text: str, *, fmt: str | None, instrument: Instrument, timeframe: int | None, **options):
    fast = _fast_bars(text, fmt=fmt, file="f.csv", instrument=instrument, timeframe=timeframe, align_tz="OANDA",
                      **options)
    name, raw = formats.parse(text, fmt=fmt, file="f.csv", **options)
    bars, _, found, errors = build_bars(raw, digits=instrument.digits, timeframe=timeframe, align_tz="OANDA")
    return fast, (name, bars, found, errors, raw)


@pytest.mark.parametrize(
    ("name", "instrument", "timeframe", "options"),
    [
        ("generic_eurusd_m5.csv", EURUSD, None, {}),
        ("generic_noheader_semicolon.csv", EURUSD, 1, {}),
        ("mt4_EURUSD60.csv", EURUSD, 60, {"source_tz": "MT_GMT2_US_DST"}),
        ("mt5_USDJPY_M15.csv", USDJPY, None, {"source_tz": "MT_GMT2_US_DST"}),
        ("DAT_ASCII_EURUSD_M1_202401.csv", EURUSD, None, {}),
    ],
)
def test_fast_path_equals_the_per_line_path_on_the_sample_files(name, instrument, timeframe, options):
    fast, (fmt, bars, found, errors, raw) = both_paths((DATA / name).read_text(), fmt=None, instrument=instrument,
                                                       timeframe=timeframe, **options)

    assert errors == []
    assert fast is not None
    report, fast_bars = fast
    assert fast_bars.dtype == bars.dtype
    assert fast_bars.tobytes() == bars.tobytes()
    assert (report.format, report.timeframe, report.rows_read) == (fmt, found, len(raw.lines))
    assert report.notes == dict(raw.notes, source_tz=raw.source_tz)


@pytest.mark.parametrize(
    "name",
    [
        "generic_eurusd_m5_broken.csv", "mt4_EURUSD60_broken.csv", "DAT_ASCII_EURUSD_M1_202401_broken.csv",
        "dukascopy_broken.csv", "EURUSD_Candlestick_1_M_BID_05.01.2024-07.01.2024.csv", "oanda_EUR_USD_H1.json",
    ],
)
def test_files_with_errors_or_other_formats_go_to_the_per_line_path(name):
    options = {"source_tz": "MT_GMT2_US_DST"} if name.startswith("mt4") else {}

    assert _fast_bars((DATA / name).read_text(), fmt=None, file=name, instrument=EURUSD, timeframe=None,
                      align_tz="OANDA", **options) is None


def generated(count: int, *, seed: int = 5, crlf: bool = False, histdata: bool = False) -> str:
    """M1 bars like the benchmark's MT4 export (varying volume widths), or HistData's layout."""
    rng = np.random.default_rng(seed)
    start = int(datetime(2023, 5, 1, tzinfo=UTC).timestamp())
    times = (start + np.arange(count) * 60).astype("datetime64[s]")
    close = 99990 + np.cumsum(rng.integers(-8, 9, count))  # crosses 1.00000 (price width changes)
    open_ = np.r_[close[0], close[:-1]]
    high = np.maximum(open_, close) + rng.integers(0, 6, count)
    low = np.minimum(open_, close) - rng.integers(0, 6, count)
    volume = rng.integers(0, 5000, count)
    stamp = np.datetime_as_string(times, unit="s")
    end = "\r\n" if crlf else "\n"
    out = []
    for t, o, h, lo, c, v in zip(stamp.tolist(), open_.tolist(), high.tolist(), low.tolist(), close.tolist(),
                                 volume.tolist(), strict=True):
        if histdata:
            out.append(f"{t[:4]}{t[5:7]}{t[8:10]} {t[11:13]}{t[14:16]}00;{o / 1e5:.6f};{h / 1e5:.6f};{lo / 1e5:.6f};"
                       f"{c / 1e5:.6f};{v}{end}")
        else:
            out.append(f"{t[:4]}.{t[5:7]}.{t[8:10]},{t[11:16]},{o / 1e5:.5f},{h / 1e5:.5f},{lo / 1e5:.5f},"
                       f"{c / 1e5:.5f},{v}{end}")
    return "".join(out)


@pytest.mark.parametrize(
    ("kwargs", "fmt", "options"),
    [
        ({}, "metatrader", {"source_tz": "UTC"}),
        ({"crlf": True}, "metatrader", {"source_tz": "MT_GMT2_US_DST"}),
        ({"histdata": True}, "histdata", {}),
    ],
)
def test_fast_path_equals_the_per_line_path_on_100k_generated_bars(kwargs, fmt, options):
    fast, (_, bars, found, errors, raw) = both_paths(generated(100_000, **kwargs), fmt=fmt, instrument=EURUSD,
                                                     timeframe=1, **options)

    assert errors == []
    assert len(bars) == 100_000
    assert fast is not None
    assert fast[1].tobytes() == bars.tobytes()
    assert (fast[0].timeframe, fast[0].rows_read) == (found, 100_000)


@pytest.mark.parametrize(
    ("line", "replacement"),
    [
        (500, "2023.05.01,08:20,1.00000,1.00001,0.99999,1.000001,3"),  # more decimals than 5
        (500, "2023.05.01,08:20,1.00000,1.00001,0.99999,1.0000,3,9"),  # a field too many
        (500, "2023.05.01,08:20,1.00000,0.99990,0.99999,1.00000,3"),  # high below low
        (500, "2023.05.01,8:20,1.00000,1.00001,0.99999,1.00000,3"),  # time of another width
        (500, "2023.05.01,08:19,1.00000,1.00001,0.99999,1.00000,3"),  # duplicate of the line before
        (500, "2023.05.01,08:20,1e0,1.00001,0.99999,1.00000,3"),  # exponent: valid, read by the per-line path
        (500, "2023.05.01,08:20,1.00000,1.00001,0.99999,1.00000,-3"),  # negative volume
        (500, ""),  # blank line: the per-line path skips it and numbers the lines
    ],
)
def test_one_odd_line_sends_the_file_to_the_per_line_path(line, replacement):
    lines = generated(2_000).split("\n")
    lines[line] = replacement
    text = "\n".join(lines)

    fast, (_, bars, _, errors, _) = both_paths(text, fmt="metatrader", instrument=EURUSD, timeframe=1,
                                               source_tz="UTC")

    assert fast is None
    if "e" in replacement or not replacement:
        assert (errors, len(bars)) == ([], 2_000 - (not replacement))
    else:
        assert [e.line for e in errors] == [line + 1]
