"""Catalogue scenarios through Duo's official Python client: each failure must surface exactly as
the client reports it against the real thing (§6 and §2.5 of the API notes). Back-off sleeps are
recorded, not slept."""

import email.utils
import time

import duo_client.client
import pytest

CUSTOMER = "customer-connector"


def raised(call):
    with pytest.raises(RuntimeError) as info:
        call()
    return info.value


@pytest.fixture
def no_sleep(monkeypatch):
    """The client's back-off sleeps, recorded instead of slept (a burst of 429s would cost 7 s)."""
    slept = []
    monkeypatch.setattr(duo_client.client, "sleep", slept.append)
    return slept


@pytest.mark.parametrize(("scenario", "status", "reason"), [
    ("d10-waf-cloudflare-403", 403, "Forbidden"),
    ("d10-waf-akamai-403", 403, "Forbidden"),
    ("d10-proxy-407", 407, "Proxy Authentication Required"),
    ("d10-gateway-502", 502, "Bad Gateway"),
    ("d10-gateway-504", 504, "Gateway Timeout"),
])
def test_an_intermediary_page_is_reported_by_reason_phrase_not_duo_message(
        serve, admin_for, scenario, status, reason):
    ready = serve(f"catalogue/{scenario}.toml")
    error = raised(admin_for(ready, CUSTOMER).get_users)
    assert error.status == status
    assert str(error) == f"Received {status} {reason}"
    page = error.data if isinstance(error.data, str) else error.data.decode()
    assert "<html>" in page.lower(), page[:80]


def test_duos_own_403_names_access_forbidden(serve, admin_for):
    ready = serve("catalogue/d06-missing-grant-read-resource.toml")
    error = raised(admin_for(ready, CUSTOMER).get_users)
    assert str(error) == "Received 403 Access forbidden"
    assert admin_for(ready, CUSTOMER).get_admins(), "the grants it has still work"


def test_a_missing_administrators_grant_fails_only_admins(serve, admin_for, dump):
    ready = serve("catalogue/d06-missing-grant-administrators.toml")
    admin = admin_for(ready, CUSTOMER)
    assert admin.get_users() == dump("catalogue/d06-missing-grant-administrators.toml")["users"]
    assert str(raised(admin.get_admins)) == "Received 403 Access forbidden"


@pytest.mark.parametrize(("scenario", "message_start"), [
    ("d10-block-page-200", "Received bad response: <!DOCTYPE html>"),
    ("d10-empty-200", "Received bad response: "),
    ("d16-invalid-json", "Received bad response: {\"response\": [{\"user_id\": \"DU"),
    ("d16-stat-not-ok", "Received error response: "),
])
def test_a_200_that_is_not_a_duo_answer_is_a_bad_response(serve, admin_for, scenario, message_start):
    error = raised(admin_for(serve(f"catalogue/{scenario}.toml"), CUSTOMER).get_users)
    assert str(error).startswith(message_start), str(error)


def test_a_burst_of_429s_is_retried_and_succeeds(servers, admin_for, dump, no_sleep):
    server = servers.new("catalogue/d09-rate-limit-burst.toml")
    admin = admin_for(server.ready, CUSTOMER)
    assert admin.get_users() == dump("catalogue/d09-rate-limit-burst.toml")["users"]
    assert [int(s) for s in no_sleep] == [1, 2, 4], "Duo's back-off: 1, 2, 4 s plus jitter"
    assert all(0 <= s - int(s) < 1 for s in no_sleep)


def test_persistent_429_gives_up_after_seven_attempts(serve, admin_for, no_sleep):
    admin = admin_for(serve("catalogue/d09-rate-limit-persistent.toml"), CUSTOMER)
    error = raised(admin.get_users)
    assert str(error) == "Received 429 Too Many Requests"
    assert [int(s) for s in no_sleep] == [1, 2, 4, 8, 16, 32]
    assert admin.get_admins(), "other endpoints are not limited"


def test_a_server_error_mid_sync(servers, admin_for):
    server = servers.new("catalogue/d15-server-error-500.toml")
    error = raised(admin_for(server.ready, CUSTOMER, paging_limit=100).get_users)
    assert str(error) == "Received 500 Internal server error"


def test_service_unavailable_everywhere(serve, admin_for):
    error = raised(admin_for(serve("catalogue/d15-service-unavailable-503.toml"), CUSTOMER).get_info_summary)
    assert str(error) == "Received 503 Service Unavailable"


def test_a_slow_answer_times_the_client_out(serve, admin_for):
    admin = admin_for(serve("catalogue/d15-slow-answer.toml"), CUSTOMER, timeout=0.5)
    with pytest.raises(TimeoutError):
        admin.get_users()
    assert admin.get_admins(), "other endpoints answer at once"


@pytest.mark.parametrize("scenario", ["d03-clock-skew-server-ahead", "d03-clock-skew-server-behind"])
def test_clock_skew_is_a_bad_request_timestamp(serve, admin_for, scenario):
    error = raised(admin_for(serve(f"catalogue/{scenario}.toml"), CUSTOMER).get_users)
    assert str(error) == "Received 401 Bad request timestamp"


def test_a_client_clock_that_matches_the_skewed_server_gets_through(serve, admin_for, monkeypatch):
    ready = serve("catalogue/d03-clock-skew-server-ahead.toml")
    real = email.utils.formatdate
    monkeypatch.setattr(email.utils, "formatdate", lambda *a, **k: real(time.time() + 600))
    assert admin_for(ready, CUSTOMER).get_info_summary()["user_count"] > 0


