"""The pytest plugin as a user's test suite meets it: the duo_mock fixture (default scenario, or the
marker's), duo_mock_factory, catalogue scenarios through Duo's client, and, in a separate pytest
run, that the fixtures leave no process behind and a failure's report shows the server's log."""

import pytest
from conftest import admin_for, process_gone, raised, record_pid


def test_the_duo_mock_fixture_serves_the_default_scenario_over_https(duo_mock):
    assert duo_mock.scenario.name == "default.toml" and duo_mock.base_url.startswith("https://")
    assert admin_for(duo_mock).get_users() == duo_mock.dump()["users"]


@pytest.mark.duo_mock(scenario="catalogue/d10-waf-cloudflare-403")
def test_the_marker_picks_a_waf_page_from_the_catalogue(duo_mock):
    error = raised(admin_for(duo_mock).get_users)
    assert str(error) == "Received 403 Forbidden"
    page = error.data if isinstance(error.data, str) else error.data.decode()
    assert "cloudflare" in page.lower()
    [entry] = duo_mock.requests(path="/admin/v1/users", status=403)
    assert entry["fault"] == "cloudflare-403"


@pytest.mark.duo_mock(scenario="catalogue/d06-missing-grant-read-resource")
def test_the_marker_picks_a_missing_grant_from_the_catalogue(duo_mock):
    assert str(raised(admin_for(duo_mock).get_users)) == "Received 403 Access forbidden"
    assert [e["duo_code"] for e in duo_mock.requests(status=403)] == [40301]


@pytest.mark.duo_mock("users-1", tls=False)
def test_the_marker_takes_the_constructors_arguments(duo_mock):
    assert duo_mock.base_url.startswith("http://") and duo_mock.scenario.name == "users-1.toml"
    assert len(admin_for(duo_mock).get_users()) == 1


def test_the_factory_starts_several_servers(duo_mock_factory):
    plain = duo_mock_factory("users-1", tls=False)
    waf = duo_mock_factory("catalogue/d10-waf-akamai-403")
    assert plain.port != waf.port
    assert len(admin_for(plain).get_users()) == 1
    assert str(raised(admin_for(waf).get_users)) == "Received 403 Forbidden"


INNER_TESTS = """
import os
import pytest

def write_pid(fake):
    with open(os.environ["INNER_PIDS"], "a") as out:
        out.write(f"{fake.pid}\\n")

def test_fixture(duo_mock):
    write_pid(duo_mock)

@pytest.mark.duo_mock(scenario="catalogue/d10-gateway-502", tls=False)
def test_marker_and_factory(duo_mock, duo_mock_factory):
    write_pid(duo_mock)
    write_pid(duo_mock_factory("users-1"))

def test_failing(duo_mock):
    write_pid(duo_mock)
    assert False, "this inner test fails on purpose"

def test_the_servers_of_earlier_tests_are_gone_already():
    with open(os.environ["INNER_PIDS"]) as pids:
        started = [int(line) for line in pids]
    assert len(started) == 4
    for pid in started:
        with pytest.raises(ProcessLookupError):
            os.kill(pid, 0)  # stopped and reaped at its test's end, not at exit
"""


def test_fixtures_stop_their_servers_at_test_end_and_failures_show_the_log(pytester, monkeypatch):
    pids = pytester.path / "pids.txt"
    monkeypatch.setenv("INNER_PIDS", str(pids))
    pytester.makepyfile(test_inner=INNER_TESTS)
    result = pytester.runpytest_subprocess("-p", "no:cacheprovider", "--strict-markers")
    result.assert_outcomes(passed=3, failed=1)
    result.stdout.fnmatch_lines(["*duo-mock default.toml pid * (running), last log lines*"])
    started = [int(line) for line in pids.read_text().split()]
    for pid in started:
        record_pid(pid)
    assert len(started) == 4 and len(set(started)) == 4
    assert [pid for pid in started if not process_gone(pid)] == []

