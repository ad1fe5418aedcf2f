"""Failures exactly as duo-client 5.7.0 surfaces them (duo-admin-api.md §2.5): a RuntimeError
"Received <status> <message>[ (<message_detail>)]" carrying `.status`, `.reason` and `.data`
(the parsed Duo error envelope)."""

import email.utils
import hashlib
import json
import time
import urllib.request

import pytest

SIGNING = {
    "v5": {},
    "v2-sha512": {"sig_version": 2},
    "v2-sha1": {"sig_version": 2, "digestmod": hashlib.sha1},
}


def raised(call, *args, **kwargs):
    with pytest.raises(RuntimeError) as info:
        result = call(*args, **kwargs)
        list(result)  # generators (get_users_by_ids, iterators) only call on iteration
    return info.value


def assert_duo_error(error, status, code, message, detail=None):
    text = f"Received {status} {message}" + (f" ({detail})" if detail else "")
    assert str(error) == text
    assert error.status == status
    expected = {"code": code, "message": message, "stat": "FAIL"}
    if detail:
        expected["message_detail"] = detail
    assert error.data == expected


@pytest.mark.parametrize("tls", [False, True], ids=["http", "tls"])
@pytest.mark.parametrize("signing", SIGNING, ids=list(SIGNING))
def test_wrong_skey_and_unknown_ikey_are_401(serve, admin_for, signing, tls):
    ready = serve("default.toml", tls=tls)
    good = admin_for(ready, **SIGNING[signing])
    wrong_skey = admin_for(ready, skey=good.skey[:-1] + ("x" if good.skey[-1] != "x" else "y"),
                           **SIGNING[signing])
    assert_duo_error(raised(wrong_skey.get_users), 401, 40103,
                     "Invalid signature in request credentials")
    # Another integration's skey with this ikey is just as wrong.
    other = admin_for(ready, skey=admin_for(ready, "no-admins").skey, **SIGNING[signing])
    assert_duo_error(raised(other.get_info_summary), 401, 40103,
                     "Invalid signature in request credentials")
    unknown = admin_for(ready, ikey="DIXXXXXXXXXXXXXXXXXX", **SIGNING[signing])
    assert_duo_error(raised(unknown.get_users), 401, 40102,
                     "Invalid integration key in request credentials")
    # ...while the right credentials work on the same server with the same signing.
    assert good.get_users(limit=1)


@pytest.mark.filterwarnings("ignore:The v1 Admin API for group details:DeprecationWarning")
def test_missing_grants_are_403_access_forbidden(serve, dump, admin_for):
    ready = serve("default.toml")
    truth = dump("default.toml")
    no_admins = admin_for(ready, "no-admins")
    no_resource = admin_for(ready, "no-read-resource")
    for call in (no_admins.get_admins, no_admins.get_admins_iterator,
                 no_resource.get_users, no_resource.get_groups,
                 lambda: no_resource.get_user_by_id(truth["users"][0]["user_id"]),
                 lambda: no_resource.get_group_users(truth["groups"][0]["group_id"]),
                 lambda: no_resource.get_user_groups(truth["users"][0]["user_id"]),
                 lambda: no_resource.get_group(truth["groups"][0]["group_id"], api_version=2),
                 lambda: no_resource.get_group(truth["groups"][0]["group_id"])):
        assert_duo_error(raised(call), 403, 40301, "Access forbidden")
    # No "Grant settings" on either of them.
    assert_duo_error(raised(no_admins.get_settings), 403, 40301, "Access forbidden")
    # The grants each of them does have still work.
    assert no_admins.get_users() == truth["users"]
    assert no_resource.get_admins() == truth["admins"]
    assert no_resource.get_info_summary()["admin_count"] == len(truth["admins"])


@pytest.mark.filterwarnings("ignore:The v1 Admin API for group details:DeprecationWarning")
def test_unknown_objects_are_404(serve, admin_for):
    admin = admin_for(serve("default.toml"))
    for call in (lambda: admin.get_user_by_id("DUXXXXXXXXXXXXXXXXXX"),
                 lambda: admin.get_user_groups("DUXXXXXXXXXXXXXXXXXX"),
                 lambda: admin.get_group("DGXXXXXXXXXXXXXXXXXX", api_version=2),
                 lambda: admin.get_group("DGXXXXXXXXXXXXXXXXXX"),
                 lambda: admin.get_group_users("DGXXXXXXXXXXXXXXXXXX")):
        assert_duo_error(raised(call), 404, 40401, "Resource not found")


