"""The vectorised import path (``formats.fast``) gives exactly the bars of the per-line path, and leaves
every file it cannot read exactly, or that has an error, to the per-line path."""

from __future__ import annotations

import io
from datetime import UTC, datetime

import numpy as np
import pytest
from django.db import connection

from tests.trading.bars.conftest import DATA
from trading.bars import formats
from trading.bars.importing import _fast_bars, bars_import
from trading.bars.validation import BarImportError, RowError, build_bars
from trading.models import Instrument

EURUSD = Instrument(symbol="EURUSD", digits=5)
USDJPY = Instrument(symbol="USDJPY", digits=3)


def both_paths(text: str, *, fmt: str | None, instrument: Instrument, timeframe: int | None, **options):
    fast = _fast_bars(
        text, fmt=fmt, file="f.csv", instrument=instrument, timeframe=timeframe, align_tz="OANDA", **options
    )
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
    fast, (fmt, bars, found, errors, raw) = both_paths(
        (DATA / name).read_text(), fmt=None, instrument=instrument, timeframe=timeframe, **options
    )

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
        "generic_eurusd_m5_broken.csv",
        "mt4_EURUSD60_broken.csv",
        "DAT_ASCII_EURUSD_M1_202401_broken.csv",
        "dukascopy_broken.csv",
        "EURUSD_Candlestick_1_M_BID_05.01.2024-07.01.2024.csv",
        "oanda_EUR_USD_H1.json",
    ],
)
def test_files_with_errors_or_other_formats_go_to_the_per_line_path(name):
    options = {"source_tz": "MT_GMT2_US_DST"} if name.startswith("mt4") else {}

    assert (
        _fast_bars(
            (DATA / name).read_text(),
            fmt=None,
            file=name,
            instrument=EURUSD,
            timeframe=None,
            align_tz="OANDA",
            **options,
        )
        is None
    )


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
    for t, o, h, lo, c, v in zip(
        stamp.tolist(), open_.tolist(), high.tolist(), low.tolist(), close.tolist(), volume.tolist(), strict=True
    ):
        if histdata:
            out.append(
                f"{t[:4]}{t[5:7]}{t[8:10]} {t[11:13]}{t[14:16]}00;{o / 1e5:.6f};{h / 1e5:.6f};{lo / 1e5:.6f};"
                f"{c / 1e5:.6f};{v}{end}"
            )
        else:
            out.append(
                f"{t[:4]}.{t[5:7]}.{t[8:10]},{t[11:16]},{o / 1e5:.5f},{h / 1e5:.5f},{lo / 1e5:.5f},"
                f"{c / 1e5:.5f},{v}{end}"
            )
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
    fast, (_, bars, found, errors, raw) = both_paths(
        generated(100_000, **kwargs), fmt=fmt, instrument=EURUSD, timeframe=1, **options
    )

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

    fast, (_, bars, _, errors, _) = both_paths(text, fmt="metatrader", instrument=EURUSD, timeframe=1, source_tz="UTC")

    assert fast is None
    if "e" in replacement or not replacement:
        assert (errors, len(bars)) == ([], 2_000 - (not replacement))
    else:
        assert [e.line for e in errors] == [line + 1]


@pytest.fixture
def small_pieces(monkeypatch):
    """Stream files in pieces of ~50 kB so that a 20k-bar file crosses many piece boundaries."""
    from trading.bars import importing

    monkeypatch.setattr(importing, "PIECE_CHARS", 50_000)


def stored_array(instrument):
    from trading.models import Bar

    rows = (
        Bar.objects.filter(instrument=instrument, timeframe=1)
        .order_by("time")
        .values_list("time", "open", "high", "low", "close", "volume", "spread", "complete")
    )
    return [(int(t.timestamp()), o, h, lo, c, v, -1 if s is None else s, k) for t, o, h, lo, c, v, s, k in rows]


@pytest.mark.django_db
def test_streamed_import_stores_the_per_line_paths_bars_and_reimports_as_unchanged(eurusd, small_pieces):
    text = generated(20_000, seed=7)
    _, raw = formats.parse(text, fmt="metatrader", file="f.csv", source_tz="MT_GMT2_US_DST")
    expected, _, _, errors = build_bars(raw, digits=5, timeframe=1, align_tz="OANDA")
    seen = []

    report = bars_import(
        source=io.StringIO(text),
        fmt="metatrader",
        instrument=eurusd,
        timeframe=1,
        on_error="stop",
        source_tz="MT_GMT2_US_DST",
        progress=lambda *a: seen.append(a),
    )
    again = bars_import(
        source=io.StringIO(text),
        fmt="metatrader",
        instrument=eurusd,
        timeframe=1,
        on_error="stop",
        source_tz="MT_GMT2_US_DST",
    )

    assert errors == []
    assert (report.rows_read, report.inserted, report.notes["date_format"]) == (20_000, 20_000, "%Y.%m.%d %H:%M")
    assert stored_array(eurusd) == expected.tolist()
    if connection.vendor == "postgresql":  # streamed piece by piece: progress for each piece
        assert len([a for a in seen if a[0] == "write"]) > 20
    assert (again.inserted, again.updated, again.unchanged) == (0, 0, 20_000)


@pytest.mark.django_db
@pytest.mark.parametrize("line", [15_000, 19_999])
def test_a_bad_line_deep_in_a_streamed_file_rolls_back_and_gets_the_exact_report(eurusd, small_pieces, line):
    lines = generated(20_000, seed=7).split("\n")
    lines[line] = lines[line].replace(",", ";", 1)  # 6 fields
    text = "\n".join(lines)

    with pytest.raises(BarImportError) as caught:
        bars_import(
            source=io.StringIO(text), fmt="metatrader", instrument=eurusd, timeframe=1, on_error="stop", source_tz="UTC"
        )
    report = bars_import(
        source=io.StringIO(text), fmt="metatrader", instrument=eurusd, timeframe=1, on_error="skip", source_tz="UTC"
    )

    assert caught.value.errors == [RowError("<upload>", line + 1, "row", lines[line], "has 6 fields, expected 7")]
    assert (report.inserted, report.skipped, len(stored_array(eurusd))) == (19_999, 1, 19_999)


@pytest.mark.django_db
def test_times_going_back_across_a_piece_boundary_are_reported(eurusd, small_pieces):
    lines = generated(20_000, seed=7).split("\n")
    lines[10_000] = lines[0]  # far earlier than its neighbours, whatever piece it lands in
    text = "\n".join(lines)

    with pytest.raises(BarImportError) as caught:
        bars_import(
            source=io.StringIO(text), fmt="metatrader", instrument=eurusd, timeframe=1, on_error="stop", source_tz="UTC"
        )

    assert [(e.line, e.field) for e in caught.value.errors] == [(10_001, "date time")]
    assert stored_array(eurusd) == []
