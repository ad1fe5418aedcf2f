#!/usr/bin/env python3
"""Conformance adapter: a log collector over Duo's official Python client (duo_client 5.7.0).

It collects Duo's logs the way an integrator using duo_client's own log helpers does:
`get_authentication_log(api_version=2, ...)` with `metadata.next_offset`, `get_telephony_log(
api_version=2, ...)`, `get_activity_logs(...)`, `get_administrator_log(mintime)` and
`get_offline_log(mintime)` (v1: up to 1000 events a call, the next call at the last timestamp + 1,
as Duo's documentation advises) and `get_trust_monitor_events_iterator(mintime, maxtime)`, with the
client's own 429 back-off. Around them it does what the contract asks and the helpers leave to the
caller: a window up to now - settle, events appended and synced before the checkpoint moves, the
checkpoint replaced whole. What the helpers get wrong is recorded with reasons in
conformance/ledger/duo-client-python-logs.toml.

Contract (conformance/CONTRACT-LOGS.md): DUO_API_HOST, DUO_IKEY, DUO_SKEY, optional DUO_CA_CERT,
DUO_LOG_TYPES, DUO_LOOKBACK_S, DUO_SETTLE_S, DUO_STATE_DIR, DUO_OUTPUT, DUO_RESULT, optional
DUO_LOG_USERS (the helper's `users`). Exit 0 with
{"status": "ok", "events": N} in DUO_RESULT, 1 with {"error": {...}}, 2 for a usage error.

    .venv/bin/python conformance/adapters/duo_client_logs_adapter.py
"""

import json
import os
import sys
import time

import duo_client

# The sync adapter's classification of what duo_client raises (same folder).
from duo_client_adapter import TIMEOUT_S, Failure, classify

TYPES = ("authentication", "administrator", "telephony", "activity", "offline_enrollment",
         "trust_monitor")

# duo_client adds these to every row of most logs; they are not Duo's, so they are taken off again.
ADDED_BY_CLIENT = ("eventtype", "host")

# Duo keeps 180 days of logs and refuses an older mintime; a few minutes of margin.
RETENTION_MS = 180 * 86_400_000 - 5 * 60_000

V1_CAP = 1000


class Output:
    """DUO_OUTPUT opened to append; each batch written, flushed and synced, or a sink failure."""

    def __init__(self, path):
        self.path = path
        try:
            self.file = open(path, "ab")
        except OSError as error:
            raise Failure("sink", "cannot open %s: %s" % (path, error)) from error

    def append(self, log_type, events):
        if not events:
            return
        lines = b"".join(
            json.dumps({"log_type": log_type, "event": event}, ensure_ascii=False,
                       separators=(",", ":")).encode("utf-8") + b"\n"
            for event in events)
        try:
            self.file.write(lines)
            self.file.flush()
            try:
                os.fsync(self.file.fileno())
            except OSError:
                if os.path.isfile(self.path):
                    raise
        except OSError as error:
            raise Failure("sink", "cannot write %s: %s" % (self.path, error)) from error


class State:
    """One JSON checkpoint per log type in DUO_STATE_DIR, replaced whole (temporary file, rename)."""

    def __init__(self, folder):
        self.folder = folder
        try:
            os.makedirs(folder, exist_ok=True)
        except OSError as error:
            raise Failure("sink", "cannot make %s: %s" % (folder, error)) from error

    def load(self, log_type):
        try:
            with open(os.path.join(self.folder, log_type + ".json"), encoding="utf-8") as f:
                return json.load(f)
        except FileNotFoundError:
            return None

    def save(self, log_type, checkpoint):
        path = os.path.join(self.folder, log_type + ".json")
        temporary = path + ".tmp"
        try:
            with open(temporary, "w", encoding="utf-8") as f:
                json.dump(checkpoint, f)
                f.flush()
                os.fsync(f.fileno())
            os.replace(temporary, path)
        except OSError as error:
            raise Failure("sink", "cannot write %s: %s" % (path, error)) from error


