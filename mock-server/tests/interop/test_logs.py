"""duo-client 5.7.0's log and info-report methods against the default scenario's 180 days of logs:
every event names the tenant (`duo-mock dump`), pages follow their cursors with no event twice and
none missed (checked against the control API's dump of the same window), filters and windows hold,
a user's `last_login` is their latest success, and a whole day holds the declared rate."""

import json
import math
import time
import urllib.request

import pytest

SCENARIO = "default.toml"
DAY_MS = 86_400_000
AUTH_PER_DAY = 2000  # [logs.authentication] per_day in default.toml


def control_dump(ready, kind, mintime, maxtime):
    """The log's events in the window as the served fake has them now (oldest first)."""
    url = f"{ready['control_url']}/dump/logs?type={kind}&mintime={mintime}&maxtime={maxtime}"
    request = urllib.request.Request(url, headers={"X-Duo-Mock-Token": ready["control_token"]})
    with urllib.request.urlopen(request, timeout=60) as answer:
        return json.loads(answer.read())


def client_view(event):
    """An event without the two keys the client adds to every row."""
    return {k: v for k, v in event.items() if k not in ("eventtype", "host")}


def anchor_ms():
    """UTC midnight today: the default scenario's anchor."""
    return int(time.time()) // 86_400 * 86_400 * 1000


@pytest.fixture(scope="module")
def tenant(dump):
    truth = dump(SCENARIO)
    users = {u["user_id"]: u for u in truth["users"]}
    return {
        "users": users,
        "admins": {a["name"] for a in truth["admins"]},
        "numbers": {p["number"] for u in truth["users"] for p in u["phones"]},
        "devices": {u["user_id"]: {d.get("phone_id") or d.get("token_id") or d.get("webauthnkey")
                                   for k in ("phones", "tokens", "webauthncredentials")
                                   for d in u[k]} for u in truth["users"]},
    }


def auth_pages(admin, mintime, maxtime, limit, sort="ts:asc", **filters):
    """Every authentication event of a window, following next_offset as the client's users do
    (the cursor handed back as the list it came as, which the client sends as repeated keys)."""
    events, cursor, pages = [], None, 0
    while True:
        kwargs = dict(mintime=mintime, maxtime=maxtime, limit=str(limit), sort=sort, **filters)
        if cursor is not None:
            kwargs["next_offset"] = cursor
        page = admin.get_authentication_log(api_version=2, **kwargs)
        pages += 1
        assert len(page["authlogs"]) <= limit
        events.extend(client_view(e) for e in page["authlogs"])
        cursor = page["metadata"]["next_offset"]
        if cursor is None:
            return events, page["metadata"]["total_objects"], pages
        assert isinstance(cursor, list) and len(cursor) == 2 and cursor[0].endswith("000")
        assert pages < 10_000


def test_authentication_v2_pages_name_the_tenant_and_match_the_dump(serve, admin_for, tenant):
    ready = serve(SCENARIO)
    admin = admin_for(ready, "full-read")
    maxtime = anchor_ms() - 1
    mintime = maxtime - 2 * DAY_MS + 1
    events, total, pages = auth_pages(admin, mintime, maxtime, 500)
    assert total == len(events) and pages == math.ceil(total / 500) + (total % 500 == 0)
    assert events == control_dump(ready, "authentication", mintime, maxtime)
    assert len({e["txid"] for e in events}) == len(events), "no event twice"
    keys = [(e["timestamp"], e["txid"]) for e in events]
    assert keys == sorted(keys)
    ikeys = {i["ikey"] for i in ready["integrations"]}
    for e in events:
        assert mintime <= e["timestamp"] * 1000 + int(e["isotimestamp"][20:26]) // 1000 <= maxtime
        user = tenant["users"][e["user"]["key"]]
        assert e["user"]["name"] == user["username"] and e["email"] == user["email"]
        assert e["user"]["groups"] == [g["name"] for g in user["groups"]]
        assert e["application"]["key"] in ikeys
        if e["auth_device"]["key"] is not None:
            assert e["auth_device"]["key"] in tenant["devices"][user["user_id"]]
        assert user["created"] <= e["timestamp"]
    # The same window newest first, in other page sizes, holds the same events.
    newest_first, _, _ = auth_pages(admin, mintime, maxtime, 1000, sort="ts:desc")
    assert newest_first[::-1] == events


