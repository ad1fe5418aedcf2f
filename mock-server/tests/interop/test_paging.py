"""Paging as duo-client 5.7.0 does it (`json_paging_api_call`: `limit=<paging_limit>`, `offset=0`,
then `offset=<metadata.next_offset>` until it is absent or null), and the single-page `limit=` /
`offset=` arguments of the list methods. Every result must equal `duo-mock dump`, and the pager
must need exactly the pages a correct server implies: no page skipped, repeated, or fetched past
the end (a `next_offset` on the last page would cost the client one more, empty, request)."""

import pytest

SCENARIOS = ["default.toml", "users-300.toml", "users-301.toml", "empty.toml", "users-1.toml",
             "unicode.toml"]
LIMITS = [1, 7, 100, 300]
# paging_limit 1 on the 300/301-user tenants adds ~2,000 requests and nothing that default.toml
# (343 users one by one) and unicode.toml do not already cover.
COMBOS = [(s, n) for s in SCENARIOS for n in LIMITS
          if not (n == 1 and s in ("users-300.toml", "users-301.toml"))]
IDS = [f"{s.removesuffix('.toml')}-limit{n}" for s, n in COMBOS]


def pages(total, limit):
    """The offsets a correct pager requests for `total` objects at page size `limit`."""
    return list(range(0, total, limit)) or [0]


@pytest.mark.parametrize(("scenario", "paging_limit"), COMBOS, ids=IDS)
def test_get_users_pages(serve, dump, admin_for, scenario, paging_limit):
    truth = dump(scenario)["users"]
    admin = admin_for(serve(scenario), paging_limit=paging_limit)
    assert admin.get_users() == truth
    assert admin.offsets("/admin/v1/users") == pages(len(truth), paging_limit)
    assert {p["limit"] for (_, _, p) in admin.calls} == {str(paging_limit)}


@pytest.mark.parametrize(("scenario", "paging_limit"), COMBOS, ids=IDS)
def test_get_admins_pages(serve, dump, admin_for, scenario, paging_limit):
    truth = dump(scenario)["admins"]
    admin = admin_for(serve(scenario), paging_limit=paging_limit)
    assert admin.get_admins() == truth
    assert admin.offsets("/admin/v1/admins") == pages(len(truth), paging_limit)


@pytest.mark.parametrize(("scenario", "paging_limit"), COMBOS, ids=IDS)
def test_get_groups_pages(serve, dump, admin_for, scenario, paging_limit):
    truth = dump(scenario)["groups"]
    assert len(truth) < 100  # below every candidate maximum for groups, so no clamping here
    admin = admin_for(serve(scenario), paging_limit=paging_limit)
    assert admin.get_groups() == truth
    assert admin.offsets("/admin/v1/groups") == pages(len(truth), paging_limit)


NONEMPTY = [(s, n) for (s, n) in COMBOS if s != "empty.toml"]
NONEMPTY_IDS = [f"{s.removesuffix('.toml')}-limit{n}" for s, n in NONEMPTY]


@pytest.mark.parametrize(("scenario", "paging_limit"), NONEMPTY, ids=NONEMPTY_IDS)
def test_get_group_users_pages_every_group(serve, dump, admin_for, scenario, paging_limit):
    truth = dump(scenario)
    admin = admin_for(serve(scenario), paging_limit=paging_limit)
    assert truth["groups"]
    assert set(truth["group_members"]) == {g["group_id"] for g in truth["groups"]}
    for group in truth["groups"]:
        gid = group["group_id"]
        expected = truth["group_members"][gid]
        assert admin.get_group_users(gid) == expected, group["name"]
        path = f"/admin/v2/groups/{gid}/users"
        assert admin.offsets(path) == pages(len(expected), paging_limit), group["name"]
    # Membership seen from both sides agrees (the dump's two views of one tenant).
    for group in truth["groups"]:
        gid = group["group_id"]
        embedded = [u["user_id"] for u in truth["users"]
                    if gid in [g["group_id"] for g in u["groups"]]]
        assert sorted(m["user_id"] for m in truth["group_members"][gid]) == sorted(embedded)


