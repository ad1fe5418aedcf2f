"""Duo's official Python client (duo-client 5.7.0) reading phones, hardware tokens and WebAuthn
credentials: every read method the client has for them, each answer checked against the tenant
(`duo-mock dump`) and against the arrays the user objects embed."""

import duo_client
import pytest


def without_owners(device):
    """A listed device as a user object embeds it: no owners, no token `admins`."""
    return {k: v for k, v in device.items() if k not in ("users", "user", "admins")}


def owners(device):
    if "users" in device:
        return [u["user_id"] for u in device["users"]]
    return [device["user"]["user_id"]]


def read_list(admin, truth, key, list_all, generator):
    """The whole list through the client's pager, its generator and one explicit page, each
    checked against the tenant; a realistic mix has a few dozen of each kind."""
    listed = getattr(admin, list_all)()
    assert listed == truth[key]
    assert len(listed) >= 20
    assert list(getattr(admin, generator)()) == truth[key]
    assert getattr(admin, list_all)(limit=7, offset=3) == truth[key][3:10]
    return listed


KINDS = [
    # (dump/embedded key, id field, list, by id, generator, user list)
    ("phones", "phone_id", "get_phones", "get_phone_by_id", "get_phones_generator",
     "get_user_phones"),
    ("tokens", "token_id", "get_tokens", "get_token_by_id", "get_tokens_generator",
     "get_user_tokens"),
    ("webauthncredentials", "webauthnkey", "get_webauthncredentials",
     "get_webauthncredential_by_id", "get_webauthncredentials_iterator",
     "get_user_webauthncredentials"),
    ("u2ftokens", "registration_id", "get_u2ftokens", "get_u2ftoken_by_id",
     "get_u2ftokens_iterator", "get_user_u2ftokens"),
    # Legacy desktop tokens: the client has no per-user read for them.
    ("desktoptokens", "desktoptoken_id", "get_desktoptokens", "get_desktoptoken_by_id",
     "get_desktoptokens_generator", None),
]


@pytest.mark.parametrize("kind", KINDS, ids=[k[0] for k in KINDS])
def test_device_reads_equal_the_tenant_and_the_users_arrays(serve, dump, admin_for, kind):
    key, id_field, list_all, by_id, generator, of_user = kind
    ready = serve("default.toml")
    truth = dump("default.toml")
    admin = admin_for(ready)

    listed = read_list(admin, truth, key, list_all, generator)

    # The list is what the users embed: each device once, with exactly the users embedding it.
    embedded = {}
    for user in truth["users"]:
        for device in user[key]:
            embedded.setdefault(device[id_field], (device, []))[1].append(user["user_id"])
    assert [d[id_field] for d in listed] == list(embedded)
    for device in listed:
        object_, holders = embedded[device[id_field]]
        assert without_owners(device) == object_
        assert owners(device) == holders

    for device in listed[::5]:
        assert getattr(admin, by_id)(device[id_field]) == device
    with pytest.raises(RuntimeError, match="404"):
        getattr(admin, by_id)("DXNOSUCHOBJECT000001")

    if of_user:
        for user in truth["users"][::4]:
            assert getattr(admin, of_user)(user["user_id"]) == user[key]


def test_a_shared_phone_names_both_users_and_each_lists_it(serve, dump, admin_for):
    ready = serve("default.toml")
    truth = dump("default.toml")
    admin = admin_for(ready)
    shared = [p for p in truth["phones"] if len(p["users"]) >= 2]
    assert shared, "default.toml shares some phones"
    for phone in shared:
        assert admin.get_phone_by_id(phone["phone_id"])["users"] == phone["users"]
        for holder in phone["users"]:
            mine = admin.get_user_phones(holder["user_id"])
            assert phone["phone_id"] in [p["phone_id"] for p in mine]


def test_look_ups_by_number_and_serial_answer_zero_or_one(serve, dump, admin_for):
    ready = serve("default.toml")
    truth = dump("default.toml")
    admin = admin_for(ready)
    phone = truth["phones"][5]
    assert admin.get_phones_by_number(phone["number"]) == [phone]
    assert admin.get_phones_by_number(phone["number"], extension="") == [phone]
    assert admin.get_phones_by_number("+10000000000") == []
    token = truth["tokens"][2]
    assert admin.get_tokens_by_serial(token["type"], token["serial"]) == [token]
    assert admin.get_tokens_by_serial(token["type"], "no-such-serial") == []


def test_device_reads_need_grant_read_resource(serve, admin_for):
    ready = serve("default.toml")
    admin = admin_for(ready, integration="no-read-resource")
    for call in (admin.get_phones, admin.get_tokens, admin.get_webauthncredentials,
                 admin.get_u2ftokens, admin.get_desktoptokens, admin.get_bypass_codes,
                 admin.get_endpoints):
        with pytest.raises(RuntimeError, match="403"):
            call()
    assert isinstance(admin, duo_client.Admin)


MADE = [
    # (dump key, id field, list, by id, generator, user list): objects user objects do not show
    ("bypass_codes", "bypass_code_id", "get_bypass_codes", None, "get_bypass_codes_generator",
     "get_user_bypass_codes"),
    ("endpoints", "epkey", "get_endpoints", "get_endpoint", "get_endpoints_iterator", None),
]


@pytest.mark.parametrize("kind", MADE, ids=[k[0] for k in MADE])
def test_bypass_codes_and_endpoints_equal_the_tenant(serve, dump, admin_for, kind):
    key, id_field, list_all, by_id, generator, of_user = kind
    ready = serve("default.toml")
    truth = dump("default.toml")
    admin = admin_for(ready)
    listed = read_list(admin, truth, key, list_all, generator)
    users = {u["user_id"]: u for u in truth["users"]}
    by_user = {}
    for item in listed:
        assert "code" not in item and "codes" not in item, "never a bypass code's value"
        if "user" in item:
            holder = item["user"]["user_id"]
            assert {k: users[holder][k] for k in item["user"]} == item["user"]
            by_user.setdefault(holder, []).append(without_owners(item))
        else:
            assert any(u["username"] == item["username"] and u["email"] == item["email"]
                       for u in users.values())
    if by_id:
        for item in listed[::4]:
            assert getattr(admin, by_id)(item[id_field]) == item
    if of_user:
        for user_id in list(users)[::3]:
            assert getattr(admin, of_user)(user_id) == by_user.get(user_id, [])
