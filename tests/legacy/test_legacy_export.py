"""An instance back to a .set preset: unchanged, byte for byte; changed, only its lines; imported again, the same
settings; and the optimisation space our optimiser takes."""

from __future__ import annotations

from decimal import Decimal

import pytest
from legacy_support import AUTOBBS_SET, SINGLE_SET, crlf, write_folder

from trading.legacy.apply import legacy_import_apply
from trading.legacy.export import legacy_export_set
from trading.legacy.plan import ImportOptions, legacy_import_plan
from trading.legacy.source import source_from_folder
from trading.models import BrokerAccount, Instrument, LegacyInstanceConfig, StrategyInstance
from trading.services.execution.inputs import instance_settings


@pytest.fixture
def imported(foreign, alice, db, legacy_folder):
    Instrument.objects.create(symbol="EURUSD", base_currency="EUR", quote_currency="USD", digits=5, pip_location=-4)
    account = BrokerAccount.objects.create(owner=alice, name="paper", broker="paper", currency="USD")
    options = ImportOptions(owner=alice, account=account)
    plan = legacy_import_plan(source_from_folder(legacy_folder), options)
    legacy_import_apply(plan, options)
    return account


def test_an_unchanged_instance_exports_its_preset_byte_for_byte(imported):
    for instance_id, name, text in ((2901, "autobbs_eurusd.set", AUTOBBS_SET), (701, "single_eurusd.set", SINGLE_SET)):
        assert legacy_export_set(StrategyInstance.objects.get(pk=instance_id)) == (name, crlf(text))


def test_a_changed_instance_changes_only_its_lines_and_imports_back_to_the_same_settings(imported, alice, tmp_path):
    instance = StrategyInstance.objects.get(pk=2901)
    instance.parameters = {**instance.parameters, "AUTOBBS_TREND_MODE": 4, "AUTOBBS_KEYK": 1.5}
    del instance.parameters["AUTOBBS_STARTHOUR"]
    instance.risk_percent = Decimal("1.25")
    instance.max_spread = Decimal("0.00025")
    instance.save()
    legacy = LegacyInstanceConfig.objects.get(pk=2901)
    legacy.optimization_space = {"AUTOBBS_RISK_CAP": {"min": 1, "max": 3, "step": 0.5}}
    legacy.save()

    name, data = legacy_export_set(instance)

    before, after = crlf(AUTOBBS_SET).decode().split("\r\n"), data.decode().split("\r\n")
    changed = {(a, b) for a, b in zip(before[:-1], after, strict=False) if a != b}  # before[-1]: the final ""
    assert changed == {
        ("ACCOUNT_RISK_PERCENT=0.50000000", "ACCOUNT_RISK_PERCENT=1.25000000"),
        ("MAX_SPREAD_PIPS=3.00000000", "MAX_SPREAD_PIPS=2.50000000"),
        ("AUTOBBS_TREND_MODE=3", "AUTOBBS_TREND_MODE=4"),
        ("AUTOBBS_TREND_MODE,F=1", "AUTOBBS_TREND_MODE,F=0"),
        ("AUTOBBS_STARTHOUR=7", "AUTOBBS_STARTHOUR=0"),
    }
    assert after[len(before) - 1 :] == [
        "AUTOBBS_KEYK=1.50000000",
        "AUTOBBS_RISK_CAP,F=1",
        "AUTOBBS_RISK_CAP,1=1",
        "AUTOBBS_RISK_CAP,2=0.50000000",
        "AUTOBBS_RISK_CAP,3=3",
        "",
    ]
    expected = instance_settings(StrategyInstance.objects.get(pk=2901)).array.tobytes()

    # the exported preset, imported again in place of the instance: the library gets the very same settings
    StrategyInstance.objects.filter(pk__in=[2901, 701]).delete()
    folder = write_folder(tmp_path / "again", sets={"autobbs_eurusd.set": data.decode().replace("\r\n", "\n")})
    (folder / "config" / "atrader.config").write_text(
        (folder / "config" / "atrader.config").read_text().replace(", single_eurusd", "")
    )
    options = ImportOptions(owner=alice, account=imported)
    plan = legacy_import_plan(source_from_folder(folder), options)
    assert plan.valid, plan.as_json()["problems"]
    legacy_import_apply(plan, options)
    assert instance_settings(StrategyInstance.objects.get(pk=2901)).array.tobytes() == expected
    assert LegacyInstanceConfig.objects.get(pk=2901).optimization_space == {
        "AUTOBBS_RISK_CAP": {"min": 1, "max": 3, "step": 0.5}
    }


def test_an_instance_without_an_imported_preset_exports_a_new_one_that_imports_back(imported, alice, tmp_path):
    LegacyInstanceConfig.objects.filter(pk=701).update(set_file_text="", set_file_name="")
    instance = StrategyInstance.objects.get(pk=701)
    expected = instance_settings(instance).array.tobytes()
    name, data = legacy_export_set(instance)
    assert name == "701.set"
    assert data.decode().split("\r\n") == [
        "STRATEGY_INSTANCE_ID=701",
        "STRATEGY_TIMEFRAME=15",
        "MAX_OPEN_ORDERS=2",
        "SECTION_3=",
        "ADDITIONAL_PARAM_1=4",
        "ADDITIONAL_PARAM_2=1.25000000",
        "ADDITIONAL_PARAM_2,F=1",
        "ADDITIONAL_PARAM_2,1=1",
        "ADDITIONAL_PARAM_2,2=0.25000000",
        "ADDITIONAL_PARAM_2,3=2",
        "",
    ]
    StrategyInstance.objects.filter(pk=701).delete()
    folder = write_folder(tmp_path / "again", sets={"single_eurusd.set": data.decode().replace("\r\n", "\n")})
    config = folder / "config" / "atrader.config"
    config.write_text(config.read_text().replace("autobbs_eurusd, single_eurusd", "single_eurusd"))
    options = ImportOptions(owner=alice, account=imported)
    plan = legacy_import_plan(source_from_folder(folder), options)
    assert plan.valid, plan.as_json()["problems"]
    legacy_import_apply(plan, options)
    assert instance_settings(StrategyInstance.objects.get(pk=701)).array.tobytes() == expected


def test_the_imported_optimisation_space_is_a_search_space_of_our_optimiser(imported):
    from backtests.services.optimization import optimization_create, optimization_points

    legacy = LegacyInstanceConfig.objects.get(pk=2901)
    points = optimization_points(strategy_id=29, space=legacy.optimization_space, method="grid")
    assert points == [{"AUTOBBS_TREND_MODE": v} for v in range(11)]
    single = LegacyInstanceConfig.objects.get(pk=701)
    assert optimization_points(strategy_id=7, space=single.optimization_space, method="grid") == [
        {"ADDITIONAL_PARAM_2": v} for v in (1, 1.25, 1.5, 1.75, 2)
    ]
    search = optimization_create(instance=legacy.instance, space=legacy.optimization_space, engine="parity")
    assert search.passes.count() == 11
