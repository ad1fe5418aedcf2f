"""Duo's official Python client (duo-client 5.7.0) reading the account's objects: integrations
(checked against the scenario file itself), administrative units, the administrators' extras,
policies v2, the logo and billing (checked against `duo-mock dump` and the scenario). Each read
method 5.7.0 has for them is called; the routes it has no method for are called through its own
`json_api_call` / `json_paging_api_call`."""

import tomllib
from pathlib import Path

import duo_client.admin
import pytest

SCENARIOS = Path(__file__).resolve().parents[3] / "scenarios"

FLAGS = {
    "grant read resource": "adminapi_read_resource",
    "grant write resource": "adminapi_write_resource",
    "grant administrators": "adminapi_admins",
    "grant read information": "adminapi_info",
    "grant settings": "adminapi_settings",
    "grant read log": "adminapi_read_log",
    "grant applications": "adminapi_integrations",
}
TYPES = {"admin-api": "adminapi", "auth-api": "authapi", "web-sdk": "websdk",
         "accounts-api": "accountsapi"}


def scenario_toml(name):
    with open(SCENARIOS / name, "rb") as f:
        return tomllib.load(f)


@pytest.fixture
def full(serve, admin_for):
    """The official client signed by default.toml's integration with every read grant."""
    return admin_for(serve("default.toml"), "full-read")


def check_integration(got, written):
    assert got["integration_key"] == written["ikey"]
    assert got["name"] == written["name"]
    assert got["type"] == TYPES[written.get("type", "admin-api")]
    granted = {FLAGS[g.lower()] for g in written["grants"]}
    for flag in FLAGS.values():
        assert got[flag] == (1 if flag in granted else 0), (written["name"], flag)
    assert written["skey"] not in repr(got), "a listed integration shows its secret key"
    assert got["secret_key"].endswith(written["skey"][-4:])
    assert set(got["secret_key"][:-4]) == {"*"}


def test_integrations_v3_every_one_of_the_scenario_with_its_grants(full):
    written = scenario_toml("default.toml")["integrations"]
    listed = full.get_integrations()
    assert [i["integration_key"] for i in listed] == [w["ikey"] for w in written]
    for got, w in zip(listed, written):
        check_integration(got, w)
        assert full.get_integration(w["ikey"]) == got
    assert list(full.get_integrations_generator()) == listed
    assert full.get_integrations(limit=2, offset=4) == listed[4:6]
    assert full.offsets("/admin/v3/integrations")[:1] == [0]


def test_integrations_legacy_v1_and_v2_lists_and_v2_by_key(full):
    written = scenario_toml("default.toml")["integrations"]
    for version in ("v1", "v2"):
        listed = list(full.json_paging_api_call("GET", f"/admin/{version}/integrations", {}))
        assert [i["integration_key"] for i in listed] == [w["ikey"] for w in written]
        for got, w in zip(listed, written):
            check_integration(got, w)
            assert "user_access" not in got
    v2 = full.json_api_call("GET", f"/admin/v2/integrations/{written[0]['ikey']}", {})
    check_integration(v2, written[0])


def test_the_secret_key_is_read_only_through_its_route(full, serve, admin_for):
    for w in scenario_toml("default.toml")["integrations"]:
        assert full.get_secret_key(w["ikey"]) == {"secret_key": w["skey"]}
    reader = admin_for(serve("default.toml"), "access-review")
    with pytest.raises(RuntimeError, match="403"):
        reader.get_secret_key(scenario_toml("default.toml")["integrations"][0]["ikey"])
    with pytest.raises(RuntimeError, match="403"):
        reader.get_integrations()


def test_administrative_units_and_their_filters(serve, dump, admin_for):
    admin = admin_for(serve("default.toml"))
    truth = dump("default.toml")
    units = truth["admin_units"]
    assert len(units) == len(scenario_toml("default.toml")["admin_units"]) == 2
    assert admin.get_administrative_units() == units
    assert list(admin.get_administrative_units_iterator()) == units
    assert admin.get_administrative_units(limit=1, offset=1) == units[1:]
    rita = next(a for a in truth["admins"] if a["email"] == "rita.regional@acme.example")
    assert admin.get_administrative_units(admin_id=rita["admin_id"]) == [units[0]]
    assert admin.get_admin(rita["admin_id"])["admin_units"] == [units[0]["admin_unit_id"]]
    assert admin.get_admin(rita["admin_id"])["restricted_by_admin_units"] is True
    vpn = scenario_toml("default.toml")["integrations"][4]["ikey"]
    assert admin.get_administrative_units(integration_key=vpn) == [units[0]]
    for unit in units:
        assert admin.get_administrative_units(group_id=unit["groups"][0]) == [unit]
        one = admin.json_api_call("GET", f"/admin/v1/administrative_units/{unit['admin_unit_id']}", {})
        assert one == unit
    assert admin.get_administrative_units(group_id="DGNOSUCHGROUP0000000") == []
    with pytest.raises(RuntimeError, match="400"):
        admin.json_api_call("GET", "/admin/v1/administrative_units",
                            {"admin_id": rita["admin_id"], "group_id": units[0]["groups"][0]})


