"""Importing a legacy folder: the dry run, bad input answered line by line with nothing half-imported, the
choices (skip, magic numbers), the OANDA account from [account], the command, the API and the admin page."""

from __future__ import annotations

import io
import zipfile
from decimal import Decimal

import pytest
from django.core.management import CommandError, call_command
from legacy_support import ATRADER, AUTOBBS_SET, SINGLE_SET, write_folder

from trading.legacy.apply import LegacyImportInvalid, legacy_import_apply
from trading.legacy.plan import ImportOptions, legacy_import_plan
from trading.legacy.source import source_from_folder
from trading.models import BrokerAccount, Instrument, LegacyImport, LegacyInstanceConfig, StrategyInstance


@pytest.fixture
def eurusd_only(db):
    return Instrument.objects.create(
        symbol="EURUSD", base_currency="EUR", quote_currency="USD", digits=5, pip_location=-4, always_open=True
    )


@pytest.fixture
def paper_into(alice, eurusd_only):
    return BrokerAccount.objects.create(owner=alice, name="Alice paper", broker="paper", currency="USD")


def _counts():
    return (
        LegacyImport.objects.count(),
        StrategyInstance.objects.count(),
        LegacyInstanceConfig.objects.count(),
        BrokerAccount.objects.count(),
    )


def _plan(folder, alice, account=None, **options):
    opts = ImportOptions(owner=alice, account=account, **options)
    return legacy_import_plan(source_from_folder(folder), opts), opts


def test_a_dry_run_shows_what_would_be_created_and_why_each_line_is_ignored_and_writes_nothing(
    foreign, alice, paper_into, legacy_folder
):
    before = _counts()
    plan, _ = _plan(legacy_folder, alice, paper_into)
    report = plan.as_json()
    assert report["valid"] and _counts() == before
    assert report["library"]["version"] == "4.9.1" and report["library"]["ours"] is False
    assert [(i["section"], i["instance_id"], i["strategy_id"], i["timeframe"]) for i in report["instances"]] == [
        ("autobbs_eurusd", 2901, 29, 5),
        ("single_eurusd", 701, 7, 5),
    ]
    autobbs = report["instances"][0]
    assert (autobbs["risk_percent"], autobbs["max_spread"], autobbs["max_drawdown_percent"]) == ("0.5", "0.0003", "25")
    ignored = {(i["file"], i["key"]) for i in report["ignored"]}
    for key in ("smtp", "port", "from", "to", "user", "password", "logSeverity", "executionTime", "[old_unused]"):
        assert ("config/atrader.config", key) in ignored
    assert ("sets/autobbs_eurusd.set", "FRAMEWORK_CONFIG") in ignored
    assert report["notification_channel"] == {
        "name": "E-mail to me@example.org",
        "service": "e-mail",
        "server": "smtp.example.org:587",
        "to": "me@example.org",
        "password": "given",
    }
    assert "t0ken" not in str(report) and "mail-secret" not in str(report)  # secrets never shown


def _broken_folder(root):
    """One folder with each kind of bad input the issue names."""
    config = ATRADER.replace("timeframeRequirements = 15", "timeframeRequirements = 15,60")  # wrong length
    config = config.replace(
        "strategies = autobbs_eurusd, single_eurusd", "strategies = autobbs_eurusd, single_eurusd, twin, ghost"
    )
    config += (
        "\n[twin]\nsetFile = twin.set\npair = EURUSD\nstrategyId = 7\npassedTimeFrame = 5\nrateRequirements = 50\n"
    )
    config += (
        "\n[ghost]\nsetFile = ghost.set\npair = EURUSD\nstrategyId = 7\npassedTimeFrame = 5\nrateRequirements = 50\n"
    )
    autobbs = AUTOBBS_SET.replace(
        "AUTOBBS_STARTHOUR=7", "AUTOBBS_STARTHOUR=7\nAUTOBBS_NOT_A_NAME=4\nthis is not a line"
    )
    twin = SINGLE_SET  # the same magic number, 701, as single_eurusd
    return write_folder(
        root, config=config, sets={"autobbs_eurusd.set": autobbs, "single_eurusd.set": SINGLE_SET, "twin.set": twin}
    )