def test_drift_keeps_ids_and_adds_what_duo_might_add(serve, admin_for, dump):
    users = admin_for(serve("catalogue/d14-response-drift.toml"), CUSTOMER).get_users()
    truth = dump("catalogue/d14-response-drift.toml")["users"]
    assert [u["user_id"] for u in users] == [u["user_id"] for u in truth]
    assert all(u["status"] == "quarantined" and "x_new_property" in u for u in users)


@pytest.mark.parametrize("scenario", ["d01-auth-api-keys", "d08-no-admin-api"])
def test_keys_the_admin_api_does_not_take_are_invalid_integration_keys(serve, admin_for, scenario):
    error = raised(admin_for(serve(f"catalogue/{scenario}.toml"), CUSTOMER).get_users)
    assert str(error) == "Received 401 Invalid integration key in request credentials"


def test_a_request_from_outside_the_allowed_networks_is_forbidden(serve, admin_for):
    error = raised(admin_for(serve("catalogue/d07-networks-for-api-access.toml"), CUSTOMER).get_users)
    assert str(error) == "Received 403 Access forbidden"


def test_churn_during_paging_makes_an_offset_pager_miss_users(servers, admin_for, dump):
    """Duo's own pager cannot tell: it returns a list missing five users that still exist."""
    name = "catalogue/d13-churn-during-paging.toml"
    server = servers.new(name)
    admin = admin_for(server.ready, CUSTOMER, paging_limit=300)
    users = admin.get_users()
    before = [u["user_id"] for u in dump(name)["users"]]
    got = [u["user_id"] for u in users]
    assert len(got) == 650 - 5 + 3
    missing = [uid for uid in before[5:] if uid not in got]
    assert missing == before[300:305], "the users that slid under the first page's end"
    assert admin.offsets("/admin/v1/users") == [0, 300, 600]


def test_short_pages_are_followed_by_next_offset(serve, admin_for, dump):
    name = "catalogue/d13-short-pages.toml"
    admin = admin_for(serve(name), CUSTOMER, paging_limit=300)
    assert admin.get_users() == dump(name)["users"]
    assert admin.offsets("/admin/v1/users") == list(range(0, 650, 37))


@pytest.mark.parametrize(("scenario", "words"), [
    ("d12-tls-inspection-foreign-ca", "unable to get local issuer certificate"),
    ("d12-expired-certificate", "certificate has expired"),
    ("d05-wrong-host-certificate", "hostname"),
])
def test_tls_faults_fail_certificate_checks(serve, admin_for, scenario, words):
    ready = serve(f"catalogue/{scenario}.toml")
    assert ready["ca_cert"] and ready["base_url"].startswith("https://localhost:")
    with pytest.raises(Exception) as error:
        admin_for(ready, CUSTOMER).get_users()
    assert words in str(error.value).lower(), repr(error.value)


def test_a_wrong_secret_key_is_an_invalid_signature(serve, admin_for):
    error = raised(admin_for(serve("catalogue/d02-wrong-secret-key.toml"), CUSTOMER).get_users)
    assert str(error) == "Received 401 Invalid signature in request credentials"


@pytest.mark.parametrize(("scenario", "error_type", "words"), [
    ("d15-connection-reset", ConnectionResetError, "reset"),
    ("d15-closed-before-answer", Exception, "closed connection without response"),
    ("d15-closed-mid-body", Exception, "IncompleteRead"),
])
def test_network_faults_surface_as_socket_errors(servers, admin_for, scenario, error_type, words):
    server = servers.new(f"catalogue/{scenario}.toml")
    admin = admin_for(server.ready, CUSTOMER, paging_limit=10)
    with pytest.raises(error_type) as error:
        admin.get_users()
    assert words.lower() in repr(error.value).lower(), repr(error.value)
    assert server.alive(), "the fake stays up"


def _through_proxy(ready, admin_for, headers=None):
    admin = admin_for(ready, CUSTOMER)
    proxy = ready["proxy_url"].removeprefix("http://")
    host, port = proxy.rsplit(":", 1)
    admin.set_proxy(host=host, port=int(port), headers=headers)
    return admin


def test_a_proxy_that_wants_credentials(serve, admin_for, dump):
    ready = serve("catalogue/d11-proxy-needs-credentials.toml")
    with pytest.raises(OSError) as error:
        _through_proxy(ready, admin_for).get_users()
    assert "Tunnel connection failed: 407 Proxy Authentication Required" in str(error.value)
    credentials = {"Proxy-Authorization": "Basic cHJveHktdXNlcjpwcm94eS1wYXNz"}  # proxy-user:proxy-pass
    users = _through_proxy(ready, admin_for, credentials).get_users()
    assert users == dump("catalogue/d11-proxy-needs-credentials.toml")["users"]


def test_a_proxy_that_blocks_the_destination(serve, admin_for):
    ready = serve("catalogue/d11-proxy-blocks-destination.toml")
    with pytest.raises(OSError) as error:
        _through_proxy(ready, admin_for).get_users()
    assert "Tunnel connection failed: 403 Forbidden" in str(error.value)


@pytest.mark.parametrize(("scenario", "message"), [
    ("d04-date-header-stripped", "Received 401 Missing request timestamp"),
    ("d04-date-header-rewritten", "Received 401 Invalid signature in request credentials"),
])
def test_a_date_changed_on_the_way(serve, admin_for, scenario, message):
    error = raised(admin_for(serve(f"catalogue/{scenario}.toml"), CUSTOMER).get_users)
    assert str(error) == message
