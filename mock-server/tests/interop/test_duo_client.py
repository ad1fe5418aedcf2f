"""Duo's official Python client (duo-client 5.7.0) against the fake: every way it signs, over
plain HTTP and TLS, reads exactly what `duo-mock dump` says the tenant holds; single-object and
filtered look-ups work with the awkward names of unicode.toml."""

import hashlib
import string
import tomllib
import unicodedata
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest

SCENARIOS = Path(__file__).resolve().parents[3] / "scenarios"

SIGNING = {
    "v5": {},
    "v2-sha512": {"sig_version": 2},
    "v2-sha1": {"sig_version": 2, "digestmod": hashlib.sha1},
}


def scenario_toml(name):
    with open(SCENARIOS / name, "rb") as f:
        return tomllib.load(f)


def pages(total, limit):
    """The offsets a correct pager requests for `total` objects at page size `limit`."""
    return list(range(0, total, limit)) or [0]


# --- 1. signature version x transport ---------------------------------------------------------

@pytest.mark.parametrize("tls", [False, True], ids=["http", "tls"])
@pytest.mark.parametrize("signing", SIGNING, ids=list(SIGNING))
def test_lists_equal_dump_for_every_signature_and_transport(serve, dump, admin_for, signing, tls):
    ready = serve("default.toml", tls=tls)
    truth = dump("default.toml")
    assert (len(truth["users"]), len(truth["admins"]), len(truth["groups"])) == (343, 11, 15)
    admin = admin_for(ready, **SIGNING[signing])
    assert admin.sig_version == (2 if signing != "v5" else 5)

    assert admin.get_users() == truth["users"]
    assert admin.get_admins() == truth["admins"]
    assert admin.get_groups() == truth["groups"]
    # The client's default page size is 100: four pages of users, one each of admins and groups.
    assert admin.offsets("/admin/v1/users") == [0, 100, 200, 300]
    assert admin.offsets("/admin/v1/admins") == [0]
    assert admin.offsets("/admin/v1/groups") == [0]


def test_ready_file_matches_the_scenario(serve):
    scenario = scenario_toml("default.toml")
    for tls in (False, True):
        ready = serve("default.toml", tls=tls)
        assert ready["api_host"] == scenario["tenant"]["api_hostname"]
        assert isinstance(ready["port"], int) and ready["port"] > 0
        if tls:
            assert ready["base_url"] == f"https://localhost:{ready['port']}"
            with open(ready["ca_cert"]) as f:
                assert "BEGIN CERTIFICATE" in f.read()
        else:
            assert ready["base_url"] == f"http://127.0.0.1:{ready['port']}"
            assert ready["ca_cert"] is None
        expected = {i["name"]: (i["ikey"], i["skey"], sorted(g.lower() for g in i["grants"]))
                    for i in scenario["integrations"]}
        got = {i["name"]: (i["ikey"], i["skey"], sorted(g.lower() for g in i["grants"]))
               for i in ready["integrations"]}
        assert got == expected


@pytest.mark.parametrize("variant", ["http-localhost", "tls-unverified-ip", "tls-system-trust"])
def test_other_ways_of_pointing_the_client_at_the_fake(serve, dump, admin_for, monkeypatch,
                                                       variant):
    """The client signs the `host` it was given (never the port): 127.0.0.1 and localhost both
    verify; TLS also works unverified and through the system trust store (5.7.0's
    disable_ca_pinning), which reads SSL_CERT_FILE."""
    truth = dump("default.toml")
    if variant == "http-localhost":
        admin = admin_for(serve("default.toml"), host="localhost")
    elif variant == "tls-unverified-ip":
        admin = admin_for(serve("default.toml", tls=True), host="127.0.0.1", ca_certs="DISABLE")
    else:
        ready = serve("default.toml", tls=True)
        monkeypatch.setenv("SSL_CERT_FILE", ready["ca_cert"])
        admin = admin_for(ready, ca_certs=None, disable_ca_pinning=True)
    assert admin.get_users(limit=5) == truth["users"][:5]
    assert admin.get_info_summary()["admin_count"] == len(truth["admins"])


# --- 3. single objects and filters ------------------------------------------------------------

def by_username(truth):
    return {u["username"]: u for u in truth["users"]}


def matching(truth, name):
    """Users whose username or one of whose aliases is `name` (Duo's `username` filter)."""
    return [u for u in truth["users"] if u["username"] == name or name in u["aliases"].values()]