def test_authentication_filters_and_windows(serve, admin_for):
    ready = serve(SCENARIO)
    admin = admin_for(ready, "full-read")
    maxtime = anchor_ms() - 1
    mintime = maxtime - DAY_MS + 1
    everything, _, _ = auth_pages(admin, mintime, maxtime, 1000)
    some_users = sorted({e["user"]["key"] for e in everything})[:3]
    # A list goes out as repeated keys (the client's way)…
    by_users, total, _ = auth_pages(admin, mintime, maxtime, 50, users=some_users)
    assert by_users == [e for e in everything if e["user"]["key"] in some_users]
    assert total == len(by_users)
    denied, _, _ = auth_pages(admin, mintime, maxtime, 1000, results=["denied", "fraud"],
                              event_types=["authentication"])
    assert denied == [e for e in everything if e["result"] in ("denied", "fraud")]
    pushes, _, _ = auth_pages(admin, mintime, maxtime, 1000, factors=["duo_push"])
    assert pushes and all(e["factor"] == "duo_push" for e in pushes)
    # Both window ends are inclusive to the millisecond.
    event = everything[len(everything) // 2]
    at = event["timestamp"] * 1000 + int(event["isotimestamp"][20:26]) // 1000
    for lo, hi in ((at, at + 1), (at - 1, at)):
        around, _, _ = auth_pages(admin, lo, hi, 1000)
        assert event in around


def test_last_login_is_the_latest_success(serve, admin_for, tenant):
    ready = serve(SCENARIO)
    admin = admin_for(ready, "full-read")
    now_ms = int(time.time() * 1000)
    since = anchor_ms() - 2 * DAY_MS
    events, _, _ = auth_pages(admin, since, now_ms, 1000)
    latest = {}
    for e in events:
        if e["result"] == "success" and e["event_type"] == "authentication":
            latest[e["user"]["key"]] = max(latest.get(e["user"]["key"], 0), e["timestamp"])
    checked = 0
    for user_id, user in tenant["users"].items():
        last = user["last_login"]
        if last is None:
            assert user_id not in latest, f"{user['username']} never logged in"
        elif last * 1000 >= since:
            assert latest.get(user_id) == last, user["username"]
            checked += 1
        else:
            assert user_id not in latest, f"{user['username']} succeeded after last_login"
    assert checked > 100


def test_a_whole_day_holds_the_declared_rate(serve, admin_for, tenant):
    ready = serve(SCENARIO)
    admin = admin_for(ready, "full-read")
    day_start = anchor_ms() - DAY_MS
    events, total, _ = auth_pages(admin, day_start, day_start + DAY_MS - 1, 1000)
    logins = sum(1 for u in tenant["users"].values()
                 if u["last_login"] is not None and day_start <= u["last_login"] * 1000 < day_start + DAY_MS)
    assert total == len(events)
    # The declared rate plus one success at each last login of the day, Poisson noise aside.
    assert abs(len(events) - AUTH_PER_DAY - logins) <= 4 * math.sqrt(AUTH_PER_DAY), (len(events), logins)


def test_legacy_authentication_and_the_v1_logs(serve, admin_for, tenant):
    ready = serve(SCENARIO)
    admin = admin_for(ready, "full-read")
    mintime = anchor_ms() // 1000 - 86_400
    with pytest.warns(DeprecationWarning):
        v1 = admin.get_authentication_log(api_version=1, mintime=mintime)
    assert len(v1) >= 1000
    assert all(e["timestamp"] >= mintime for e in v1)
    assert [e["timestamp"] for e in v1] == sorted(e["timestamp"] for e in v1)
    usernames = {u["username"] for u in tenant["users"].values()}
    assert all(e["username"] in usernames for e in v1)
    # Going on at the last second + 1 (every tie of it was returned) continues where it ended.
    with pytest.warns(DeprecationWarning):
        more = admin.get_authentication_log(api_version=1, mintime=v1[-1]["timestamp"] + 1)
    assert more[0]["timestamp"] > v1[-1]["timestamp"]
    for row in admin.get_administrator_log(mintime=mintime):
        assert row["username"] in tenant["admins"] | {"API", "System", ""}
        assert isinstance(json.loads(row["description"]), dict)
    phones = admin.get_telephony_log(mintime=mintime)
    assert phones and all(p["phone"] in tenant["numbers"] and p["type"] in ("sms", "phone")
                          for p in phones)
    offline = admin.get_offline_log(mintime=anchor_ms() // 1000 - 30 * 86_400)
    assert offline and all(o["username"] in usernames for o in offline)


def test_telephony_and_activity_v2_follow_their_string_cursors(serve, admin_for, tenant):
    ready = serve(SCENARIO)
    admin = admin_for(ready, "full-read")
    maxtime = anchor_ms() - 1
    mintime = maxtime - 7 * DAY_MS + 1
    calls, cursor = [], None
    while True:
        page = admin.get_telephony_log(api_version=2, mintime=mintime, maxtime=maxtime, limit=100,
                                       sort="asc", next_offset=cursor)
        calls.extend(client_view(c) for c in page["items"])
        cursor = page["metadata"]["next_offset"]
        if cursor is None:
            break
        assert isinstance(cursor, str) and "," in cursor
    assert calls == control_dump(ready, "telephony", mintime, maxtime)
    assert len({c["telephony_id"] for c in calls}) == len(calls)
    assert all(c["phone"] in tenant["numbers"] for c in calls)
    # The client sends these arguments as given: strings, or its encoder fails on an int.
    credits = admin.get_info_telephony_credits_used(mintime=str(mintime // 1000),
                                                    maxtime=str(maxtime // 1000))
    assert credits["telephony_credits_used"] == sum(c["credits"] for c in calls)
    activity, cursor = [], None
    while True:
        kwargs = dict(mintime=mintime, maxtime=maxtime, limit=50, sort="ts:asc")
        if cursor:
            kwargs["next_offset"] = cursor
        page = admin.get_activity_logs(**kwargs)
        activity.extend(client_view(a) for a in page["items"])
        assert set(page["metadata"]["total_objects"]) == {"relation", "value"}
        cursor = page["metadata"]["next_offset"]
        if cursor is None:
            break
    assert activity == control_dump(ready, "activity", mintime, maxtime)
    assert all(a["actor"]["name"] in tenant["admins"] | {"Duo"} for a in activity)


def test_trust_monitor_iterator_and_offsets(serve, admin_for, tenant):
    ready = serve(SCENARIO)
    admin = admin_for(ready, "full-read", paging_limit=25)
    maxtime = anchor_ms() - 1
    mintime = maxtime - 30 * DAY_MS
    events = list(admin.get_trust_monitor_events_iterator(mintime=mintime, maxtime=maxtime))
    assert events == control_dump(ready, "trust_monitor", mintime, maxtime)
    assert len({e["sekey"] for e in events}) == len(events) > 25
    offsets = [p.get("offset") for (_, path, p) in admin.calls if path.endswith("trust_monitor/events")]
    assert offsets[0] is None and offsets[1:] == [str(25 * k) for k in range(1, len(offsets))]
    for e in events:
        user = e["enabled_for"]["key"] if e["type"] == "bypass_status" else e["surfaced_auth"]["user"]["key"]
        assert user in tenant["users"]
    page = admin.get_trust_monitor_events_by_offset(mintime=mintime, maxtime=maxtime, limit=10,
                                                     offset=10, event_type="auth")
    auths = [e for e in events if e["type"] == "auth"]
    assert page["events"] == auths[10:20]


def test_reports_count_the_logs(serve, admin_for):
    ready = serve(SCENARIO)
    admin = admin_for(ready, "full-read")
    maxtime = anchor_ms() // 1000 - 1
    mintime = maxtime - 3 * 86_400 + 1
    attempts = admin.get_authentication_attempts(mintime=str(mintime), maxtime=str(maxtime))
    users = admin.get_user_authentication_attempts(mintime=str(mintime), maxtime=str(maxtime))
    assert (attempts["mintime"], attempts["maxtime"]) == (mintime, maxtime)
    events = [e for e in control_dump(ready, "authentication", mintime * 1000, maxtime * 1000 + 999)
              if e["event_type"] == "authentication"]
    for name, result in (("SUCCESS", "success"), ("FAILURE", "denied"), ("FRAUD", "fraud"),
                         ("ERROR", "error")):
        of_result = [e for e in events if e["result"] == result]
        assert attempts["authentication_attempts"][name] == len(of_result), name
        assert users["user_authentication_attempts"][name] == len({e["user"]["key"] for e in of_result})


def test_logs_need_grant_read_log(serve, admin_for):
    ready = serve(SCENARIO)
    admin = admin_for(ready, "access-review")
    now_ms = int(time.time() * 1000)
    with pytest.raises(RuntimeError) as refused:
        admin.get_authentication_log(api_version=2, mintime=now_ms - DAY_MS, maxtime=now_ms)
    assert refused.value.status == 403 and refused.value.data["code"] == 40301
    with pytest.raises(RuntimeError) as bad:
        admin_for(ready, "full-read").get_authentication_log(api_version=2, mintime=now_ms // 1000,
                                                             maxtime=now_ms)
    assert "'mintime' must be a timestamp in milliseconds" in str(bad.value)
