from __future__ import annotations

import io

import numpy as np
import pytest
from django.core.management import CommandError, call_command

from tests.trading.bars.conftest import DATA, utc
from trading.bars.coverage import Gap, bars_coverage
from trading.bars.export import bars_export
from trading.bars.importing import bars_import
from trading.bars.store import bars_upsert
from trading.bars.timeframes import BAR_DTYPE
from trading.models import Bar

pytestmark = pytest.mark.django_db


def m1_series(times):
    bars = np.zeros(len(times), dtype=BAR_DTYPE)
    bars["time"] = [int(t.timestamp()) for t in times]
    bars["open"] = 110000
    bars["high"] = 110010
    bars["low"] = 109990
    bars["close"] = 110005
    bars["spread"] = -1
    bars["complete"] = True
    return bars


def test_coverage_ignores_the_weekend_and_reports_a_real_gap(eurusd):
    friday = [utc(2024, 1, 5, 21, 58), utc(2024, 1, 5, 21, 59)]  # 16:58, 16:59 EST
    monday = [utc(2024, 1, 7, 22, 0), utc(2024, 1, 7, 22, 1), utc(2024, 1, 7, 22, 5)]  # 3 minutes missing
    bars_upsert(instrument_id=eurusd.id, timeframe=1, bars=m1_series(friday + monday))

    [row] = bars_coverage(instrument_id=eurusd.id)

    assert (row.symbol, row.timeframe, row.count) == ("EURUSD", 1, 5)
    assert (row.first, row.last) == (utc(2024, 1, 5, 21, 58), utc(2024, 1, 7, 22, 5))
    assert row.gaps == [Gap(start=utc(2024, 1, 7, 22, 2), end=utc(2024, 1, 7, 22, 5), missing_bars=3)]


def test_coverage_ignores_christmas(eurusd):
    # Friday 22 Dec 16:59 EST, then the 26 Dec trading day opens on 25 Dec 17:00 EST.
    bars_upsert(
        instrument_id=eurusd.id, timeframe=1, bars=m1_series([utc(2023, 12, 22, 21, 59), utc(2023, 12, 25, 22, 0)])
    )

    assert bars_coverage(instrument_id=eurusd.id)[0].gaps == []


def test_export_then_import_round_trips_exact_points(usdjpy):
    bars_import(
        source=DATA / "mt5_USDJPY_M15.csv",
        fmt=None,
        instrument=usdjpy,
        timeframe=15,
        on_error="stop",
        source_tz="MT_GMT2_US_DST",
    )
    before = list(
        Bar.objects.filter(instrument=usdjpy).values_list("time", "open", "high", "low", "close", "volume", "spread")
    )
    out = io.StringIO()

    assert bars_export(out=out, instrument=usdjpy, timeframe=15) == 3
    assert out.getvalue().splitlines()[1] == "2024-06-30 21:00:00,161.012,161.044,160.998,161.020,301,14,1"
    Bar.objects.all().delete()
    bars_import(source=io.StringIO(out.getvalue()), fmt="csv", instrument=usdjpy, timeframe=15, on_error="stop")
    after = list(
        Bar.objects.filter(instrument=usdjpy).values_list("time", "open", "high", "low", "close", "volume", "spread")
    )
    assert after == before


def test_import_bars_command_prints_the_report(eurusd):
    out, err = io.StringIO(), io.StringIO()

    call_command(
        "import_bars",
        str(DATA / "generic_eurusd_m5_broken.csv"),
        "--instrument",
        "eurusd",
        "--timeframe",
        "M5",
        "--on-error",
        "skip",
        stdout=out,
        stderr=err,
    )

    assert "1 inserted" in out.getvalue()
    assert "6 skipped with errors" in out.getvalue()
    assert "generic_eurusd_m5_broken.csv:6: open='nan': NaN or infinite price" in err.getvalue()


def test_import_bars_command_stops_at_the_first_error(eurusd):
    with pytest.raises(CommandError, match=r"broken.csv:3: high='1.09420': high is below low .*nothing was"):
        call_command("import_bars", str(DATA / "generic_eurusd_m5_broken.csv"), "--instrument", "EURUSD")
    assert not Bar.objects.exists()


def test_derive_bars_command_stores_h1_from_m1(eurusd):
    bars_import(
        source=DATA / "DAT_ASCII_EURUSD_M1_202401.csv", fmt=None, instrument=eurusd, timeframe=1, on_error="stop"
    )
    out = io.StringIO()

    call_command("derive_bars", "--instrument", "EURUSD", "--from", "M1", "--to", "H1", "D1", stdout=out)

    h1 = Bar.objects.get(instrument=eurusd, timeframe=60)
    assert (h1.time, h1.open, h1.high, h1.low, h1.close, h1.complete) == (
        utc(2024, 1, 2, 22),
        110321,
        110342,
        110310,
        110340,
        False,
    )
    assert Bar.objects.get(instrument=eurusd, timeframe=1440).time == utc(2024, 1, 2, 22)
    assert "H1: 1 bars derived, 1 inserted" in out.getvalue()


def test_export_and_coverage_commands(eurusd):
    bars_import(source=DATA / "generic_eurusd_m5.csv", fmt=None, instrument=eurusd, timeframe=5, on_error="stop")
    exported, coverage = io.StringIO(), io.StringIO()

    call_command(
        "export_bars", "--instrument", "EURUSD", "--timeframe", "M5", "--start", "2024-01-02T10:05", stdout=exported
    )
    call_command("bars_coverage", stdout=coverage)

    assert exported.getvalue().splitlines()[1:2] == ["2024-01-02 10:05:00,1.09433,1.09461,1.09425,1.09455,640,,1"]
    assert coverage.getvalue().startswith("EURUSD M5: 4 bars, 2024-01-02 10:00 .. 2024-01-02 10:15 UTC, 0 gaps")


def test_fill_bar_gaps_without_a_source_errors_clearly(eurusd):
    with pytest.raises(CommandError, match="no data source configured for broker 'oanda'"):
        call_command("fill_bar_gaps", "--instrument", "EURUSD", "--timeframe", "M1")
