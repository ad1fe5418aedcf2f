"""Journal helpers on what Duo's client really sent: filters by path, status and method; a page
read twice; back-off after a 429 (kept to one 429, so the client's real back-off costs ~1-2 s)."""

from urllib.parse import parse_qsl

import duo_client.client
import duo_mock
import pytest
from conftest import admin_for, raised


@pytest.fixture(scope="module")
def paged():
    """The default tenant (several pages) read once, plus one refused call."""
    with duo_mock.DuoMock() as fake:
        admin_for(fake).get_users()
        lacking = next(i["name"] for i in fake.integrations
                       if "Grant administrators" not in i["grants"])
        raised(admin_for(fake, lacking).get_admins)
        yield fake


def offsets(entries):
    return [int(dict(parse_qsl(e["query"]))["offset"]) for e in entries]


def test_requests_filters_by_exact_path_and_status(paged):
    pages = paged.requests(path="/admin/v1/users", status=200)
    limit = int(dict(parse_qsl(pages[0]["query"]))["limit"])
    users = len(paged.dump()["users"])
    assert offsets(pages) == list(range(0, users, limit)) and len(pages) > 1
    assert {(e["method"], e["status"]) for e in pages} == {("GET", 200)}
    assert paged.requests(path="/admin/v1/users", status=403) == []


def test_requests_filters_by_pattern_status_range_and_method(paged):
    refused = paged.requests(path="/admin/v1/*", status=range(400, 500))
    assert [(e["path"], e["status"], e["duo_code"]) for e in refused] == \
        [("/admin/v1/admins", 403, 40301)]
    pages = len(paged.requests(path="/admin/v1/users"))
    assert len(paged.requests(path="/admin/*")) == pages + 1
    assert len(paged.requests(status=[200, 403], method="get")) == pages + 1
    assert paged.requests(method="POST") == []
    assert paged.requests(path="/admin/v1/user") == [], "no prefix match without *"


def test_one_read_of_each_page_passes_and_a_second_read_fails():
    with duo_mock.DuoMock("users-301") as fake:
        admin = admin_for(fake)
        admin.get_users()
        fake.assert_no_page_read_twice()
        pages = len(fake.requests(path="/admin/v1/users"))
        admin.get_users()
        with pytest.raises(AssertionError) as error:
            fake.assert_no_page_read_twice()
        message = str(error.value)
        assert message.startswith(f"{pages} page(s) read twice"), message
        assert "GET /admin/v1/users?" in message and "by access-review" in message


def test_assertions_on_an_empty_journal_fail_instead_of_passing_vacuously():
    empty = duo_mock.Journal([])
    with pytest.raises(AssertionError, match="nothing was read"):
        empty.assert_no_page_read_twice()
    with pytest.raises(AssertionError, match="no 429 answer in the journal"):
        empty.assert_backoff_after_429()


@pytest.fixture
def one_429(tmp_path):
    """The catalogue's 429 burst cut to a single 429 on the first user-list request."""
    text = duo_mock.scenario_path("catalogue/d09-rate-limit-burst").read_text()
    assert "calls = [1, 3]" in text
    scenario = tmp_path / "one-429.toml"
    scenario.write_text(text.replace("calls = [1, 3]", "calls = [1, 1]"))
    return scenario


def test_duo_clients_backoff_after_a_429_passes_and_a_longer_minimum_fails(one_429):
    with duo_mock.DuoMock(one_429) as fake:
        admin_for(fake).get_users()
        statuses = [e["status"] for e in fake.requests(path="/admin/v1/users")]
        assert statuses[:2] == [429, 200] and set(statuses[1:]) == {200}, statuses
        fake.assert_backoff_after_429(min_s=1)
        with pytest.raises(AssertionError, match=r"less than 5 s after a 429"):
            # Duo's client waits 1 s plus under 1 s of jitter.
            fake.assert_backoff_after_429(min_s=5)


def test_a_retry_without_backoff_fails(one_429, monkeypatch):
    monkeypatch.setattr(duo_client.client, "sleep", lambda _s: None)
    with duo_mock.DuoMock(one_429, tls=False) as fake:
        admin_for(fake).get_users()
        with pytest.raises(AssertionError) as error:
            fake.assert_backoff_after_429()
        message = str(error.value)
        assert message.startswith("1 request(s) less than 1 s after a 429"), message
        assert "GET /admin/v1/users?" in message
