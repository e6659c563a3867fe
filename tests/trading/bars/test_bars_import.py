from __future__ import annotations

import io

import pytest

from tests.trading.bars.conftest import DATA, utc
from trading.bars.formats import detect_format
from trading.bars.importing import bars_import
from trading.bars.validation import BarImportError, RowError
from trading.models import Bar

pytestmark = pytest.mark.django_db


def stored(instrument, timeframe):
    return list(
        Bar.objects.filter(instrument=instrument, timeframe=timeframe).values_list(
            "time", "open", "high", "low", "close", "volume", "spread", "complete"
        )
    )


def err(name, line, field, value, message):
    return RowError(str(DATA / name), line, field, value, message)


@pytest.mark.parametrize(
    ("name", "expected"),
    [
        ("generic_eurusd_m5.csv", "csv"),
        ("generic_noheader_semicolon.csv", "csv"),
        ("mt4_EURUSD60.csv", "metatrader"),
        ("mt5_USDJPY_M15.csv", "metatrader"),
        ("DAT_ASCII_EURUSD_M1_202401.csv", "histdata"),
        ("EURUSD_Candlestick_1_M_BID_05.01.2024-07.01.2024.csv", "dukascopy"),
        ("oanda_EUR_USD_H1.json", "oanda"),
    ],
)
def test_detect_format(name, expected):
    assert detect_format((DATA / name).read_text(), name) == expected


def test_generic_csv_with_header(eurusd):
    report = bars_import(
        source=DATA / "generic_eurusd_m5.csv", fmt=None, instrument=eurusd, timeframe=None, on_error="stop"
    )

    assert (report.format, report.timeframe, report.rows_read, report.inserted) == ("csv", 5, 4, 4)
    assert report.notes["date_format"] == "%Y-%m-%d %H:%M:%S"
    assert stored(eurusd, 5)[0] == (utc(2024, 1, 2, 10, 0), 109421, 109450, 109402, 109433, 812, None, True)


def test_generic_csv_without_header_detects_delimiter_and_date_format(eurusd):
    report = bars_import(
        source=DATA / "generic_noheader_semicolon.csv", fmt="csv", instrument=eurusd, timeframe=1, on_error="stop"
    )

    assert (report.notes["delimiter"], report.notes["date_format"]) == (";", "%Y/%m/%d %H:%M")
    assert [row[0] for row in stored(eurusd, 1)] == [utc(2024, 1, 2, 10, m) for m in range(3)]


def test_generic_csv_broken_stop_reports_the_first_error_and_writes_nothing(eurusd):
    with pytest.raises(BarImportError) as caught:
        bars_import(
            source=DATA / "generic_eurusd_m5_broken.csv", fmt=None, instrument=eurusd, timeframe=5, on_error="stop"
        )

    assert caught.value.errors == [
        err("generic_eurusd_m5_broken.csv", 3, "high", "1.09420", "high is below low 1.09425"),
    ]
    assert not Bar.objects.exists()


def test_generic_csv_broken_skip_reports_every_bad_row(eurusd):
    report = bars_import(
        source=DATA / "generic_eurusd_m5_broken.csv", fmt=None, instrument=eurusd, timeframe=5, on_error="skip"
    )

    name = "generic_eurusd_m5_broken.csv"
    assert report.errors == [
        err(name, 3, "high", "1.09420", "high is below low 1.09425"),
        err(name, 4, "close", "1.094465", "more decimals than the instrument's 5; prices are never rounded"),
        err(
            name,
            5,
            "timestamp",
            "2024-01-02 10:10:00",
            "duplicate of line 4 (2024-01-02 10:10:00); times must strictly increase",
        ),
        err(name, 6, "open", "nan", "NaN or infinite price"),
        err(name, 7, "low", "-1.09390", "price must be positive"),
        err(
            name,
            8,
            "timestamp",
            "2024-01-02 10:07:00",
            "earlier than line 7 (2024-01-02 10:20:00); times must strictly increase",
        ),
    ]
    assert (report.inserted, report.skipped) == (1, 6)
    assert [row[0] for row in stored(eurusd, 5)] == [utc(2024, 1, 2, 10, 0)]


def test_metatrader4_export_in_broker_time_is_stored_in_utc(eurusd):
    report = bars_import(
        source=DATA / "mt4_EURUSD60.csv",
        fmt=None,
        instrument=eurusd,
        timeframe=60,
        on_error="stop",
        source_tz="MT_GMT2_US_DST",
    )

    # Friday 22:00 server time (GMT+2 in winter) is 20:00 UTC; Monday 00:00 after the US DST change is
    # Sunday 21:00 UTC (server clock GMT+3).
    assert report.inserted == 4
    assert [row[0] for row in stored(eurusd, 60)] == [
        utc(2024, 3, 8, 20),
        utc(2024, 3, 8, 21),
        utc(2024, 3, 10, 21),
        utc(2024, 3, 10, 22),
    ]


def test_metatrader_export_needs_the_broker_clock(eurusd):
    with pytest.raises(BarImportError, match="server time; pass source_tz"):
        bars_import(source=DATA / "mt4_EURUSD60.csv", fmt=None, instrument=eurusd, timeframe=60, on_error="stop")