def test_named_unicode_users_by_id_name_and_alias(serve, dump, admin_for):
    truth = dump("unicode.toml")
    admin = admin_for(serve("unicode.toml"))
    users = by_username(truth)
    zoe, li, jozef = users["zoë o'brien+ops"], users["李 小龙/qa"], users["józef żółć (contractor)"]
    assert sorted(zoe["aliases"].values()) == sorted(["zoë", "z o b", "ζωή"])
    assert sorted(li["aliases"].values()) == sorted(["li&xiaolong", "🐉 dragon"])

    for user in (zoe, li, jozef):
        assert admin.get_user_by_id(user["user_id"]) == user
        assert admin.get_users_by_name(user["username"]) == [user]
        assert admin.get_user_groups(user["user_id"]) == user["groups"]
    for alias in ("zoë", "z o b", "ζωή"):
        assert admin.get_users_by_name(alias) == [zoe], alias
    for alias in ("li&xiaolong", "🐉 dragon"):
        assert admin.get_users_by_name(alias) == [li], alias
    assert admin.get_users_by_name("nobody at all") == []
    assert admin.get_users_by_name("zoë o'brien") == []  # no prefix matching

    # JSON-string list parameters (what 5.7.0 sends), in tenant order.
    want = sorted([zoe, li, jozef], key=truth["users"].index)
    assert list(admin.get_users_by_ids([li["user_id"], zoe["user_id"], jozef["user_id"]])) == want
    assert list(admin.get_users_by_names(["z o b", "józef żółć (contractor)", "li&xiaolong"])) \
        == want
    assert list(admin.get_users_by_names(["🐉 dragon"])) == [li]
    assert list(admin.get_users_by_ids([zoe["user_id"], "DUNOSUCHUSER00000000"])) == [zoe]
    assert list(admin.get_users_by_names(["nobody at all"])) == []


def test_every_unicode_user_by_id_username_and_alias(serve, dump, admin_for):
    truth = dump("unicode.toml")
    admin = admin_for(serve("unicode.toml"))
    awkward = [u for u in truth["users"] if any(c in u["username"] for c in " '+/&,()") or
               not u["username"].isascii()]
    assert len(awkward) > 100, "unicode.toml should have many unusual usernames"
    names_checked = 0
    for user in truth["users"]:
        assert admin.get_user_by_id(user["user_id"]) == user
        for name in [user["username"], *user["aliases"].values()]:
            expected = matching(truth, name)
            if len(expected) == 1:  # a name shared by two users proves nothing about this one
                assert admin.get_users_by_name(name) == expected, name
                names_checked += 1
    assert names_checked >= len(truth["users"])


AWKWARD_VALUES = [
    string.punctuation, "a b", "a+b", "100%", "%41", "a=b&c=d", "~*'()!", "é",
    unicodedata.normalize("NFD", "é"), "😀", "\t", "a\nb", "x" * 3000, " leading", "trailing ",
    "\u00a0nbsp", "\u202eRTL", '["json", "in", "json"]', "back\\slash", "日本語 テスト",
]


@pytest.mark.parametrize("signing", SIGNING, ids=list(SIGNING))
def test_awkward_parameter_values_verify_and_match_nothing(serve, admin_for, signing):
    """Signature canonicalization of query values (duo-admin-api.md §1.3) under every signing
    variant: each is a valid, signed request for a user who does not exist."""
    admin = admin_for(serve("unicode.toml"), **SIGNING[signing])
    for value in AWKWARD_VALUES:
        assert admin.get_users_by_name(value) == [], repr(value)
    assert list(admin.get_users_by_names(AWKWARD_VALUES)) == []


def test_concurrent_clients_page_consistently(serve, dump, admin_for):
    """Several official clients paging at once (threads, separate connections)."""
    ready = serve("default.toml")
    truth = dump("default.toml")

    def work(i):
        admin = admin_for(ready, paging_limit=[7, 50, 100, 300][i % 4],
                          **list(SIGNING.values())[i % 3])
        return admin.get_users(), admin.get_groups(), admin.get_admins()

    with ThreadPoolExecutor(max_workers=8) as pool:
        results = list(pool.map(work, range(16)))
    for users, groups, admins in results:
        assert users == truth["users"]
        assert groups == truth["groups"]
        assert admins == truth["admins"]


