"""The rest of duo-client 5.7.0's read methods, each against the tenant (`duo-mock dump`): the
per-user and per-group iterators equal the lists they page and the objects the tenant holds, a
user found by e-mail is exactly that user, groups asked by id are exactly those groups."""

import pytest

# (iterator, list method, what the tenant holds for a user): a user's own lists.
USER_ITERATORS = [
    ("get_user_groups_iterator", "get_user_groups", lambda user, truth: user["groups"]),
    ("get_user_phones_iterator", "get_user_phones", lambda user, truth: user["phones"]),
    ("get_user_tokens_iterator", "get_user_tokens", lambda user, truth: user["tokens"]),
    ("get_user_u2ftokens_iterator", "get_user_u2ftokens", lambda user, truth: user["u2ftokens"]),
    ("get_user_webauthncredentials_iterator", "get_user_webauthncredentials",
     lambda user, truth: user["webauthncredentials"]),
    ("get_user_bypass_codes_iterator", "get_user_bypass_codes",
     lambda user, truth: [{k: v for k, v in code.items() if k != "user"}
                          for code in truth["bypass_codes"]
                          if code["user"]["user_id"] == user["user_id"]]),
]


@pytest.mark.parametrize("methods", USER_ITERATORS, ids=[m[0] for m in USER_ITERATORS])
def test_user_iterators_equal_their_lists_and_the_tenant(serve, dump, admin_for, methods):
    iterator, list_all, held = methods
    truth = dump("default.toml")
    admin = admin_for(serve("default.toml"), paging_limit=2)
    seen_nonempty = 0
    for user in truth["users"][::3]:
        want = held(user, truth)
        got = list(getattr(admin, iterator)(user["user_id"]))
        assert got == want, (iterator, user["user_id"])
        assert getattr(admin, list_all)(user["user_id"]) == want
        seen_nonempty += bool(want)
    assert seen_nonempty >= 3, f"default.toml gives some users {list_all}"
    with pytest.raises(RuntimeError, match="404"):
        list(getattr(admin, iterator)("DUNOSUCHUSER00000000"))


def test_group_users_iterator_equals_the_members(serve, dump, admin_for):
    truth = dump("default.toml")
    admin = admin_for(serve("default.toml"), paging_limit=3)
    for group in truth["groups"]:
        gid = group["group_id"]
        want = truth["group_members"][gid]
        assert list(admin.get_group_users_iterator(gid)) == want, group["name"]
        assert admin.get_group_users(gid) == want
    assert any(len(m) > 3 for m in truth["group_members"].values()), "pages of 3 are paged"
    with pytest.raises(RuntimeError, match="404"):
        list(admin.get_group_users_iterator("DGXXXXXXXXXXXXXXXXXX"))


def test_user_by_email_finds_exactly_that_user(serve, dump, admin_for):
    truth = dump("default.toml")
    admin = admin_for(serve("default.toml"))
    with_email = [u for u in truth["users"] if u["email"]]
    assert len(with_email) >= 10
    count = {}
    for user in with_email:
        count[user["email"]] = count.get(user["email"], 0) + 1
    for user in with_email[::7]:
        assert count[user["email"]] == 1, "default.toml's e-mail addresses are unique"
        assert admin.get_user_by_email(user["email"]) == [user]
    assert admin.get_user_by_email("nobody@nowhere.invalid") == []


def test_groups_by_group_ids_are_exactly_those_groups(serve, dump, admin_for):
    truth = dump("default.toml")
    admin = admin_for(serve("default.toml"))
    groups = truth["groups"]
    assert len(groups) >= 4
    asked = [groups[3]["group_id"], groups[0]["group_id"], "DGNOSUCHGROUP0000000"]
    assert admin.get_groups_by_group_ids(asked) == [groups[0], groups[3]]
    every = [g["group_id"] for g in groups][:100]
    assert admin.get_groups_by_group_ids(every) == groups[:100]
    assert admin.get_groups_by_group_ids(["DGNOSUCHGROUP0000000"]) == []


def test_registered_devices_equal_the_tenant(serve, dump, admin_for):
    truth = dump("default.toml")
    admin = admin_for(serve("default.toml"), paging_limit=5)
    want = truth["registered_devices"]
    assert len(want) > 5, "default.toml gives some users a registered device"
    assert admin.get_registered_devices() == want
    assert list(admin.get_registered_devices_generator()) == want
    assert admin.get_registered_devices(limit=3, offset=2) == want[2:5]
    users = {u["user_id"]: u for u in truth["users"]}
    for device in want:
        owner = users[device["user"]["user_id"]]
        assert {k: owner[k] for k in device["user"]} == device["user"]
        assert admin.get_registered_device_by_id(device["compkey"]) == device
    with pytest.raises(RuntimeError, match="404"):
        admin.get_registered_device_by_id("CDNOSUCHDEVICE000000")


def test_passport_config_is_the_scenarios_status(serve, admin_for):
    config = admin_for(serve("default.toml")).get_passport_config()
    assert config == {"disabled_groups": [], "enabled_groups": [], "enabled_status": "disabled"}
    with pytest.raises(RuntimeError, match="403"):
        admin_for(serve("default.toml"), integration="no-read-resource").get_passport_config()


def test_idv_status_of_a_user_and_of_no_user(serve, dump, admin_for):
    truth = dump("default.toml")
    admin = admin_for(serve("default.toml"))
    for user in truth["users"][::50]:
        assert admin.get_idv_status(user["user_id"]) == {
            "inquiry_id": None, "status": "not_started", "user_id": user["user_id"]}
    with pytest.raises(RuntimeError, match="404"):
        admin.get_idv_status("DUNOSUCHUSER00000000")


def test_verification_push_response_of_an_unknown_push_is_404(serve, dump, admin_for):
    truth = dump("default.toml")
    admin = admin_for(serve("default.toml"))
    user_id = truth["users"][0]["user_id"]
    for user in (user_id, "DUNOSUCHUSER00000000"):
        with pytest.raises(RuntimeError, match="404"):
            admin.get_verification_push_response(user, "00000000-0000-0000-0000-000000000000")
    with pytest.raises(RuntimeError, match="400"):
        admin.get_verification_push_response(user_id, "")
