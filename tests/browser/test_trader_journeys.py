"""A trader's journeys in a real browser (headless Chromium): sign in, create an instance from the form and see it
run at the next bar, start a backtest and open its report, close a trade, engage the kill switch and see the
banner on every page, read the API docs offline.

The bar close and the backtest are driven from the test, by the same services the workers run
(``execution_bar_close``, ``backtest_run_execute``), instead of waiting for a minute of wall time; the page
picks the result up by itself (htmx polling), without a reload.
"""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta
from decimal import Decimal

import pytest
from selenium.webdriver.common.by import By
from selenium.webdriver.common.keys import Keys
from selenium.webdriver.support.ui import Select

from backtests.models import BacktestRun
from framework.catalog import MA_CROSSOVER
from risk.models import AuditLogEntry, KillSwitch
from trading.models import Execution, Instrument, StrategyInstance, Trade
from trading.services.accounts import account_create
from trading.services.execution.batch import execution_bar_close
from trading.services.feed import feed_ensure
from trading.services.instances import instance_create

from .conftest import accept_confirm

pytestmark = [pytest.mark.slow, pytest.mark.django_db(transaction=True)]


@pytest.fixture
def trader(django_user_model):
    """A trader who is not staff: the dashboard is theirs, the admin is not."""
    return django_user_model.objects.create_user("trader", password="trader-pass-4821")


@pytest.fixture
def market(trader):
    """A paper account and a simulated EURUSD with two days of bars (the simulated feed, as the demo has)."""
    instrument = Instrument.objects.create(
        symbol="EURUSD",
        broker_symbol="EUR_USD",
        base_currency="EUR",
        quote_currency="USD",
        digits=5,
        pip_location=-4,
        margin_rate=Decimal("0.0333"),
        spread_points=8,
        simulated=True,
        always_open=True,
    )
    feed_ensure(instrument, datetime.now(tz=UTC))
    account = account_create(owner=trader, name="Trader paper", initial_balance=Decimal("10000"))
    return account, instrument


def test_a_trader_signs_in_with_the_keyboard(browser, live_server, trader, wait_for):
    browser.get(live_server.url + "/")  # the dashboard sends a stranger to the sign-in page
    wait_for(lambda d: "/login/" in d.current_url, "the sign-in page")
    browser.find_element(By.ID, "id_username").send_keys("trader")
    browser.find_element(By.ID, "id_password").send_keys("trader-pass-4821" + Keys.ENTER)

    wait_for(
        lambda d: d.find_elements(By.CSS_SELECTOR, "main h1") and d.title == "Dashboard · Asirikuy Trader",
        "the dashboard",
    )
    assert "trader" in browser.find_element(By.TAG_NAME, "header").text
    assert not browser.find_elements(By.LINK_TEXT, "Admin")


def test_an_instance_made_with_the_form_runs_at_the_next_bar(browser, live_server, trader, market, sign_in, wait_for):
    account, _ = market
    sign_in(trader)
    browser.get(live_server.url + "/instances/new/")
    browser.find_element(By.ID, "id_name").send_keys("Browser MA")
    Select(browser.find_element(By.ID, "id_account")).select_by_visible_text("Trader paper (Paper (simulated))")
    Select(browser.find_element(By.ID, "id_strategy")).select_by_value(str(MA_CROSSOVER))
    # htmx swaps in the strategy's parameters, with the catalog's defaults
    fast = wait_for(lambda d: d.find_elements(By.ID, "id_param_FAST_PERIOD"), "the strategy's parameter fields")[0]
    assert fast.get_attribute("value") == "10"
    fast.clear()
    fast.send_keys("5")
    Select(browser.find_element(By.ID, "id_instrument")).select_by_value("EURUSD")
    Select(browser.find_element(By.ID, "id_timeframe")).select_by_visible_text("M1")
    browser.find_element(By.CSS_SELECTOR, "form button[type=submit].primary").click()

    wait_for(lambda d: "/instances/" in d.current_url and "/new/" not in d.current_url, "the instance page")
    instance = StrategyInstance.objects.get(name="Browser MA")
    assert (instance.account_id, instance.timeframe, instance.parameters["FAST_PERIOD"]) == (account.pk, 1, 5)
    assert "No executions yet" in browser.find_element(By.ID, "live-instance-executions").text

    execution_bar_close(account_id=account.pk, timeframe=1, now=datetime.now(tz=UTC))  # the bar closes

    execution = Execution.objects.get(instance=instance)
    assert execution.status == "success", execution.error
    row = f'[data-execution="{execution.pk}"]'
    cell = wait_for(lambda d: d.find_elements(By.CSS_SELECTOR, row), "the execution to appear without a reload")[0]
    assert "Success" in cell.text and execution.bar_time.strftime("%Y-%m-%d %H:%M") in cell.text
    assert browser.find_element(By.CSS_SELECTOR, "[data-chart=candles]").get_attribute("data-loaded") == "1"


