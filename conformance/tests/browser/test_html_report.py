"""The HTML report of `duo-conformance run --report html=FILE`, opened in headless Chromium: a real
run (the kit's self-test connector, broken so that it starts a list again after a 429) gives a
failed case and passed ones; the page shows them with their statuses, filters them, draws the
failed case's requests on a time axis with its 429 and the wait after it, and loads nothing."""

import subprocess

import pytest
from pytest_chromium import ROOT, binary, console, resources, wait_until
from selenium.webdriver.common.by import By
from selenium.webdriver.support.ui import Select

CASES = ["rate-limits-429-mid-list", "sync-1-user", "auth-wrong-skey"]


@pytest.fixture(scope="module")
def report(tmp_path_factory):
    kit = binary("DUO_CONFORMANCE_BIN", "duo-conformance")
    connector = kit.with_name("duo-broken-connector")
    path = tmp_path_factory.mktemp("report") / "report.html"
    args = [str(kit), "run", "--jobs", "2", "--report", f"html={path}",
            "--connector", f"'{connector}' sync --breakage restart-list-on-429"]
    for case in CASES:
        args += ["--case", case]
    run = subprocess.run(args, cwd=ROOT, capture_output=True, text=True, timeout=120)
    assert run.returncode == 1, run.stdout + run.stderr
    assert "2 passed, 1 failed" in run.stdout, run.stdout
    return path


def visible_cases(browser):
    return [row.get_attribute("id") for row in browser.find_elements(By.CSS_SELECTOR, "tr.case")
            if row.is_displayed()]


def test_the_report_shows_every_case_its_status_and_the_failed_ones_timeline(browser, report, screenshot):
    browser.get(report.as_uri())
    assert "1 failed" in browser.title
    statuses = {row.get_attribute("id"): row.get_attribute("data-status")
                for row in browser.find_elements(By.CSS_SELECTOR, "tr.case")}
    assert statuses == {
        "case-rate-limits-429-mid-list": "failed",
        "case-sync-1-user": "passed",
        "case-auth-wrong-skey": "passed",
    }
    failed = browser.find_element(By.ID, "case-rate-limits-429-mid-list")
    assert failed.find_element(By.CSS_SELECTOR, ".status").text == "failed"
    assert "read /admin/v1/users offset 0 again" in failed.text

    detail = browser.find_element(By.CSS_SELECTOR, "tr.detail[data-status=failed]")
    bars = detail.find_elements(By.CSS_SELECTOR, "svg.timeline rect.bar")
    assert len(bars) >= 3, detail.get_attribute("innerHTML")
    statuses = [bar.get_attribute("data-status") for bar in bars]
    assert "429" in statuses and "200" in statuses, statuses
    # The 429 is drawn in its own colour, and the wait after it as a line with its length.
    assert detail.find_elements(By.CSS_SELECTOR, "svg.timeline rect.bar.s-429")
    waits = detail.find_elements(By.CSS_SELECTOR, "svg.timeline line.wait")
    assert waits, detail.get_attribute("innerHTML")
    assert browser.execute_script(
        "return arguments[0].getBoundingClientRect().width", waits[0]) > 20, "a wait of about a second"
    assert "stderr" in detail.text
    screenshot("conformance-report")

    # The filters are the page's own script, allowed by its hash: they work.
    Select(browser.find_element(By.ID, "status")).select_by_value("failed")
    assert visible_cases(browser) == ["case-rate-limits-429-mid-list"]
    assert browser.find_element(By.ID, "shown").text == "1 of 3 cases shown"
    Select(browser.find_element(By.ID, "status")).select_by_value("")
    Select(browser.find_element(By.ID, "category")).select_by_value("auth")
    assert visible_cases(browser) == ["case-auth-wrong-skey"]
    assert not detail.is_displayed(), "a failed case's details hide with it"


def test_the_report_loads_nothing_and_its_policy_would_refuse_anything(browser, report):
    browser.get(report.as_uri())
    wait_until(browser, lambda b: b.execute_script("return document.readyState") == "complete",
               "the report never finished loading")
    assert resources(browser) == [], "the report loaded something"
    assert [e for e in console(browser) if e["level"] == "SEVERE"] == [], "refusals or errors"
    # The check above can fail: a load the page tries is refused by its policy, and said so.
    browser.execute_script("var i = new Image(); i.src = 'http://127.0.0.1:9/pixel.png';"
                           "document.body.appendChild(i);")
    refusals = wait_until(
        browser,
        lambda b: [e for e in console(b) if "Content Security Policy" in e["message"]],
        "an image load was neither refused nor reported")
    assert "127.0.0.1:9" in refusals[0]["message"], refusals