def duo_event(row):
    """The event as Duo sent it: without what duo_client added to it."""
    for key in ADDED_BY_CLIENT:
        row.pop(key, None)
    return row


def v2_pages(admin, log_type, mintime, maxtime, next_offset, users):
    """(events, next_offset) pages of a v2 log through its duo_client helper, oldest first;
    `users` (DUO_LOG_USERS) filters the authentication log (the helper sends a list as repeated
    keys; None sends no filter)."""
    while True:
        if log_type == "authentication":
            response = admin.get_authentication_log(
                api_version=2, mintime=mintime, maxtime=maxtime, limit="1000", sort="ts:asc",
                next_offset=next_offset, users=users or None)
            events = response["authlogs"]
        elif log_type == "telephony":
            response = admin.get_telephony_log(
                mintime=mintime, maxtime=maxtime, api_version=2, limit=1000, sort="asc",
                next_offset=next_offset)
            events = response["items"]
        else:
            response = admin.get_activity_logs(
                mintime=mintime, maxtime=maxtime, limit=1000, sort="ts:asc",
                next_offset=next_offset)
            events = response["items"]
        next_offset = (response.get("metadata") or {}).get("next_offset")
        yield [duo_event(e) for e in events], next_offset
        if not events or not next_offset:
            return


def collect_v2(admin, log_type, state, output, window, users):
    """A window [mintime, maxtime] in ms, page by page; the checkpoint keeps the window and the
    cursor after each page, so a run stopped mid-window resumes it."""
    start, cutoff, oldest = window
    checkpoint = state.load(log_type)
    delivered = 0
    # A window left unfinished by a stopped run is finished first, with its cursor.
    windows = []
    if checkpoint and checkpoint.get("next_offset"):
        windows.append((checkpoint["mintime"], checkpoint["maxtime"], checkpoint["next_offset"]))
        start = checkpoint["maxtime"] + 1
    elif checkpoint:
        start = checkpoint["from"]
    start = max(start, oldest)
    if cutoff > start:
        windows.append((start, cutoff, None))
    for mintime, maxtime, cursor in windows:
        for events, cursor in v2_pages(admin, log_type, mintime, maxtime, cursor, users):
            output.append(log_type, events)
            delivered += len(events)
            if cursor and events:
                state.save(log_type, {"mintime": mintime, "maxtime": maxtime, "next_offset": cursor})
        state.save(log_type, {"from": maxtime + 1})
    return delivered


def collect_trust_monitor(admin, state, output, window):
    """Trust Monitor through get_trust_monitor_events_iterator: the helper hides each page's
    offset, so the checkpoint can only move once the whole window is read."""
    start, cutoff, oldest = window
    checkpoint = state.load("trust_monitor")
    if checkpoint:
        start = checkpoint["from"]
    start = max(start, oldest)
    if cutoff <= start:
        return 0
    events = list(admin.get_trust_monitor_events_iterator(mintime=start, maxtime=cutoff))
    output.append("trust_monitor", events)
    state.save("trust_monitor", {"from": cutoff + 1})
    return len(events)


