"""``import_bars`` on bad files: every one ends in a CommandError naming the file (and the line when there is
one), never a traceback, and nothing is written."""

from __future__ import annotations

import pytest
from django.core.management import CommandError, call_command

from trading.models import Bar

pytestmark = pytest.mark.django_db

HEADER = "timestamp,open,high,low,close,volume\n"
ROW = "2024-01-02 10:00:00,1.09421,1.09450,1.09402,1.09433,812\n"

BAD_FILES = {
    "empty": b"",
    "only_header": HEADER.encode(),
    "binary": bytes(range(256)) * 4,
    "latin1": (HEADER + ROW.replace("812", "8\xe912")).encode("latin-1"),
    "utf16": (HEADER + ROW).encode("utf-16"),
    "nul_bytes": (HEADER + ROW.replace(",", "\x00,", 1)).encode(),
    "missing_columns": (HEADER + "2024-01-02 10:00:00,1.09421\n").encode(),
    "extra_columns": (HEADER + ROW.strip() + ",1,2,3\n").encode(),
    "price_text": (HEADER + ROW.replace("1.09421", "abc")).encode(),
    "price_huge": (HEADER + ROW.replace("1.09450", "1e20")).encode(),
    "price_huge_digits": (HEADER + ROW.replace("1.09450", "1" + "0" * 30)).encode(),
    "price_nan": (HEADER + ROW.replace("1.09421", "nan")).encode(),
    "price_inf": (HEADER + ROW.replace("1.09421", "inf")).encode(),
    "price_negative": (HEADER + ROW.replace("1.09402", "-1")).encode(),
    "price_zero": (HEADER + ROW.replace("1.09402", "0")).encode(),
    "volume_huge": (HEADER + ROW.replace("812", "1e30")).encode(),
    "volume_negative": (HEADER + ROW.replace("812", "-5")).encode(),
    "date_invalid": (HEADER + ROW.replace("2024-01-02", "2024-13-45")).encode(),
    "date_year_9999": (HEADER + ROW.replace("2024-01-02", "9999-12-31")).encode(),
    "date_year_1": (HEADER + ROW.replace("2024-01-02", "0001-01-01")).encode(),
    "date_year_2100": (HEADER + ROW.replace("2024-01-02", "2100-01-05")).encode(),
    "date_huge": (HEADER + ROW.replace("2024-01-02 10:00:00", "9" * 400)).encode(),
    "duplicate_time": (HEADER + ROW + ROW).encode(),
    "high_below_low": (HEADER + ROW.replace("1.09450", "1.09000")).encode(),
    "one_word": b"abc",
    "long_line": b"x" * 1_000_000,
    "oanda_broken_json": b'{"instrument": "EUR_USD", "candles": [',
    "oanda_wrong_types": b'{"instrument": "EUR_USD", "granularity": "H1", "candles": "x"}',
    "oanda_candle_strings": b'{"instrument": "EUR_USD", "granularity": "H1", "candles": ["a", 1, null]}',
    "oanda_candle_fields": b'{"instrument": "EUR_USD", "granularity": "H1", "candles": [{"time": 5, "mid": []}]}',
    "oanda_deep": b'{"candles": ' + b"[" * 100_000 + b"]" * 100_000 + b"}",
}
SUFFIX = {name: ".json" for name in BAD_FILES if name.startswith("oanda")}


@pytest.mark.parametrize("name", sorted(BAD_FILES))
def test_import_bars_on_a_bad_file_is_a_command_error_naming_it(tmp_path, eurusd, name):
    path = tmp_path / f"{name}{SUFFIX.get(name, '.csv')}"
    path.write_bytes(BAD_FILES[name])

    with pytest.raises(CommandError) as excinfo:
        call_command("import_bars", str(path), "--instrument", "EURUSD", "--timeframe", "M5")

    assert path.name in str(excinfo.value), str(excinfo.value)
    assert not Bar.objects.exists()


@pytest.mark.parametrize(
    ("args", "named"),
    [
        (["{dir}"], "{dir}"),
        (["{dir}/missing.csv"], "missing.csv"),
        (["{file}", "--format", "oanda"], "good.csv"),
        (["{file}", "--date-format", "%Q%Q"], "good.csv"),
        (["{file}", "--delimiter", "xyz"], "good.csv"),
    ],
)
def test_import_bars_with_bad_arguments_is_a_command_error(tmp_path, eurusd, args, named):
    good = tmp_path / "good.csv"
    good.write_text(HEADER + ROW)
    values = {"dir": str(tmp_path), "file": str(good)}

    with pytest.raises(CommandError) as excinfo:
        call_command("import_bars", *[a.format(**values) for a in args], "--instrument", "EURUSD", "--timeframe", "M5")

    assert named.format(**values) in str(excinfo.value)


def test_a_bad_row_is_named_by_line_field_and_value(tmp_path, eurusd):
    path = tmp_path / "volume.csv"
    path.write_text(HEADER + ROW + ROW.replace("10:00:00", "10:05:00").replace("812", "1e30"))

    with pytest.raises(CommandError) as excinfo:
        call_command("import_bars", str(path), "--instrument", "EURUSD", "--timeframe", "M5")

    message = str(excinfo.value)
    assert "volume.csv:3:" in message and "volume='1e30'" in message and "too large" in message


def test_skip_mode_keeps_good_rows_and_stores_no_overflowed_volume(tmp_path, eurusd):
    path = tmp_path / "mixed.csv"
    path.write_text(HEADER + ROW + ROW.replace("10:00:00", "10:05:00").replace("812", "1e30"))

    call_command("import_bars", str(path), "--instrument", "EURUSD", "--timeframe", "M5", "--on-error", "skip")

    assert list(Bar.objects.values_list("volume", flat=True)) == [812]
