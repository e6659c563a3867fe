"""A real browser for the trader journeys: Debian's Chromium, headless, driven by its chromedriver over WebDriver,
against pytest-django's live server (a thread of this process on the test database).

One browser serves every test of the session (starting Chromium costs seconds); each test starts with its
cookies cleared. Chromium resolves no host name but localhost, so a page that reached for the internet
(a CDN) would fail to load it. When a test fails, a screenshot and the page's HTML are saved and their paths
printed (ASIRIKUY_BROWSER_ARTIFACTS, default: a folder under the system's temporary directory).
"""

from __future__ import annotations

import os
import shutil
import tempfile
from collections.abc import Callable
from pathlib import Path

import pytest
from django.conf import settings as django_settings
from django.db import DEFAULT_DB_ALIAS, connections

CHROMIUM = os.environ.get("ASIRIKUY_CHROMIUM", "/usr/bin/chromium")
CHROMEDRIVER = os.environ.get("ASIRIKUY_CHROMEDRIVER", "/usr/bin/chromedriver")
ARTIFACTS = Path(
    os.environ.get("ASIRIKUY_BROWSER_ARTIFACTS", Path(tempfile.gettempdir()) / "asirikuy-browser-failures")
)
WAIT = 20  # seconds a condition may take in the browser (a bound, not a speed check)


@pytest.hookimpl(tryfirst=True, hookwrapper=True)
def pytest_runtest_makereport(item, call):
    outcome = yield
    report = outcome.get_result()
    setattr(item, f"rep_{report.when}", report)


@pytest.fixture(scope="session")
def browser_session(tmp_path_factory, django_db_setup):
    for path, package in ((CHROMIUM, "chromium"), (CHROMEDRIVER, "chromium-driver")):
        if not Path(path).exists():
            raise AssertionError(f"{path} is missing: install Debian's {package} (scripts/with_services.sh does)")
    from selenium import webdriver
    from selenium.webdriver.chrome.service import Service

    profile = tmp_path_factory.mktemp("chromium-profile")
    options = webdriver.ChromeOptions()
    options.binary_location = CHROMIUM
    for arg in (
        "--headless",
        "--no-sandbox",
        "--disable-gpu",
        "--disable-quic",
        "--no-first-run",
        "--disable-background-networking",
        "--disable-component-update",
        "--disable-sync",
        "--disable-dev-shm-usage",
        f"--user-data-dir={profile}",
        "--window-size=1366,1000",
        # Only loopback exists for this browser: any other host fails to resolve.
        "--host-resolver-rules=MAP * ~NOTFOUND, EXCLUDE localhost, EXCLUDE 127.0.0.1",
    ):
        options.add_argument(arg)
    driver = webdriver.Chrome(options=options, service=Service(CHROMEDRIVER))
    driver.set_page_load_timeout(60)
    # The live server answers each request in a thread of its own; a persistent connection would outlive the
    # thread and keep the test database busy when it is dropped.
    database = connections.settings[DEFAULT_DB_ALIAS]
    kept, database["CONN_MAX_AGE"] = database["CONN_MAX_AGE"], 0
    yield driver
    database["CONN_MAX_AGE"] = kept
    driver.quit()
    shutil.rmtree(profile, ignore_errors=True)


@pytest.fixture
def browser(browser_session, live_server, settings, request):
    """The shared browser, cookies cleared; a failing test leaves a screenshot and the page's HTML."""
    # The live server speaks plain HTTP; production mode's Secure cookies would never come back over it.
    settings.SESSION_COOKIE_SECURE = False
    settings.CSRF_COOKIE_SECURE = False
    browser_session.get(live_server.url + "/static/trading/favicon.svg")
    browser_session.delete_all_cookies()
    yield browser_session
    report = getattr(request.node, "rep_call", None)
    if report is not None and report.failed:
        ARTIFACTS.mkdir(parents=True, exist_ok=True)
        stem = ARTIFACTS / request.node.name
        browser_session.save_screenshot(str(stem.with_suffix(".png")))
        stem.with_suffix(".html").write_text(browser_session.page_source)
        print(f"browser test failed: screenshot {stem.with_suffix('.png')}, page {stem.with_suffix('.html')}")
    browser_session.get("about:blank")  # stop the page's polling before the test database goes away


@pytest.fixture
def sign_in(browser, live_server, client):
    """Open a signed-in session for ``user`` in the browser (the login form itself has its own journey)."""

    def go(user) -> None:
        client.force_login(user)
        cookie = client.cookies[django_settings.SESSION_COOKIE_NAME]
        browser.add_cookie({"name": django_settings.SESSION_COOKIE_NAME, "value": cookie.value, "path": "/"})

    return go


@pytest.fixture
def wait_for(browser) -> Callable:
    """Poll a condition in the browser until it holds (or fail after WAIT seconds saying what was awaited)."""
    from selenium.webdriver.support.ui import WebDriverWait

    def wait(condition: Callable, what: str, timeout: float = WAIT):
        try:
            return WebDriverWait(browser, timeout, poll_frequency=0.2).until(lambda d: condition(d))
        except Exception as e:
            raise AssertionError(f"timed out after {timeout}s waiting for {what}") from e

    return wait


def accept_confirm(browser) -> None:
    """Accept the confirmation dialog a data-confirm button opens (trading/static/trading/confirm.js)."""
    from selenium.webdriver.support import expected_conditions
    from selenium.webdriver.support.ui import WebDriverWait

    WebDriverWait(browser, WAIT).until(expected_conditions.alert_is_present())
    browser.switch_to.alert.accept()
