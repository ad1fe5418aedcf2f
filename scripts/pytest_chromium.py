"""A pytest plugin: headless Chromium (Debian's ``chromium`` and ``chromium-driver``) through
WebDriver (Selenium), for the browser tests of the fake's dashboard and the kit's HTML report.
Loaded by scripts/browser-tests.sh with ``-p pytest_chromium``.

Fixtures: ``browser``, one Chromium for the whole run, handed to each test with no cookies, on a
blank page, and its console read empty; ``screenshot(name)``, which saves the page as
``target/browser-screenshots/NAME.png``. Helpers: ``console(browser)`` (what the page logged
since the last call, CSP refusals included) and ``resources(browser)`` (every URL the page
loaded, from its performance entries)."""

import os
import shutil
from pathlib import Path

import pytest
from selenium import webdriver
from selenium.webdriver.chrome.service import Service
from selenium.common.exceptions import NoSuchElementException, StaleElementReferenceException
from selenium.webdriver.support.ui import WebDriverWait

ROOT = Path(__file__).resolve().parents[1]
SCREENSHOTS = ROOT / "target" / "browser-screenshots"
WAIT_S = 15  # a debug build on a busy 2-core machine; pages normally answer in milliseconds


def _program(*names):
    for name in names:
        found = shutil.which(name)
        if found:
            return found
    raise RuntimeError(f"none of {names} on PATH: run scripts/browser-tests.sh, which installs them")


@pytest.fixture(scope="session")
def _chromium():
    options = webdriver.ChromeOptions()
    options.binary_location = _program("chromium", "chromium-browser")
    for flag in (
        "--headless=new",
        "--no-sandbox",  # CI runs as root, where Chromium's sandbox cannot start
        "--disable-dev-shm-usage",
        "--disable-gpu",
        "--window-size=1280,900",
        "--no-first-run",
        "--disable-background-networking",
        "--disable-component-update",
        "--disable-sync",
        "--disable-extensions",
    ):
        options.add_argument(flag)
    options.set_capability("goog:loggingPrefs", {"browser": "ALL"})
    # An explicit driver path: Selenium Manager (which would download one) never runs.
    service = Service(executable_path=_program("chromedriver"))
    driver = webdriver.Chrome(service=service, options=options)
    driver.set_page_load_timeout(WAIT_S * 2)
    yield driver
    driver.quit()


@pytest.fixture
def browser(_chromium):
    _chromium.get("about:blank")
    _chromium.delete_all_cookies()
    console(_chromium)
    return _chromium


@pytest.fixture
def screenshot(browser):
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)

    def take(name):
        path = SCREENSHOTS / f"{name}.png"
        browser.save_screenshot(str(path))
        return path

    return take


def console(browser):
    """The console entries logged since the last call: ``[{"level", "message"}]``."""
    return browser.get_log("browser")


def resources(browser):
    """The URL of every resource the page loaded (scripts, styles, images, fetches)."""
    return browser.execute_script(
        "return performance.getEntriesByType('resource').map(function (e) { return e.name; });"
    )


def wait_until(browser, condition, message, timeout=WAIT_S):
    """Waits until ``condition(browser)`` is truthy and returns it; fails with ``message``. An
    element missing or gone stale (the page is being replaced) counts as not yet."""
    return WebDriverWait(browser, timeout, poll_frequency=0.05,
                         ignored_exceptions=(NoSuchElementException, StaleElementReferenceException)).until(
        lambda driver: condition(driver), message
    )


def binary(env, name):
    """A binary of this workspace: ``$ENV`` if set, else ``target/debug/NAME``."""
    path = Path(os.environ.get(env) or ROOT / "target" / "debug" / name)
    if not path.is_file():
        raise RuntimeError(f"{path} not found: build it, or set {env}")
    return path