def test_the_administrators_extras(serve, dump, admin_for):
    admin = admin_for(serve("default.toml"))
    truth = dump("default.toml")
    statuses = admin.get_external_password_mgmt_statuses()
    assert statuses == truth["password_mgmt"]
    assert [s["admin_id"] for s in statuses] == [a["admin_id"] for a in truth["admins"]]
    assert admin.get_external_password_mgmt_statuses(limit=3, offset=2) == statuses[2:5]
    for a in truth["admins"]:
        status = admin.get_external_password_mgmt_status_for_admin(a["admin_id"])
        assert status["has_external_password_mgmt"] is (a["email"] == "rita.regional@acme.example")
        assert admin.get_admin(a["admin_id"]) == a
    assert admin.get_allowed_admin_auth_methods() == truth["allowed_auth_methods"]
    activations = list(admin.json_paging_api_call("GET", "/admin/v1/admins/activations", {}))
    assert activations == truth["activations"]
    pending = [a for a in truth["admins"] if a["status"] == "Pending Activation"]
    assert [x["email"] for x in activations] == [a["email"] for a in pending]


def test_policies_v2(serve, dump, admin_for):
    admin = admin_for(serve("default.toml"))
    truth = dump("default.toml")
    policies = admin.get_policies_v2()
    assert policies == truth["policies"]
    assert list(admin.get_policies_v2_iterator()) == policies
    assert admin.get_policies_v2(limit=1, offset=0) == policies[:1]
    assert admin.get_policy_v2("global") == policies[0]
    assert policies[0]["is_global_policy"] is True
    written = scenario_toml("default.toml")["policies"]
    assert [p["policy_name"] for p in policies[1:]] == [w["name"] for w in written]
    for policy in policies:
        assert admin.get_policy_v2(policy["policy_key"]) == policy
    summary = admin.get_policy_summary_v2()
    assert summary == truth["policy_summary"]
    assert summary["policy_count"] == len(policies)
    ikeys = {i["name"]: i["ikey"] for i in scenario_toml("default.toml")["integrations"]}
    for entry, w in zip(summary["policies"][1:], written):
        assert [a["app_integration_key"] for a in entry["policy_applies_to"]] == \
            [ikeys[name] for name in w["integrations"]]
    user = truth["users"][0]["user_id"]
    for w in scenario_toml("default.toml")["integrations"]:
        calculated = admin.calculate_policy(w["ikey"], user)
        keys = [e["policy_key"] for e in calculated["policy_elements"]]
        own = [p["policy_key"] for p, s in zip(policies[1:], written) if w["name"] in s["integrations"]]
        assert keys == [policies[0]["policy_key"]] + own
        assert set(calculated["sections"]) >= set(policies[0]["sections"])
    full = admin_for(serve("default.toml"), "full-read")
    for entry in summary["policies"][1:]:
        for applied in entry["policy_applies_to"]:
            assert full.get_integration(applied["app_integration_key"])["policy_key"] == entry["policy_key"]


# 5.7.0 has the billing reads on AccountAdmin (an Accounts API integration naming a child account
# with `account_id`, which this fake does not model here): its own methods are called on an
# Admin API client, so the path, parameters and parsing are still the client's.
get_edition = duo_client.admin.AccountAdmin.get_edition
get_telephony_credits = duo_client.admin.AccountAdmin.get_telephony_credits


def test_logo_and_billing(serve, admin_for, tmp_path):
    logo = SCENARIOS / "acme-logo.png"
    text = (SCENARIOS / "default.toml").read_text(encoding="utf-8")
    branded = tmp_path / "branded.toml"
    branded.write_text(text.replace("[tenant]\n", f"[tenant]\nlogo = {str(logo)!r}\n", 1), encoding="utf-8")
    assert admin_for(serve(str(branded))).get_logo() == logo.read_bytes()
    admin = admin_for(serve("default.toml"))
    with pytest.raises(RuntimeError, match="404"):
        admin.get_logo()
    tenant = scenario_toml("default.toml")["tenant"]
    assert get_edition(admin) == {"edition": tenant["edition"]}
    assert get_telephony_credits(admin) == {"credits": tenant.get("telephony_credits_remaining", 1000)}


def test_without_billing_duos_errors(serve, admin_for):
    admin = admin_for(serve("users-1.toml"))
    with pytest.raises(RuntimeError, match="403"):
        get_edition(admin)
    with pytest.raises(RuntimeError, match="403"):
        get_telephony_credits(admin)
