"""Child accounts (scenarios/msp.toml) through Duo's official Python client: `Accounts` lists the
children, and `AccountAdmin` / `Admin` with `account_id` read each child's tenant, checked against
`duo-mock dump --account` (the ground truth); every wrong way of asking is refused."""

import json
import subprocess
import tomllib

import duo_client
import pytest

from conftest import BIN, CLIENT_TIMEOUT_S, credentials, scenario_path

MSP = "msp.toml"
ACCOUNTS_KEYS = "msp-accounts"
PARENT_KEYS = "parent-admin"


def child_dump(account_id):
    out = subprocess.run([str(BIN), "dump", "--scenario", scenario_path(MSP), "--account", account_id],
                         capture_output=True, timeout=120, stdin=subprocess.DEVNULL, check=True)
    return json.loads(out.stdout)


def options(ready, integration):
    creds = credentials(ready, integration)
    return {"ikey": creds["ikey"], "skey": creds["skey"], "host": "127.0.0.1", "port": ready["port"],
            "ca_certs": "HTTP", "timeout": CLIENT_TIMEOUT_S}


def account_admin(ready, account_id, integration=ACCOUNTS_KEYS):
    # The child's host is the fake's own: every account is served on its one port. Given here,
    # the client does not look it up (the listed api-….duosecurity.com names are not this fake).
    opts = options(ready, integration)
    host = opts.pop("host")
    return duo_client.admin.AccountAdmin(account_id, child_api_host=host, **opts)


def test_accounts_lists_each_child_as_the_scenario_has_it(serve):
    ready = serve(MSP)
    children = duo_client.Accounts(**options(ready, ACCOUNTS_KEYS)).get_child_accounts()
    assert children == ready["accounts"]
    assert [c["name"] for c in children] == ["Northwind Dental", "Harbor Law LLP", "Cedar Bakery"]
    assert all(len(c["account_id"]) == 20 and c["account_id"].startswith("DA") for c in children)


def test_account_admin_reads_each_childs_tenant(serve, dump):
    ready = serve(MSP)
    parent = dump(MSP)
    with open(scenario_path(MSP), "rb") as file:
        written = {a["tenant"]["name"]: a["tenant"] for a in tomllib.load(file)["accounts"]}
    for child in ready["accounts"]:
        truth = child_dump(child["account_id"])
        admin = account_admin(ready, child["account_id"])
        tenant = written[child["name"]]
        assert admin.get_edition() == {"edition": tenant.get("edition", "ENTERPRISE")}
        assert admin.get_telephony_credits() == {"credits": tenant["telephony_credits_remaining"]}
        users = admin.get_users()
        assert users == truth["users"], child["name"]
        assert admin.get_groups() == truth["groups"]
        assert admin.get_admins() == truth["admins"]
        for group_id, members in truth["group_members"].items():
            assert admin.get_group_users(group_id) == members
        summary = admin.get_info_summary()
        assert summary["user_count"] == len(truth["users"])
        assert admin.get_settings()["name"] == child["name"]
        if users:
            assert admin.get_user_by_id(users[0]["user_id"]) == users[0]
            assert admin.get_users_by_name(users[0]["username"]) == [users[0]]
        # Nothing of the parent's.
        parent_ids = {u["user_id"] for u in parent["users"]}
        assert not parent_ids & {u["user_id"] for u in users}


def test_admin_with_account_id_is_the_same_as_account_admin(serve):
    ready = serve(MSP)
    child = ready["accounts"][1]
    admin = duo_client.Admin(**options(ready, ACCOUNTS_KEYS))
    admin.account_id = child["account_id"]
    assert admin.get_users() == child_dump(child["account_id"])["users"]


def test_every_wrong_way_to_ask_for_a_child_is_refused(serve, dump):
    ready = serve(MSP)
    for account_id, expected in [
        ("DA0THERMSPCUST000001", "Received 403 Access forbidden"),
        ("not-an-account", "Received 400 Invalid request parameters (account_id)"),
    ]:
        with pytest.raises(RuntimeError) as error:
            account_admin(ready, account_id).get_users()
        assert str(error.value) == expected, account_id
    # Accounts API keys without account_id.
    with pytest.raises(RuntimeError) as error:
        duo_client.Admin(**options(ready, ACCOUNTS_KEYS)).get_users()
    assert str(error.value) == "Received 403 Access forbidden"
    # Admin API keys on the Accounts API: keys of another type.
    with pytest.raises(RuntimeError) as error:
        duo_client.Accounts(**options(ready, PARENT_KEYS)).get_child_accounts()
    assert str(error.value) == "Received 401 Invalid integration key in request credentials"
    # Admin API keys with an account_id read their own account.
    own = account_admin(ready, ready["accounts"][0]["account_id"], PARENT_KEYS)
    assert own.get_users() == dump(MSP)["users"]