@pytest.mark.parametrize(("scenario", "paging_limit"), NONEMPTY, ids=NONEMPTY_IDS)
def test_get_user_groups_pages(serve, dump, admin_for, scenario, paging_limit):
    users = dump(scenario)["users"]
    if paging_limit == 1:
        # The users with the most groups, and some with none.
        sample = sorted(users, key=lambda u: -len(u["groups"]))[:10] + \
            [u for u in users if not u["groups"]][:5]
    else:
        sample = users
    assert max(len(u["groups"]) for u in sample) > (1 if len(users) > 1 else 0)
    admin = admin_for(serve(scenario), paging_limit=paging_limit)
    for user in sample:
        assert admin.get_user_groups(user["user_id"]) == user["groups"], user["username"]
        path = f"/admin/v1/users/{user['user_id']}/groups"
        assert admin.offsets(path) == pages(len(user["groups"]), paging_limit), user["username"]


def test_paging_limit_above_the_maximum_is_clamped(serve, dump, admin_for):
    """Duo's docs: an over-maximum `limit` is served as the maximum (300 for users); the client
    then follows next_offset, so it still gets everything."""
    truth = dump("default.toml")
    admin = admin_for(serve("default.toml"), paging_limit=1000)
    assert admin.get_users() == truth["users"]
    assert admin.offsets("/admin/v1/users") == [0, 300]
    assert admin.get_admins() == truth["admins"]
    assert admin.get_groups() == truth["groups"]
    biggest = max(truth["groups"], key=lambda g: len(truth["group_members"][g["group_id"]]))
    assert admin.get_group_users(biggest["group_id"]) == \
        truth["group_members"][biggest["group_id"]]
    assert admin.get_users(limit=1000) == truth["users"][:300]


@pytest.mark.parametrize("scenario", ["default.toml", "unicode.toml"])
def test_single_pages_with_limit_and_offset(serve, dump, admin_for, scenario):
    """`get_users(limit=, offset=)` and friends make exactly one call and return that slice."""
    truth = dump(scenario)
    admin = admin_for(serve(scenario))
    users, admins, groups = truth["users"], truth["admins"], truth["groups"]
    n = len(users)
    for offset in (0, 7, 100, n - 7, n - 3, n, n + 50):
        before = len(admin.calls)
        assert admin.get_users(limit=7, offset=offset) == users[offset:offset + 7], offset
        assert len(admin.calls) == before + 1
    assert admin.get_admins(limit=3, offset=len(admins) - 2) == admins[-2:]
    assert admin.get_groups(limit=4, offset=len(groups) - 3) == groups[-3:]
    biggest = max(groups, key=lambda g: len(truth["group_members"][g["group_id"]]))
    members = truth["group_members"][biggest["group_id"]]
    for offset in (0, 5, len(members) - 4, len(members)):
        assert admin.get_group_users(biggest["group_id"], limit=10, offset=offset) == \
            members[offset:offset + 10], offset
    user = max(users, key=lambda u: len(u["groups"]))
    for offset in range(len(user["groups"]) + 1):
        assert admin.get_user_groups(user["user_id"], limit=1, offset=offset) == \
            user["groups"][offset:offset + 1], offset

    # A hand-written pager over limit/offset (what a caller of 5.7.0 does to bound memory).
    got, offset = [], 0
    while True:
        page = admin.get_users(limit=50, offset=offset)
        got += page
        if len(page) < 50:
            break
        offset += 50
    assert got == users


def test_iterators_are_lazy_and_complete(serve, dump, admin_for):
    truth = dump("default.toml")
    admin = admin_for(serve("default.toml"), paging_limit=50)
    iterator = admin.get_users_iterator()
    first = next(iterator)
    assert first == truth["users"][0]
    assert len(admin.calls) == 1  # one page fetched so far
    assert [first, *iterator] == truth["users"]
    assert admin.offsets("/admin/v1/users") == pages(len(truth["users"]), 50)
    assert list(admin.get_admins_iterator()) == truth["admins"]
    assert list(admin.get_groups_generator()) == truth["groups"]