def test_bad_input_is_answered_with_file_line_and_reason_and_nothing_is_half_imported(
    foreign, alice, paper_into, tmp_path
):
    folder = _broken_folder(tmp_path / "broken")
    before = _counts()
    plan, options = _plan(folder, alice, paper_into)
    problems = {(p.file, p.line, p.key): p for p in plan.problems}
    config_lines = (folder / "config" / "atrader.config").read_text().splitlines()
    assert set(problems) == {
        ("sets/autobbs_eurusd.set", 37, "AUTOBBS_NOT_A_NAME"),  # unknown key
        ("sets/autobbs_eurusd.set", 38, "this is not a line"),  # malformed line
        ("config/atrader.config", 51, "timeframeRequirements"),  # a slot list of the wrong length
        ("config/atrader.config", 65, "setFile"),  # a config naming a missing .set
        ("sets/twin.set", 2, "STRATEGY_INSTANCE_ID"),  # duplicate instance ids
    }, plan.as_json()["problems"]
    assert (
        "unknown parameter name 'AUTOBBS_NOT_A_NAME'"
        in problems[("sets/autobbs_eurusd.set", 37, "AUTOBBS_NOT_A_NAME")].why
    )
    assert "not a KEY=VALUE line" in problems[("sets/autobbs_eurusd.set", 38, "this is not a line")].why
    assert (
        "has 2 slots, rateRequirements (line 49) has 1"
        in problems[("config/atrader.config", 51, "timeframeRequirements")].why
    )
    assert config_lines[64] == "setFile = ghost.set"
    assert "not in the folder" in problems[("config/atrader.config", 65, "setFile")].why
    assert (
        "is also [single_eurusd]'s (sets/single_eurusd.set:2)"
        in problems[("sets/twin.set", 2, "STRATEGY_INSTANCE_ID")].why
    )
    with pytest.raises(LegacyImportInvalid) as raised:
        legacy_import_apply(plan, options)
    assert len(raised.value.extra["problems"]) == 5
    assert _counts() == before

    # the user skips what they do not want: the named lines and instances; the rest is written, all of it
    skip = {p.skip_name() for p in plan.problems}
    assert skip == {
        "sets/autobbs_eurusd.set:37",
        "sets/autobbs_eurusd.set:38",
        "config/atrader.config:51",
        "ghost",
        "twin",
    }
    plan, options = _plan(folder, alice, paper_into, skip=frozenset(skip))
    assert plan.valid, plan.as_json()["problems"]
    assert plan.skipped == ["ghost", "twin"]
    record = legacy_import_apply(plan, options)
    assert sorted(i["instance_id"] for i in record.report["instances"]) == [701, 2901]
    # without its (skipped) timeframeRequirements the slot reads the strategy's TIMEFRAME (0), as the legacy padding
    assert LegacyInstanceConfig.objects.get(pk=701).rates_requirements == [
        {"symbol": "", "timeframe": 0, "bars": 50, "fetched_timeframe": 5}
    ]


def test_a_preset_without_a_magic_number_gets_the_users_choice(foreign, alice, paper_into, tmp_path):
    sets = {"autobbs_eurusd.set": AUTOBBS_SET.replace("STRATEGY_INSTANCE_ID=2901", "STRATEGY_INSTANCE_ID=-1")}
    folder = write_folder(tmp_path / "f", config=ATRADER.replace(", single_eurusd", ""), sets=sets)
    StrategyInstance.objects.create(
        instance_id=5000, name="x", account=paper_into, instrument=Instrument.objects.get(), strategy_id=19
    )
    plan, _ = _plan(folder, alice, paper_into)
    [problem] = plan.problems
    assert (problem.line, problem.skip_name()) == (7, "autobbs_eurusd")
    assert "assign autobbs_eurusd=NUMBER" in problem.why and "autobbs_eurusd=auto" in problem.why
    plan, _ = _plan(folder, alice, paper_into, assign={"autobbs_eurusd": 5000})
    assert "already used by an instance" in plan.problems[0].why
    plan, options = _plan(folder, alice, paper_into, assign={"autobbs_eurusd": "auto"})
    assert plan.valid
    record = legacy_import_apply(plan, options)
    assert record.report["instances"][0]["instance_id"] == 5001


def test_an_unknown_broker_is_reported_not_guessed(foreign, alice, eurusd_only, legacy_folder):
    config = legacy_folder / "config" / "atrader.config"
    config.write_text(config.read_text().replace("OANDA Corporation\nrefBrokerName", "FXDD-JForex\nrefBrokerName"))
    plan, _ = _plan(legacy_folder, alice)
    [problem] = [p for p in plan.problems if p.key == "brokerName"]
    assert problem.value == "FXDD-JForex" and "no JForex venue" in problem.why