def test_metatrader4_broken(eurusd):
    report = bars_import(
        source=DATA / "mt4_EURUSD60_broken.csv",
        fmt=None,
        instrument=eurusd,
        timeframe=60,
        on_error="skip",
        source_tz="MT_GMT2_US_DST",
    )

    name = "mt4_EURUSD60_broken.csv"
    assert report.errors == [
        err(name, 2, "row", "2024.03.08,23:00,1.09433,1.09461,1.09425", "has 5 fields, expected 7"),
        err(name, 4, "date time", "2024.03.11 01:30", "not the open time of a H1 bar on UTC (timeframe mismatch)"),
    ]
    assert report.inserted == 2


def test_metatrader5_export_with_spread(usdjpy):
    report = bars_import(
        source=DATA / "mt5_USDJPY_M15.csv",
        fmt=None,
        instrument=usdjpy,
        timeframe=None,
        on_error="stop",
        source_tz="MT_GMT2_US_DST",
    )

    assert report.timeframe == 15
    assert stored(usdjpy, 15)[0] == (utc(2024, 6, 30, 21, 0), 161012, 161044, 160998, 161020, 301, 14, True)


def test_histdata_m1_is_read_in_fixed_est(eurusd):
    report = bars_import(
        source=DATA / "DAT_ASCII_EURUSD_M1_202401.csv", fmt=None, instrument=eurusd, timeframe=None, on_error="stop"
    )

    assert (report.format, report.timeframe, report.inserted) == ("histdata", 1, 3)
    assert stored(eurusd, 1)[0] == (utc(2024, 1, 2, 22, 0), 110321, 110330, 110310, 110325, 0, None, True)


def test_histdata_broken(eurusd):
    report = bars_import(
        source=DATA / "DAT_ASCII_EURUSD_M1_202401_broken.csv",
        fmt="histdata",
        instrument=eurusd,
        timeframe=None,
        on_error="skip",
    )

    name = "DAT_ASCII_EURUSD_M1_202401_broken.csv"
    assert report.errors == [
        err(name, 2, "time", "20240102 1701", "does not match the date format '%Y%m%d %H%M%S'"),
        err(name, 3, "close", "1.10340x", "not a number"),
    ]


def test_dukascopy_drops_flat_filler_bars_and_rounds_volume(eurusd):
    report = bars_import(
        source=DATA / "EURUSD_Candlestick_1_M_BID_05.01.2024-07.01.2024.csv",
        fmt=None,
        instrument=eurusd,
        timeframe=1,
        on_error="stop",
    )

    assert (report.format, report.inserted, report.dropped) == ("dukascopy", 3, 2)
    assert [(row[0], row[5]) for row in stored(eurusd, 1)] == [
        (utc(2024, 1, 5, 21, 58), 12),
        (utc(2024, 1, 5, 21, 59), 9),
        (utc(2024, 1, 7, 22, 0), 3),
    ]


def test_dukascopy_broken(eurusd):
    report = bars_import(
        source=DATA / "dukascopy_broken.csv", fmt="dukascopy", instrument=eurusd, timeframe=1, on_error="skip"
    )

    name = "dukascopy_broken.csv"
    assert report.errors == [
        err(name, 3, "volume", "-8.9", "must be a non-negative number"),
        err(
            name,
            4,
            "Gmt time",
            "05.01.2024 22:05:00.000",
            "earlier than line 3 (31.01.2024 21:59:00.000); times must strictly increase",
        ),
    ]


def test_oanda_candles_json_keeps_incomplete_candle_flag(eurusd):
    report = bars_import(
        source=DATA / "oanda_EUR_USD_H1.json", fmt=None, instrument=eurusd, timeframe=None, on_error="stop"
    )

    assert (report.format, report.timeframe, report.inserted) == ("oanda", 60, 4)
    assert [row[7] for row in stored(eurusd, 60)] == [True, True, True, False]


def test_oanda_candles_broken(eurusd):
    report = bars_import(
        source=DATA / "oanda_EUR_USD_H1_broken.json", fmt="oanda", instrument=eurusd, timeframe=60, on_error="skip"
    )

    name = "oanda_EUR_USD_H1_broken.json"
    assert report.errors == [
        err(name, 2, "close", "0", "price must be positive"),
        err(
            name,
            3,
            "time",
            "2024-03-10T21:30:00.000000000Z",
            "not the open time of a H1 bar on UTC (timeframe mismatch)",
        ),
    ]


def test_oanda_granularity_mismatch_is_refused(eurusd):
    with pytest.raises(BarImportError, match="timeframe mismatch: the file holds 60m bars"):
        bars_import(source=DATA / "oanda_EUR_USD_H1.json", fmt=None, instrument=eurusd, timeframe=1, on_error="skip")


def test_reimporting_an_overlapping_range_updates_instead_of_duplicating(eurusd):
    bars_import(source=DATA / "generic_eurusd_m5.csv", fmt=None, instrument=eurusd, timeframe=5, on_error="stop")
    corrected = io.StringIO(
        "timestamp,open,high,low,close,volume\n"
        "2024-01-02 10:15:00,1.09446,1.09449,1.09390,1.09399,903\n"
        "2024-01-02 10:20:00,1.09399,1.09420,1.09380,1.09411,455\n"
    )

    report = bars_import(source=corrected, fmt="csv", instrument=eurusd, timeframe=5, on_error="stop")

    assert (report.inserted, report.updated, report.unchanged) == (1, 1, 0)
    assert [(row[0].minute, row[4]) for row in stored(eurusd, 5)] == [
        (0, 109433),
        (5, 109455),
        (10, 109446),
        (15, 109399),
        (20, 109411),
    ]
