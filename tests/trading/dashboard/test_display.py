"""Numbers people read: money, percentages, ratios, timeframes, durations, statistics."""

from __future__ import annotations

from datetime import timedelta
from decimal import Decimal

import pytest

from trading.dashboard import display


@pytest.mark.parametrize(
    ("value", "currency", "text"),
    [
        (Decimal("-4730.170000000004"), "USD", "-4,730.17 USD"),
        (-4730.170000000004, "EUR", "-4,730.17 EUR"),
        (Decimal("0.004"), "USD", "0.00 USD"),
        (Decimal("-0.004"), "USD", "0.00 USD"),
        (Decimal("1234567.895"), "", "1,234,567.90"),
        (None, "USD", "–"),
        ("nan", "USD", "–"),
    ],
)
def test_money_is_cents_grouped_with_the_currency(value, currency, text):
    assert display.money(value, currency) == text


def test_percentages_ratios_prices_and_units():
    assert display.percent(53.27456479241515) == "53.27%"
    assert display.ratio(0.5327456479241515) == "0.53"
    assert display.ratio(0.5327456479241515, 3) == "0.533"
    assert display.price(Decimal("1.084631"), 5) == "1.08463"
    assert display.price(Decimal("151.2"), 3) == "151.200"
    assert display.units(Decimal("10000.000000")) == "10,000"
    assert display.units(Decimal("1500.500000")) == "1,500.5"


@pytest.mark.parametrize(("minutes", "name"), [(1, "M1"), (240, "H4"), (1440, "D1"), (43200, "MN"), (7, "7 min")])
def test_timeframes_have_metatrader_names(minutes, name):
    assert display.timeframe_name(minutes) == name


@pytest.mark.parametrize(
    ("value", "text"),
    [
        (0.8, "0.8 s"),
        (45, "45 s"),
        (timedelta(minutes=12), "12 min"),
        (timedelta(hours=4, minutes=10, seconds=5), "4 h 10 min"),
        (timedelta(days=2, hours=3, minutes=59), "2 d 3 h"),
        (timedelta(days=2), "2 d"),
        (None, "–"),
    ],
)
def test_durations_are_humanised_to_two_units(value, text):
    assert display.duration(value) == text


def test_every_statistic_has_a_name_and_the_format_of_its_kind():
    stats = {
        "net_profit": -4730.170000000004,
        "profit_factor": 0.5327456479241515,
        "sortino_ratio": -1.23456,
        "cagr": -0.123456,
        "calmar_ratio": 0.3,
        "exposure": 41.666,
        "final_balance": 5269.83,
        "total_trades": 1234,
        "equity_drawdown_relative": 47.3012,
        "some_new_figure": 2,
    }

    table = {key: (name, value) for name, key, value in display.statistics_table(stats, "USD")}

    assert table["net_profit"] == ("Total Net Profit", "-4,730.17 USD")
    assert table["profit_factor"] == ("Profit Factor", "0.533")
    assert table["sortino_ratio"] == ("Sortino Ratio", "-1.235")
    assert table["cagr"] == ("Compound Annual Growth Rate (CAGR)", "-12.35%")
    assert table["calmar_ratio"][0] == "Calmar Ratio"
    assert table["exposure"] == ("Exposure (time in the market)", "41.67%")
    assert table["final_balance"] == ("Final Balance", "5,269.83 USD")
    assert table["total_trades"] == ("Total Trades", "1,234")
    assert table["equity_drawdown_relative"] == ("Equity Drawdown Relative", "47.30%")
    assert table["some_new_figure"][0] == "Some new figure"
    assert all(name for name, _ in table.values())