def test_a_backtest_started_from_the_form_ends_in_its_report(browser, live_server, trader, market, sign_in, wait_for):
    account, instrument = market
    instance = instance_create(
        account=account, instrument=instrument, strategy_id=MA_CROSSOVER, name="Backtested MA", timeframe=1
    )
    sign_in(trader)
    browser.get(live_server.url + f"/backtests/new/?instance={instance.pk}")
    start = (datetime.now(tz=UTC) - timedelta(days=1)).date()  # the day before stays for the warm-up bars
    browser.find_element(By.ID, "id_start").send_keys(start.strftime("%m%d%Y"))
    browser.find_element(By.ID, "id_parameters").send_keys("FAST_PERIOD=4\nSLOW_PERIOD=12")
    browser.find_element(By.CSS_SELECTOR, "form button[type=submit].primary").click()

    wait_for(lambda d: d.find_elements(By.CSS_SELECTOR, "[data-status=pending]"), "the queued backtest's page")
    run = BacktestRun.objects.get(instance=instance)
    assert run.parameters == {"FAST_PERIOD": 4.0, "SLOW_PERIOD": 12.0} and run.start.date() == start

    from backtests.services.runs import backtest_run_execute

    run = backtest_run_execute(run_id=run.pk)  # what the backtests worker does with the queued task
    link = wait_for(lambda d: d.find_elements(By.CSS_SELECTOR, "a[data-report]"), "the finished run's report link")[0]
    link.click()

    wait_for(lambda d: d.find_elements(By.CSS_SELECTOR, "[data-stat=net_profit]"), "the report's statistics")
    report = browser.find_element(By.TAG_NAME, "main").text
    assert "MA_CROSSOVER on EURUSD M1" in report
    for label in ("Total Net Profit", "Profit Factor", "Sortino Ratio", "Compound Annual Growth Rate (CAGR)"):
        assert label in report
    assert "amounts in USD" in report
    assert re.fullmatch(
        r"-?\d{1,3}(,\d{3})*\.\d\d", browser.find_element(By.CSS_SELECTOR, "[data-stat=net_profit]").text
    )
    # the zoomable charts drew the tested candles and the equity (lightweight-charts, served by the app)
    charts = "[data-chart][data-loaded='1']"
    wait_for(lambda d: len(d.find_elements(By.CSS_SELECTOR, charts)) == 2, "the report's two charts")
    candles = browser.find_element(By.CSS_SELECTOR, "[data-chart=candles]")
    assert int(candles.get_attribute("data-candles")) >= run.bars_tested > 0


def test_a_trader_closes_a_trade_after_confirming(browser, live_server, trader, market, sign_in, wait_for):
    account, instrument = market
    trade = Trade.objects.create(
        account=account,
        instrument=instrument,
        side="buy",
        initial_units=Decimal("1000"),
        current_units=Decimal("1000"),
        open_time=datetime.now(tz=UTC) - timedelta(hours=1),
        open_price=Decimal("1.08000"),
        broker_trade_id="P-browser-1",
    )
    sign_in(trader)
    browser.get(live_server.url + f"/accounts/{account.pk}/")
    button = browser.find_element(
        By.CSS_SELECTOR, f'[data-trade="{trade.pk}"] button[aria-label="Close trade {trade.pk}"]'
    )
    button.click()
    accept_confirm(browser)

    wait_for(lambda d: "close order" in d.find_element(By.CSS_SELECTOR, ".messages").text, "the confirmation message")
    trade.refresh_from_db()
    assert trade.state == "closed" and trade.close_reason == "manual"
    assert not browser.find_elements(By.CSS_SELECTOR, f'[data-trade="{trade.pk}"]')
    entry = AuditLogEntry.objects.get(action="trade_close")
    assert (entry.username, entry.source, entry.object_id) == ("trader", "dashboard", str(trade.pk))


def test_the_kill_switch_banner_shows_on_every_page_while_engaged(
    browser, live_server, trader, market, sign_in, wait_for
):
    account, _ = market
    sign_in(trader)
    browser.get(live_server.url + "/risk/")
    assert not browser.find_elements(By.CSS_SELECTOR, "#banner [data-alert=danger]")
    browser.find_element(By.ID, f"reason-{account.pk}").send_keys("news at 14:30")
    browser.find_element(
        By.CSS_SELECTOR, f'form input[name=account][value="{account.pk}"] ~ button[value=engage]'
    ).click()
    accept_confirm(browser)

    wait_for(lambda d: d.find_elements(By.CSS_SELECTOR, "#banner [data-alert=danger]"), "the kill-switch banner")
    assert KillSwitch.objects.get(account=account).engaged
    for path in (
        "/",
        f"/accounts/{account.pk}/",
        "/backtests/",
        "/ops/",
        "/tokens/",
        f"/accounts/{account.pk}/trades/",
    ):
        browser.get(live_server.url + path)
        banner = browser.find_element(By.ID, "banner").text
        assert "Kill switch ENGAGED on Trader paper (news at 14:30)" in banner, path


def test_the_api_docs_render_offline(browser, live_server, trader, sign_in, wait_for):
    sign_in(trader)
    browser.get(live_server.url + "/api/docs/")

    operations = wait_for(lambda d: d.find_elements(By.CSS_SELECTOR, ".swagger-ui .opblock"), "Swagger UI's operations")
    assert len(operations) > 20
    loaded = browser.execute_script("return performance.getEntriesByType('resource').map(e => e.name)")
    assert loaded and all(url.startswith(live_server.url) for url in loaded), loaded
