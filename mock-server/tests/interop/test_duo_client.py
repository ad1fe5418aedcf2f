"""Duo's official Python client (duo-client 5.7.0) against the fake: it must page through
everything, sign every way it can, and fail exactly as it does against Duo."""

import email.utils
import hashlib
import json
import time
import urllib.request

import pytest

from conftest import make_admin

SIGNING = {
    "v5": {},
    "v2-sha512": {"sig_version": 2},
    "v2-sha1": {"sig_version": 2, "digestmod": hashlib.sha1},
}


@pytest.mark.parametrize("tls", [False, True], ids=["http", "tls"])
@pytest.mark.parametrize("signing", SIGNING, ids=list(SIGNING))
def test_lists_equal_dump_for_every_signature_and_transport(servers, dump, signing, tls):
    ready = servers.get("default.toml", tls=tls)
    truth = dump("default.toml")
    admin = make_admin(ready, **SIGNING[signing])
    assert admin.get_users() == truth["users"]
    assert admin.get_admins() == truth["admins"]
    assert admin.get_groups() == truth["groups"]
    assert len(truth["users"]) == 343


PAGED_SCENARIOS = ["default.toml", "users-300.toml", "users-301.toml", "empty.toml",
                   "users-1.toml", "unicode.toml"]


# Every scenario at every page size, except limit 1 on the 300/301 tenants (default.toml already
# pages 343 users one by one; those two add nothing but time).
PAGING = [(s, n) for s in PAGED_SCENARIOS for n in (1, 7, 100, 300)
          if not (n == 1 and s in ("users-300.toml", "users-301.toml"))]


@pytest.mark.parametrize(("scenario", "paging_limit"), PAGING)
def test_paging_returns_everything_once(servers, dump, scenario, paging_limit):
    ready = servers.get(scenario)
    truth = dump(scenario)
    admin = make_admin(ready, paging_limit=paging_limit)
    assert admin.get_users() == truth["users"]
    assert admin.get_admins() == truth["admins"]
    assert admin.get_groups() == truth["groups"]
    for group in truth["groups"]:
        members = admin.get_group_users(group["group_id"])
        assert members == truth["group_members"][group["group_id"]], group["name"]
    users = truth["users"]
    # Users with the most groups, and some with none.
    sample = sorted(users, key=lambda u: -len(u["groups"]))[:5] + \
        [u for u in users if not u["groups"]][:3]
    for user in sample:
        assert admin.get_user_groups(user["user_id"]) == user["groups"], user["username"]


def test_single_objects_and_filters_with_unicode_names(servers, dump):
    ready = servers.get("unicode.toml")
    truth = dump("unicode.toml")
    admin = make_admin(ready)
    by_name = {u["username"]: u for u in truth["users"]}
    zoe = by_name["zoë o'brien+ops"]
    li = by_name["李 小龙/qa"]
    jozef = by_name["józef żółć (contractor)"]
    assert admin.get_user_by_id(zoe["user_id"]) == zoe
    assert admin.get_users_by_name("zoë o'brien+ops") == [zoe]
    assert admin.get_users_by_name("ζωή") == [zoe]  # an alias
    assert admin.get_users_by_name("🐉 dragon") == [li]
    assert admin.get_users_by_name("nobody at all") == []
    ids = [li["user_id"], zoe["user_id"], jozef["user_id"]]
    expected = [u for u in truth["users"] if u["user_id"] in ids]
    assert list(admin.get_users_by_ids(ids)) == expected
    assert list(admin.get_users_by_names(["z o b", "józef żółć (contractor)"])) == \
        [u for u in truth["users"] if u["user_id"] in (zoe["user_id"], jozef["user_id"])]
    for user in truth["users"][:40]:
        assert admin.get_user_by_id(user["user_id"]) == user


def test_group_v2_summary_and_settings(servers, dump):
    ready = servers.get("default.toml")
    truth = dump("default.toml")
    admin = make_admin(ready)
    for group in truth["groups"]:
        assert admin.get_group(group["group_id"], api_version=2) == group
    summary = admin.get_info_summary()
    assert set(summary) == {"admin_count", "integration_count", "telephony_credits_remaining",
                            "user_count", "user_pending_deletion_count"}
    assert all(isinstance(v, int) for v in summary.values())
    pending = sum(1 for u in truth["users"] if u["status"] == "pending deletion")
    assert summary["user_count"] == len(truth["users"]) - pending
    assert summary["admin_count"] == len(truth["admins"])
    settings = admin.get_settings()
    assert settings["name"] == "Acme Corp"


def raised(call):
    with pytest.raises(RuntimeError) as info:
        call()
    return info.value


@pytest.mark.parametrize("signing", SIGNING, ids=list(SIGNING))
def test_auth_failures_surface_like_duo(servers, signing):
    ready = servers.get("default.toml")
    wrong_skey = make_admin(ready, skey="x" * 40, **SIGNING[signing])
    error = raised(wrong_skey.get_users)
    assert str(error) == "Received 401 Invalid signature in request credentials"
    assert error.status == 401
    unknown = make_admin(ready, ikey="DIXXXXXXXXXXXXXXXXXX", **SIGNING[signing])
    error = raised(unknown.get_users)
    assert str(error) == "Received 401 Invalid integration key in request credentials"


def test_missing_grants_are_403_access_forbidden(servers, dump):
    ready = servers.get("default.toml")
    error = raised(make_admin(ready, "no-admins").get_admins)
    assert str(error) == "Received 403 Access forbidden"
    assert error.status == 403
    error = raised(make_admin(ready, "no-read-resource").get_users)
    assert str(error) == "Received 403 Access forbidden"
    # The other grants of the same integrations still work.
    assert make_admin(ready, "no-admins").get_users() == dump("default.toml")["users"]
    assert make_admin(ready, "no-read-resource").get_admins() == dump("default.toml")["admins"]


def test_unknown_object_is_404(servers):
    admin = make_admin(servers.get("default.toml"))
    error = raised(lambda: admin.get_user_by_id("DUXXXXXXXXXXXXXXXXXX"))
    assert str(error) == "Received 404 Resource not found"
    assert error.status == 404


def test_a_stale_date_is_a_bad_request_timestamp(servers, monkeypatch):
    admin = make_admin(servers.get("default.toml"))
    admin.get_info_summary()  # the client's own date is accepted
    real = email.utils.formatdate
    monkeypatch.setattr(email.utils, "formatdate", lambda *a, **k: real(time.time() - 600))
    error = raised(admin.get_info_summary)
    assert str(error) == "Received 401 Bad request timestamp"


def test_ping_is_unsigned(servers):
    ready = servers.get("default.toml")
    with urllib.request.urlopen(ready["base_url"] + "/auth/v2/ping", timeout=10) as response:
        body = json.loads(response.read())
    assert body["stat"] == "OK"
    assert isinstance(body["response"]["time"], int)
    assert abs(body["response"]["time"] - time.time()) < 10
