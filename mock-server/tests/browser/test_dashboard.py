"""The dashboard of a running `duo-mock serve`, in headless Chromium: no route answers without the
token, the token leaves the address bar, the requests page shows requests made after it loaded
(by Duo's own Python client), a 401 row opens to the canonical strings the fake expected, the
tenant page finds a user by name, and the scenario page's buttons change what the control API
reports. Every page is photographed into target/browser-screenshots/."""

import http.cookiejar
import re
import urllib.error
import urllib.request

import duo_client
import pytest
from duo_mock import DuoMock
from pytest_chromium import console, resources, wait_until
from selenium.webdriver.common.by import By

ROUTES = ["/requests", "/requests/1", "/tenant", "/scenario", "/api/requests?after=0",
          "/assets/dashboard.js", "/assets/dashboard.css", "/no-such-page"]
POSTS = ["/scenario/reset", "/scenario/clock", "/scenario/load", "/api/skey"]


@pytest.fixture(scope="module")
def fake():
    with DuoMock("default", tls=False) as fake:
        yield fake


def dashboard(fake):
    return fake.info["dashboard_url"].split("?")[0]


def status_of(url, method="GET", headers=None, body=None):
    """The status of one plain HTTP request, redirects not followed."""
    class NoRedirect(urllib.request.HTTPRedirectHandler):
        def redirect_request(self, *args, **kwargs):
            return None
    opener = urllib.request.build_opener(urllib.request.ProxyHandler({}), NoRedirect)
    request = urllib.request.Request(url, method=method, headers=headers or {}, data=body)
    try:
        with opener.open(request, timeout=30) as answer:
            return answer.status
    except urllib.error.HTTPError as error:
        return error.code


def signed_in(browser, fake):
    browser.get(fake.info["dashboard_url"])
    wait_until(browser, lambda b: b.current_url.endswith("/__duo-mock/dashboard/requests"),
               "the dashboard_url did not land on the requests page")


def admin(fake, **changes):
    return duo_client.Admin(**{**fake.client_kwargs(), "host": "127.0.0.1", **changes})


def test_no_route_answers_without_the_token(browser, fake):
    base = dashboard(fake)
    for route in ROUTES:
        assert status_of(base + route) == 403, route
        browser.get(base + route)
        assert "403 Forbidden" in browser.find_element(By.TAG_NAME, "body").text, route
    for route in POSTS:
        assert status_of(base + route, "POST", body=b"", headers={"Origin": base.split("/__")[0]}) == 403, route
    assert status_of(base + "?token=not-the-token") == 403
    assert status_of(base) == 403, "the entry without its token"
    # With the cookie a page answers; a change from another origin, or with none, does not.
    signed_in(browser, fake)
    cookie = "; ".join(f"{c['name']}={c['value']}" for c in browser.get_cookies())
    origin = base.split("/__")[0]
    assert status_of(base + "/requests", headers={"Cookie": cookie}) == 200
    clock = fake.clock()["offset_s"]
    form = b"offset_s=77"
    assert status_of(base + "/scenario/clock", "POST", {"Cookie": cookie}, form) == 403
    assert status_of(base + "/scenario/clock", "POST",
                     {"Cookie": cookie, "Origin": "http://evil.example"}, form) == 403
    assert status_of(base + "/scenario/clock", "POST",
                     {"Cookie": cookie, "Origin": origin, "Sec-Fetch-Site": "cross-site"}, form) == 403
    assert fake.clock()["offset_s"] == clock, "a refused change changed nothing"
    assert status_of(base + "/scenario/clock", "POST", {"Cookie": cookie, "Origin": origin}, form) == 303
    assert fake.clock()["offset_s"] == 77
    fake.set_clock_offset(clock)