def test_with_our_library_configured_a_legacy_strategy_is_refused_on_its_line(
    alice, paper_into, legacy_folder, monkeypatch
):
    monkeypatch.delenv("ASIRIKUY_FRAMEWORK_LIBRARY", raising=False)
    plan, _ = _plan(legacy_folder, alice, paper_into)
    assert {(p.key, p.line) for p in plan.problems} == {("strategyId", 37), ("strategyId", 47)}
    assert all("ASIRIKUY_FRAMEWORK_LIBRARY names ours" in p.why for p in plan.problems)


@pytest.fixture
def fake_oanda(settings):
    from tests.support.fake_oanda import FakeOanda
    from trading.venues.oanda.client import oanda_clients_reset

    server = FakeOanda.start(heartbeat_interval=0.1)
    settings.OANDA_PRACTICE_URL = settings.OANDA_PRACTICE_STREAM_URL = server.url
    oanda_clients_reset()
    yield server
    server.stop()
    oanda_clients_reset()


def test_the_account_section_becomes_an_oanda_account_checked_with_the_broker(
    foreign, alice, eurusd_only, tmp_path, fake_oanda
):
    folder = write_folder(tmp_path / "f", token=fake_oanda.token)
    config = folder / "config" / "atrader.config"
    config.write_text(config.read_text().replace("101-004-1234567-001", fake_oanda.account_id))
    plan, options = _plan(folder, alice)
    assert plan.valid, plan.as_json()["problems"]
    record = legacy_import_apply(plan, options)
    account = record.account
    assert (account.broker, account.environment, account.broker_account_id) == (
        "oanda",
        "practice",
        fake_oanda.account_id,
    )
    assert account.get_token() == fake_oanda.token and fake_oanda.token not in account.token_encrypted
    assert account.name == "Legacy portfolio" and account.virtual_orders is False
    assert StrategyInstance.objects.filter(account=account).count() == 2
    # [misc]'s SMTP lines: an e-mail notification channel of the owner, its URL (with the password) encrypted
    from ops.models import NotificationChannel
    from ops.notify.channels import channel_url

    channel = NotificationChannel.objects.get(owner=alice)
    assert (channel.service, channel.url_hint, channel.account_id) == ("E-Mail", "mailtos://…", account.pk)
    assert "mail-secret" not in channel.url_encrypted and "mail-secret" in channel_url(channel)
    assert record.report["notification_channel"] == channel.pk


def test_smtp_lines_that_make_no_channel_are_answered_on_their_line(foreign, alice, paper_into, tmp_path):
    folder = write_folder(tmp_path / "f", config=ATRADER.replace("port = 587", "port = many"))
    plan, _ = _plan(folder, alice, paper_into)
    assert [(p.line, p.key, p.why) for p in plan.problems] == [(6, "port", "a port is a number 1..65535")]
    folder = write_folder(tmp_path / "g", config=ATRADER.replace("to = me@example.org\n", ""))
    plan, _ = _plan(folder, alice, paper_into)
    assert [(p.key, p.why) for p in plan.problems] == [("to", "the SMTP lines of [misc] also need: to")]


def test_the_command_runs_a_dry_run_then_applies(foreign, alice, paper_into, legacy_folder, tmp_path):
    out = io.StringIO()
    call_command("legacy_import", str(legacy_folder), owner="alice", account=paper_into.pk, stdout=out)
    text = out.getvalue()
    assert "Library: " in text and "getFrameworkVersion 4.9.1, foreign" in text
    assert "[autobbs_eurusd] #2901" in text and "Not understood (0):" in text
    assert StrategyInstance.objects.count() == 0
    call_command("legacy_import", str(legacy_folder), owner="alice", account=paper_into.pk, apply=True, stdout=out)
    assert set(StrategyInstance.objects.values_list("pk", flat=True)) == {701, 2901}
    broken = _broken_folder(tmp_path / "broken")
    with pytest.raises(CommandError, match=r"line\(s\) not understood; nothing was written"):
        call_command(
            "legacy_import", str(broken), owner="alice", account=paper_into.pk, apply=True, stdout=io.StringIO()
        )


