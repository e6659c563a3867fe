"""Bar import upload (staff only) and coverage through the API, on the sample files of the bars suite."""

from __future__ import annotations

from pathlib import Path

from django.core.files.uploadedfile import SimpleUploadedFile

from trading.models import Bar

DATA = Path(__file__).resolve().parents[1] / "bars" / "data"


def _upload(name: str) -> SimpleUploadedFile:
    return SimpleUploadedFile(name, (DATA / name).read_bytes(), content_type="text/csv")


def test_only_staff_may_import_bars(alice_api, eurusd):
    response = alice_api.post(
        "/api/v1/bars/import/",
        {"file": _upload("generic_eurusd_m5.csv"), "instrument": "EURUSD", "timeframe": 5},
        format="multipart",
    )

    assert response.status_code == 403
    assert not Bar.objects.exists()


def test_staff_import_stores_the_bars_and_coverage_reports_them(alice_api, alice, eurusd):
    alice.is_staff = True
    alice.save()
    rows = len((DATA / "generic_eurusd_m5.csv").read_text().strip().splitlines()) - 1

    response = alice_api.post(
        "/api/v1/bars/import/",
        {"file": _upload("generic_eurusd_m5.csv"), "instrument": "EURUSD", "timeframe": 5},
        format="multipart",
    )
    coverage = alice_api.get("/api/v1/bars/coverage/?instrument=EURUSD&timeframe=5")

    assert response.status_code == 201, response.content
    assert response.json()["inserted"] == rows
    assert Bar.objects.filter(instrument=eurusd, timeframe=5).count() == rows
    assert coverage.status_code == 200
    [row] = coverage.json()
    assert (row["symbol"], row["timeframe"], row["count"]) == ("EURUSD", 5, rows)


def test_a_broken_file_is_refused_with_file_line_field_and_value_and_nothing_is_written(alice_api, alice, eurusd):
    alice.is_staff = True
    alice.save()

    response = alice_api.post(
        "/api/v1/bars/import/",
        {"file": _upload("generic_eurusd_m5_broken.csv"), "instrument": "EURUSD", "timeframe": 5, "on_error": "stop"},
        format="multipart",
    )

    assert response.status_code == 400, response.content
    errors = response.json()["extra"]["errors"]
    assert errors[0]["file"] == "generic_eurusd_m5_broken.csv"
    assert errors[0]["line"] == 3
    assert errors[0]["field"] == "high"
    assert not Bar.objects.exists()


def test_admin_import_page_stores_the_bars_and_reports_them(admin_client, eurusd):
    page = admin_client.get("/admin/trading/bar/import/")
    response = admin_client.post(
        "/admin/trading/bar/import/",
        {
            "file": _upload("generic_eurusd_m5.csv"),
            "instrument": "EURUSD",
            "timeframe": "5",
            "on_error": "stop",
        },
        follow=True,
    )

    assert page.status_code == 200
    assert b"Import bars" in page.content
    assert response.status_code == 200
    assert Bar.objects.filter(instrument=eurusd, timeframe=5).exists()
    assert b"inserted" in response.content


def test_admin_coverage_page_lists_each_series_with_its_gaps(admin_client, eurusd):
    from datetime import UTC, datetime, timedelta

    start = datetime(2024, 3, 12, 10, 0, tzinfo=UTC)  # a Tuesday
    for minute in (0, 1, 2, 6, 7):  # 3, 4 and 5 are missing
        Bar.objects.create(
            instrument=eurusd,
            timeframe=1,
            time=start + timedelta(minutes=minute),
            open=110000,
            high=110010,
            low=109990,
            close=110000,
        )

    page = admin_client.get("/admin/trading/bar/coverage/")

    assert page.status_code == 200
    html = page.content.decode()
    assert "EURUSD" in html
    assert "2024-03-12 10:03 → 2024-03-12 10:06 (3)" in html