def test_bad_paging_parameters_are_400(serve, admin_for):
    admin = admin_for(serve("default.toml"))
    assert_duo_error(raised(admin.get_users, limit=-1), 400, 40002,
                     "Invalid request parameters", "limit")
    assert_duo_error(raised(admin.get_users, limit="ten"), 400, 40002,
                     "Invalid request parameters", "limit")
    assert_duo_error(raised(admin.get_users, limit=10, offset="x"), 400, 40002,
                     "Invalid request parameters", "offset")


def test_more_than_100_ids_in_a_list_is_400(serve, dump, admin_for):
    users = dump("default.toml")["users"]
    admin = admin_for(serve("default.toml"))
    assert len(list(admin.get_users_by_ids([u["user_id"] for u in users[:100]]))) == 100
    error = raised(admin.get_users_by_ids, [u["user_id"] for u in users[:101]])
    assert_duo_error(error, 400, 40002, "Invalid request parameters", "user_id_list")


# --- 5. clock ---------------------------------------------------------------------------------

REAL_FORMATDATE = email.utils.formatdate


def shift_client_clock(monkeypatch, seconds):
    """duo_client formats its Date header with `email.utils.formatdate()` at call time."""
    monkeypatch.setattr(
        email.utils, "formatdate",
        lambda timeval=None, *a, **k: REAL_FORMATDATE(time.time() + seconds, *a, **k))


@pytest.mark.parametrize("signing", SIGNING, ids=list(SIGNING))
def test_the_clients_own_date_is_accepted_and_a_stale_one_is_not(serve, admin_for, monkeypatch,
                                                                  signing):
    admin = admin_for(serve("default.toml"), **SIGNING[signing])
    assert admin.get_info_summary()["admin_count"] > 0  # the Date as the client sends it
    # The clients re-send one signed request for ~63 s while backing off from 429, so a date a
    # minute old must still be good.
    shift_client_clock(monkeypatch, -60)
    assert admin.get_info_summary()["admin_count"] > 0
    shift_client_clock(monkeypatch, +60)
    assert admin.get_info_summary()["admin_count"] > 0
    for skew in (-600, +600, -86400):
        shift_client_clock(monkeypatch, skew)
        assert_duo_error(raised(admin.get_info_summary), 401, 40105, "Bad request timestamp")


@pytest.mark.parametrize("signing", SIGNING, ids=list(SIGNING))
def test_ids_that_need_quoting_are_signed_over_the_raw_path_and_not_found(serve, dump, admin_for,
                                                                        signing):
    """5.7.0 quote_plus-es user ids into the path and signs the quoted path. The server must
    verify over the path as received (so: 404, never 401) and decode it once, not twice."""
    real = dump("default.toml")["users"][0]["user_id"]
    last = real[-1]
    double_encoded = real[:-1] + "%" + format(ord(last), "02X")  # decodes twice to `real`
    admin = admin_for(serve("default.toml"), **SIGNING[signing])
    for user_id in ("DU X/Y", "a+b", "ü", "..", "DU%41", double_encoded, real + " ",
                    real.lower()):
        for call in (admin.get_user_by_id, admin.get_user_groups):
            assert_duo_error(raised(call, user_id), 404, 40401, "Resource not found")
    assert admin.get_user_by_id(real)["user_id"] == real


def control(ready, method, route, body=None):
    """One control API request (loopback, with the ready file's token); the answer's JSON."""
    request = urllib.request.Request(ready["control_url"] + route, method=method,
                                     data=None if body is None else json.dumps(body).encode(),
                                     headers={"X-Duo-Mock-Token": ready["control_token"]})
    with urllib.request.urlopen(request, timeout=60) as answer:
        return json.loads(answer.read())


def test_a_grant_a_change_removed_is_duos_403_to_the_client(serve, admin_for, monkeypatch):
    """scenarios/examples/grant-removed-monday.toml: a day on (by the control API's clock, and
    the client's), the integration's user list is Duo's 403 40301; its admin list still works."""
    ready = serve("examples/grant-removed-monday.toml")
    admin = admin_for(ready)
    assert len(admin.get_users()) == 50
    control(ready, "PUT", "/clock", {"offset_s": 86400})
    shift_client_clock(monkeypatch, 86400)
    assert_duo_error(raised(admin.get_users), 403, 40301, "Access forbidden")
    assert len(admin.get_admins()) == 3
    refused = [e for e in control(ready, "GET", "/journal")["entries"] if e["status"] == 403]
    assert [(e["integration"], e["signature_valid"], e["change"]) for e in refused] == [
        ("access-review", True, "read resource unticked on monday")]