def _zip(folder):
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        for path in folder.rglob("*"):
            if path.is_file():
                archive.write(path, f"asirikuy-trader/{path.relative_to(folder)}")
    buffer.seek(0)
    buffer.name = "portfolio.zip"
    return buffer


def test_the_api_answers_a_dry_run_then_imports_or_returns_the_report(
    foreign, alice, paper_into, legacy_folder, tmp_path
):
    from rest_framework.test import APIClient

    api = APIClient()
    api.force_authenticate(alice)
    url = "/api/v1/legacy/import/"
    response = api.post(url, {"files": [_zip(legacy_folder)], "account": paper_into.pk}, format="multipart")
    assert response.status_code == 200, response.json()
    assert response.json()["plan"]["valid"] and response.json()["imported"] is None
    assert StrategyInstance.objects.count() == 0
    broken = _broken_folder(tmp_path / "broken")
    response = api.post(url, {"files": [_zip(broken)], "account": paper_into.pk, "dry_run": False}, format="multipart")
    assert response.status_code == 400
    assert len(response.json()["extra"]["problems"]) == 5 and StrategyInstance.objects.count() == 0
    files = [
        (legacy_folder / "config" / "atrader.config").open("rb"),
        (legacy_folder / "sets" / "autobbs_eurusd.set").open("rb"),
        (legacy_folder / "sets" / "single_eurusd.set").open("rb"),
    ]
    response = api.post(
        url, {"files": files, "account": paper_into.pk, "dry_run": False, "skip": ["single_eurusd"]}, format="multipart"
    )
    assert response.status_code == 201, response.json()
    assert [i["instance_id"] for i in response.json()["imported"]["instances"]] == [2901]
    assert api.get("/api/v1/legacy/imports/").json()[0]["files"].keys() == {
        "atrader.config",
        "autobbs_eurusd.set",
        "single_eurusd.set",
    }
    assert api.get("/api/v1/framework/library/").json()["version"] == "4.9.1"


def test_the_admin_upload_page_shows_the_dry_run_and_imports(foreign, admin_client, admin_user, legacy_folder):
    from django.core.files.uploadedfile import SimpleUploadedFile

    account = BrokerAccount.objects.create(owner=admin_user, name="Admin paper", broker="paper", currency="USD")
    Instrument.objects.create(symbol="EURUSD", base_currency="EUR", quote_currency="USD", digits=5, pip_location=-4)
    page = admin_client.get("/admin/trading/legacyimport/upload/")
    assert page.status_code == 200 and b"getFrameworkVersion 4.9.1" in page.content

    def upload(**extra):
        files = [
            SimpleUploadedFile(name, (legacy_folder / sub / name).read_bytes())
            for sub, name in (
                ("config", "atrader.config"),
                ("sets", "autobbs_eurusd.set"),
                ("sets", "single_eurusd.set"),
            )
        ]
        return admin_client.post(
            "/admin/trading/legacyimport/upload/", {"uploads": files, "account": account.pk, **extra}
        )

    page = upload(dry_run="Dry run")
    assert page.status_code == 200 and b"Would be created" in page.content and b"2901" in page.content
    assert StrategyInstance.objects.count() == 0
    done = upload(**{"import": "Import"})
    assert done.status_code == 302
    assert set(StrategyInstance.objects.values_list("pk", flat=True)) == {701, 2901}
    assert StrategyInstance.objects.get(pk=2901).risk_percent == Decimal("0.500")


def test_a_preset_asking_another_order_mode_or_an_unknown_clock_is_answered_on_its_line(
    foreign, alice, paper_into, legacy_folder
):
    paper_into.virtual_orders = True
    paper_into.save()
    config = legacy_folder / "config" / "atrader.config"
    config.write_text(config.read_text().replace("refBrokerName = OANDA Corporation", "refBrokerName = Atlantis FX"))
    plan, _ = _plan(legacy_folder, alice, paper_into)
    found = {(p.file, p.line, p.key): p.why for p in plan.problems}
    assert set(found) == {
        ("config/atrader.config", 20, "refBrokerName"),
        ("sets/autobbs_eurusd.set", 2, "USE_ORDER_WRAPPER"),
    }
    assert "not a broker of framework/config/broker-tz.csv" in found[("config/atrader.config", 20, "refBrokerName")]
    assert "the account uses virtual orders" in found[("sets/autobbs_eurusd.set", 2, "USE_ORDER_WRAPPER")]
