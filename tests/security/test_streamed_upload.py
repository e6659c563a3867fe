"""Big bar files are imported from disk piece by piece: an upload is spooled to a temporary file (not read into
memory) and a well-formed file never exists in memory whole; uploads over the limit are refused up front."""

from __future__ import annotations

import tracemalloc

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import connection

from tests.security.conftest import api_client
from tests.trading.bars.test_bars_fast_path import generated
from trading.bars.importing import bars_import
from trading.models import Bar

pytestmark = pytest.mark.django_db


@pytest.fixture
def small_pieces(monkeypatch):
    from trading.bars import importing

    monkeypatch.setattr(importing, "PIECE_CHARS", 50_000)


def test_a_file_on_disk_is_imported_without_holding_it_in_memory(tmp_path, eurusd, small_pieces):
    if connection.vendor != "postgresql":
        pytest.skip("the streamed path writes with COPY (PostgreSQL)")
    path = tmp_path / "EURUSD1.csv"
    path.write_text(generated(150_000, seed=3))
    size = path.stat().st_size

    tracemalloc.start()
    report = bars_import(source=path, fmt="metatrader", instrument=eurusd, timeframe=1, source_tz="UTC", name="big.csv")
    _, peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()

    assert (report.file, report.rows_read, report.inserted) == ("big.csv", 150_000, 150_000)
    assert Bar.objects.filter(instrument=eurusd).count() == 150_000
    # Read whole, the text alone would take the file's size (ASCII: a byte a character).
    assert peak < size * 3 / 4, f"peak {peak} bytes for a {size}-byte file"


@pytest.fixture
def staff_api(alice):
    alice.is_staff = True
    alice.save()
    return api_client(alice)


def test_an_upload_above_the_memory_threshold_is_spooled_to_disk_and_imported(staff_api, eurusd, settings):
    settings.FILE_UPLOAD_MAX_MEMORY_SIZE = 10_000
    text = generated(2_000, seed=3)
    upload = SimpleUploadedFile("EURUSD1.csv", text.encode(), content_type="text/csv")

    response = staff_api.post(
        "/api/v1/bars/import/",
        {"file": upload, "instrument": "EURUSD", "timeframe": 1, "format": "metatrader", "source_tz": "UTC"},
        format="multipart",
    )

    assert response.status_code == 201, response.content
    assert response.json()["file"] == "EURUSD1.csv" and response.json()["inserted"] == 2_000


def test_an_upload_over_the_limit_is_refused_before_it_is_read(staff_api, eurusd, settings):
    settings.UPLOAD_MAX_BYTES = 50_000
    upload = SimpleUploadedFile("EURUSD1.csv", generated(2_000).encode(), content_type="text/csv")

    response = staff_api.post("/api/v1/bars/import/", {"file": upload, "instrument": "EURUSD"}, format="multipart")

    assert response.status_code == 413
    assert "ASIRIKUY_MAX_UPLOAD_BYTES" in response.json()["message"]
    assert not Bar.objects.exists()


@pytest.mark.parametrize("content", [b"\xff\xfe\x00garbage", b"timestamp,open\n2024-01-01,abc\n"])
def test_a_bad_upload_is_a_400_naming_the_file(staff_api, eurusd, content):
    upload = SimpleUploadedFile("bad.csv", content, content_type="text/csv")

    response = staff_api.post("/api/v1/bars/import/", {"file": upload, "instrument": "EURUSD"}, format="multipart")

    assert response.status_code == 400, response.content
    assert "bad.csv" in response.content.decode()