def collect_v1(admin, log_type, state, output, window):
    """A v1 log (seconds): up to 1000 events a call, oldest first; the next call asks from the
    last timestamp + 1, as Duo's documentation advises."""
    start_ms, cutoff_ms, oldest_ms = window
    helper = admin.get_administrator_log if log_type == "administrator" else admin.get_offline_log
    checkpoint = state.load(log_type)
    mintime = checkpoint["mintime"] if checkpoint else start_ms // 1000
    mintime = max(mintime, oldest_ms // 1000 + 1)
    cutoff = cutoff_ms // 1000
    delivered = 0
    while mintime <= cutoff:
        rows = helper(mintime=mintime)
        events = [duo_event(r) for r in rows if r["timestamp"] <= cutoff]
        output.append(log_type, events)
        delivered += len(events)
        if events:
            mintime = events[-1]["timestamp"] + 1
            state.save(log_type, {"mintime": mintime})
        if len(rows) < V1_CAP or len(events) < len(rows):
            break
    return delivered


def collect(admin, types, lookback_s, settle_s, state, output, users):
    now_ms = int(time.time() * 1000)
    cutoff = now_ms - settle_s * 1000
    oldest = now_ms - RETENTION_MS
    start = max(now_ms - lookback_s * 1000, oldest)
    total = 0
    for log_type in types:
        endpoint = {
            "authentication": "/admin/v2/logs/authentication",
            "administrator": "/admin/v1/logs/administrator",
            "telephony": "/admin/v2/logs/telephony",
            "activity": "/admin/v2/logs/activity",
            "offline_enrollment": "/admin/v1/logs/offline_enrollment",
            "trust_monitor": "/admin/v1/trust_monitor/events",
        }[log_type]
        try:
            if log_type in ("administrator", "offline_enrollment"):
                total += collect_v1(admin, log_type, state, output, (start, cutoff, oldest))
            elif log_type == "trust_monitor":
                total += collect_trust_monitor(admin, state, output, (start, cutoff, oldest))
            else:
                total += collect_v2(admin, log_type, state, output, (start, cutoff, oldest),
                                    users)
        except Failure:
            raise
        except Exception as error:  # noqa: BLE001 - every failure is classified, none escapes
            raise classify(error, endpoint, admin) from error
    return total


def write_result(path, document):
    temporary = path + ".tmp"
    with open(temporary, "w", encoding="utf-8") as out:
        json.dump(document, out)
    os.replace(temporary, path)


def main():
    names = ("DUO_API_HOST", "DUO_IKEY", "DUO_SKEY", "DUO_STATE_DIR", "DUO_OUTPUT", "DUO_RESULT")
    missing = [name for name in names if not os.environ.get(name)]
    if missing:
        print("duo_client_logs_adapter: %s not set" % ", ".join(missing), file=sys.stderr)
        return 2
    types = [t.strip() for t in os.environ.get("DUO_LOG_TYPES", "authentication").split(",")
             if t.strip()]
    unknown = [t for t in types if t not in TYPES]
    if unknown or not types:
        print("duo_client_logs_adapter: unknown log types %s" % unknown, file=sys.stderr)
        return 2
    try:
        lookback_s = int(os.environ.get("DUO_LOOKBACK_S", "86400"))
        settle_s = int(os.environ.get("DUO_SETTLE_S", "120"))
    except ValueError:
        print("duo_client_logs_adapter: DUO_LOOKBACK_S and DUO_SETTLE_S are seconds",
              file=sys.stderr)
        return 2
    users = [u.strip() for u in os.environ.get("DUO_LOG_USERS", "").split(",") if u.strip()]
    host, _, port = os.environ["DUO_API_HOST"].partition(":")
    admin = duo_client.Admin(
        ikey=os.environ["DUO_IKEY"],
        skey=os.environ["DUO_SKEY"],
        host=host,
        port=int(port) if port else None,
        ca_certs=os.environ.get("DUO_CA_CERT") or None,
        timeout=TIMEOUT_S,
    )
    result = os.environ["DUO_RESULT"]
    try:
        state = State(os.environ["DUO_STATE_DIR"])
        output = Output(os.environ["DUO_OUTPUT"])
        events = collect(admin, types, lookback_s, settle_s, state, output, users)
    except Failure as failure:
        print("duo_client_logs_adapter: %s: %s" % (failure.document["kind"], failure),
              file=sys.stderr)
        write_result(result, {"error": failure.document})
        return 1
    print("duo_client_logs_adapter: %d events" % events, file=sys.stderr)
    write_result(result, {"status": "ok", "events": events})
    return 0


if __name__ == "__main__":
    sys.exit(main())