def test_the_token_is_traded_for_a_strict_http_only_cookie_and_leaves_the_address_bar(browser, fake):
    signed_in(browser, fake)
    assert "token" not in browser.current_url
    assert "token" not in browser.execute_script("return window.location.href + document.referrer")
    cookies = browser.get_cookies()
    assert len(cookies) == 1, cookies
    assert cookies[0]["httpOnly"] is True
    assert cookies[0]["sameSite"] == "Strict"
    assert fake.info["control_token"] not in cookies[0]["value"], "the cookie is not the token"
    assert browser.execute_script("return document.cookie") == "", "scripts cannot read it"


def test_the_requests_page_shows_requests_made_after_it_loaded(browser, fake, screenshot):
    fake.clear_journal()
    signed_in(browser, fake)
    first = int(browser.find_element(By.ID, "requests").get_attribute("data-last"))
    users = admin(fake).get_users()
    assert len(users) == 343
    with pytest.raises(RuntimeError, match="401"):
        admin(fake, skey="x" * 40).get_admins()

    def new_rows(b):
        rows = b.find_elements(By.CSS_SELECTOR, "#requests tbody tr[data-seq]")
        return [r for r in rows if int(r.get_attribute("data-seq")) > first]
    rows = wait_until(browser, lambda b: len(new_rows(b)) >= 5 and new_rows(b),
                      "the requests made after the page loaded never appeared")
    newest = rows[0]
    assert newest.get_attribute("data-status") == "401"
    cells = [c.text for c in newest.find_elements(By.TAG_NAME, "td")]
    assert cells[1:3] == ["GET", "/admin/v1/admins?limit=100&offset=0"], cells
    assert cells[3] == "access-review" and cells[5] == "401" and cells[6] == "40103", cells
    ok = [r for r in rows if r.get_attribute("data-status") == "200"]
    assert ok and "v5" in [c.text for c in ok[0].find_elements(By.TAG_NAME, "td")]
    assert browser.find_element(By.ID, "live-status").text == "live"
    assert [e for e in console(browser) if e["level"] == "SEVERE"] == []
    assert all(url.startswith(dashboard(fake)) for url in resources(browser)), resources(browser)
    # The pages name their icon: the browser asks no /favicon.ico of the API, which the journal
    # would record among the client's requests.
    paths = {entry["path"] for entry in fake.journal()}
    assert paths == {"/admin/v1/users", "/admin/v1/admins"}, paths
    screenshot("dashboard-requests")

    # The filters are the server's: status 401 leaves the one refused request.
    browser.get(dashboard(fake) + "/requests?status=4xx&path=admins")
    statuses = {r.get_attribute("data-status")
                for r in browser.find_elements(By.CSS_SELECTOR, "#requests tbody tr")}
    assert statuses == {"401"}


def test_a_401_row_opens_to_the_canonical_strings_the_fake_expected(browser, fake, screenshot):
    with pytest.raises(RuntimeError, match="401"):
        admin(fake, skey="y" * 40).get_admins()
    signed_in(browser, fake)
    browser.get(dashboard(fake) + "/requests?status=401")
    browser.find_element(By.CSS_SELECTOR, "#requests tbody tr[data-status='401'] td.path a").click()
    why = wait_until(browser, lambda b: b.find_elements(By.CSS_SELECTOR, ".why"),
                     "the request page has no explanation")[0]
    assert "The signature does not match" in why.text
    assert "Likeliest slip" in why.text
    versions = [th.text for th in why.find_elements(By.CSS_SELECTOR, "table.canonical tbody th")]
    assert versions == ["v1-sha1", "v1-sha512", "v2-sha1", "v2-sha512", "v4", "v5"], versions
    canonical = [pre.text for pre in why.find_elements(By.CSS_SELECTOR, "pre.canonical")]
    port = str(fake.port)
    # Duo's Python client signs v5 (date, method, host without the port, path, params, hashes).
    assert any(re.match(r"^\w{3}, \d\d \w{3} \d{4} [\d:]{8} -0000\nGET\n127\.0\.0\.1\n/admin/v1/admins\n"
                        r"limit=100&offset=0\n[0-9a-f]{128}\n[0-9a-f]{128}$", text)
               for text in canonical), canonical
    assert any(f"127.0.0.1:{port}" in text for text in canonical), "the host with its port is tried"
    assert not why.find_elements(By.CSS_SELECTOR, "td.match"), "a wrong skey matches nothing"
    assert fake.skey not in browser.page_source, "the skey is never shown"
    assert [e for e in console(browser) if e["level"] == "SEVERE"] == []
    screenshot("dashboard-request-401")