@pytest.mark.parametrize("scenario", ["default.toml", "unicode.toml"])
def test_users_by_ids_and_names_in_chunks_of_100(serve, dump, admin_for, scenario):
    """How Duo's own example resolves group members: user_id_list / username_list, 100 at a time."""
    truth = dump(scenario)
    admin = admin_for(serve(scenario))
    users = truth["users"]
    for start in range(0, len(users), 100):
        chunk = users[start:start + 100]
        assert list(admin.get_users_by_ids([u["user_id"] for u in chunk])) == chunk
        unique = [u for u in chunk if len(matching(truth, u["username"])) == 1]
        assert list(admin.get_users_by_names([u["username"] for u in unique])) == unique


@pytest.mark.parametrize("scenario", ["default.toml", "unicode.toml"])
def test_group_v2_equals_the_listed_group(serve, dump, admin_for, scenario):
    truth = dump(scenario)
    admin = admin_for(serve(scenario))
    assert truth["groups"]
    for group in truth["groups"]:
        assert admin.get_group(group["group_id"], api_version=2) == group
    assert {path for (_, path, _) in admin.calls} == \
        {f"/admin/v2/groups/{g['group_id']}" for g in truth["groups"]}


@pytest.mark.parametrize("scenario", ["default.toml", "unicode.toml"])
def test_group_v1_the_clients_default_is_the_group_and_its_members(serve, dump, admin_for,
                                                                  scenario):
    """`get_group(id)` asks the deprecated v1 handler unless told otherwise (and warns): the
    listed group, plus every member as the v2 members list shows them, in `users`."""
    truth = dump(scenario)
    admin = admin_for(serve(scenario))
    assert any(truth["group_members"][g["group_id"]] for g in truth["groups"])
    for group in truth["groups"]:
        with pytest.warns(DeprecationWarning):
            v1 = admin.get_group(group["group_id"])
        members = truth["group_members"][group["group_id"]]
        assert v1 == {**group, "users": members}
        assert admin.get_group(group["group_id"], api_version=2) == group
    assert {path for (_, path, _) in admin.calls} == \
        {f"/admin/v{v}/groups/{g['group_id']}" for g in truth["groups"] for v in (1, 2)}


@pytest.mark.parametrize("scenario", ["default.toml", "unicode.toml", "empty.toml"])
def test_info_summary_counts_the_tenant(serve, dump, admin_for, scenario):
    truth = dump(scenario)
    summary = admin_for(serve(scenario)).get_info_summary()
    assert sorted(summary) == ["admin_count", "integration_count", "telephony_credits_remaining",
                               "user_count", "user_pending_deletion_count"]
    assert all(type(v) is int for v in summary.values()), summary
    pending = sum(1 for u in truth["users"] if u["status"] == "pending deletion")
    assert summary["user_pending_deletion_count"] == pending
    assert summary["user_count"] == len(truth["users"]) - pending
    assert summary["admin_count"] == len(truth["admins"])
    assert summary["integration_count"] == len(scenario_toml(scenario)["integrations"])
    credits = scenario_toml(scenario)["tenant"].get("telephony_credits_remaining")
    if credits is not None:
        assert summary["telephony_credits_remaining"] == credits


SETTINGS_KEYS = {  # duo-admin-api.md §3.7
    "name", "caller_id", "fraud_email", "fraud_email_enabled", "helpdesk_bypass",
    "helpdesk_bypass_expiration", "helpdesk_can_send_enroll_email", "helpdesk_message",
    "inactive_user_expiration", "keypress_confirm", "keypress_fraud", "language",
    "lockout_expire_duration", "lockout_threshold", "minimum_password_length",
    "password_requires_upper_alpha", "password_requires_lower_alpha", "password_requires_numeric",
    "password_requires_special", "sms_batch", "sms_expiration", "sms_message", "sms_refresh",
    "telephony_warning_min", "timezone", "user_telephony_cost_max",
}


@pytest.mark.parametrize("scenario", ["default.toml", "empty.toml"])
def test_settings_object(serve, admin_for, scenario):
    settings = admin_for(serve(scenario)).get_settings()
    assert isinstance(settings, dict)
    assert SETTINGS_KEYS <= set(settings), SETTINGS_KEYS - set(settings)
    assert settings["name"] == scenario_toml(scenario)["tenant"].get("name", "Example Tenant")
    assert settings["helpdesk_bypass"] in ("allow", "limit", "deny")
    for key in ("fraud_email_enabled", "helpdesk_can_send_enroll_email",
                "password_requires_upper_alpha", "password_requires_lower_alpha",
                "password_requires_numeric", "password_requires_special"):
        assert type(settings[key]) is bool, key
    for key in ("lockout_threshold", "minimum_password_length"):
        assert type(settings[key]) is int, key