def test_the_tenant_page_finds_a_user_by_name(browser, fake, screenshot):
    wanted = fake.dump()["users"][123]
    signed_in(browser, fake)
    browser.get(dashboard(fake) + "/tenant")
    assert browser.find_element(By.ID, "range").text == "1 to 50 of 343"
    search = browser.find_element(By.CSS_SELECTOR, "input[name=q]")
    search.send_keys(wanted["realname"].upper())
    search.submit()
    table = wait_until(browser, lambda b: "matching" in b.find_element(By.ID, "range").text
                       and b.find_element(By.ID, "objects"), "the search did not run")
    usernames = [row.find_elements(By.TAG_NAME, "td")[1].text
                 for row in table.find_elements(By.CSS_SELECTOR, "tbody tr")]
    assert wanted["username"] in usernames, usernames
    assert [e for e in console(browser) if e["level"] == "SEVERE"] == []
    screenshot("dashboard-tenant")
    # Paged on the server: the next page of all users starts at 51.
    browser.get(dashboard(fake) + "/tenant?kind=users")
    browser.find_element(By.CSS_SELECTOR, "a[rel=next]").click()
    assert wait_until(browser, lambda b: b.find_element(By.ID, "range").text == "51 to 100 of 343",
                      "no second page")
    browser.get(dashboard(fake) + "/tenant?kind=groups")
    groups = browser.find_elements(By.CSS_SELECTOR, "#objects tbody tr")
    assert len(groups) == len(fake.dump()["groups"])


def test_the_scenario_buttons_change_what_the_control_api_reports(browser, fake, screenshot):
    signed_in(browser, fake)
    browser.get(dashboard(fake) + "/scenario")
    offset = browser.find_element(By.ID, "clock-offset")
    offset.clear()
    offset.send_keys("3600")
    browser.find_element(By.ID, "set-clock").click()
    wait_until(browser, lambda b: "+3600 s" in b.find_element(By.ID, "clock").text, "the clock did not move")
    assert fake.clock()["offset_s"] == 3600

    reveal = browser.find_element(By.CSS_SELECTOR, "button[data-reveal='access-review']")
    cell = reveal.find_element(By.XPATH, "..")
    assert fake.skey not in browser.page_source, "masked until asked"
    reveal.click()
    wait_until(browser, lambda b: fake.skey in cell.text, "the skey was not revealed")
    assert [e for e in console(browser) if e["level"] == "SEVERE"] == [], "the page's policy held"
    screenshot("dashboard-scenario")

    browser.find_element(By.ID, "reset").click()
    wait_until(browser, lambda b: "+0 s" in b.find_element(By.ID, "clock").text, "reset did not reset the clock")
    assert fake.clock()["offset_s"] == 0

    # Loading another bundled scenario changes what the API serves.
    browser.find_element(By.CSS_SELECTOR, "#scenario-name option[value='users-1.toml']").click()
    browser.find_element(By.ID, "load").click()
    wait_until(browser, lambda b: "users-1.toml" in b.find_element(By.CSS_SELECTOR, "main .meta").text,
               "the scenario did not load")
    assert len(fake.dump()["users"]) == 1
    browser.find_element(By.CSS_SELECTOR, "#scenario-name option[value='default.toml']").click()
    browser.find_element(By.ID, "load").click()
    wait_until(browser, lambda b: "default.toml" in b.find_element(By.CSS_SELECTOR, "main .meta").text,
               "the default scenario did not load back")
    assert len(fake.dump()["users"]) == 343
