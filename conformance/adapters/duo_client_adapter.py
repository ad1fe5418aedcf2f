#!/usr/bin/env python3
"""Conformance adapter: Duo's official Python client (duo_client) run under the kit's contract.

It does what an integrator using duo_client does: `Admin.get_users()`, `get_admins()`,
`get_groups()` and `get_group_users(group_id)` with the client's own paging and 429 back-off,
then maps what the client raises to the contract's failure kinds as best the client lets it.
Its failures are duo_client's, recorded with reasons in conformance/ledger/duo-client-python.toml.

Contract (conformance/CONTRACT.md): DUO_API_HOST (host or host:port), DUO_IKEY, DUO_SKEY,
optional DUO_CA_CERT, DUO_OUTPUT. Exit 0 with the snapshot in DUO_OUTPUT, 1 with
{"error": {...}}, 2 for a usage error.

    .venv/bin/python conformance/adapters/duo_client_adapter.py
"""

import datetime
import http.client
import json
import os
import socket
import ssl
import sys
import time

import duo_client
from duo_client.https_wrapper import InvalidCertificateException

# Seconds a socket may wait for the server; duo_client waits forever by default.
TIMEOUT_S = 30

# Duo's error codes and the contract's kinds.
KIND_BY_CODE = {
    40102: "invalid_credentials",
    40103: "invalid_signature",
    40105: "clock_skew",
    40301: "permission_denied",
    40101: "protocol",
    40104: "protocol",
    40002: "protocol",
    40401: "protocol",
}


class Failure(Exception):
    """A failure classified into the contract's kinds."""

    def __init__(self, kind, message, endpoint=None, http_status=None, duo_code=None,
                 clock_offset_s=None):
        super().__init__(message)
        self.document = {
            "kind": kind,
            "message": message,
            "endpoint": endpoint,
            "http_status": http_status,
            "duo_code": duo_code,
            "clock_offset_s": clock_offset_s,
        }


def duo_error(data):
    """Duo's error envelope in a body, or None when the body is not Duo's."""
    envelope = data
    if not isinstance(data, dict):
        try:
            envelope = json.loads(data)
        except (TypeError, ValueError):
            return None
    if not isinstance(envelope, dict) or envelope.get("stat") != "FAIL":
        return None
    try:
        return int(envelope.get("code")), str(envelope.get("message", ""))
    except (TypeError, ValueError):
        return None


def clock_offset(admin):
    """Duo's clock minus this machine's, from the unsigned /auth/v2/ping (duo_unix issue 311)."""
    try:
        _, data = admin.api_call("GET", "/auth/v2/ping", {})
        return int(json.loads(data)["response"]["time"]) - int(time.time())
    except Exception:  # noqa: BLE001 - the offset is a bonus; the failure stands without it
        return None


def classify_runtime_error(error, endpoint, admin):
    """duo_client's RuntimeError (it carries .status, .reason and .data) as a Failure."""
    status = getattr(error, "status", None)
    # duo_client leaves the body in .data: bytes, text, or the parsed JSON when it parsed.
    data = getattr(error, "data", b"")
    if isinstance(data, bytes):
        data = data.decode("utf-8", "replace")
    if status == 200:
        if isinstance(data, (dict, list)):
            return Failure("protocol", "a 200 that is not a valid Duo answer: %s" % error, endpoint, status)
        body = (data or "").strip()
        if not body or body.startswith("<"):
            return Failure("blocked_by_intermediary",
                           "a 200 that is not Duo's JSON (a proxy or filter in the path): %s" % error,
                           endpoint, status)
        return Failure("protocol", "a 200 that is not a valid Duo answer: %s" % error, endpoint, status)
    parsed = duo_error(data)
    if parsed is None:
        return Failure("blocked_by_intermediary",
                       "HTTP %s that is not Duo's answer (a WAF, proxy or gateway): %s" % (status, error),
                       endpoint, status)
    code, message = parsed
    if 42900 <= code <= 42999:
        kind = "rate_limited"
    elif 50000 <= code <= 59999:
        kind = "server_error"
    else:
        kind = KIND_BY_CODE.get(code, "protocol")
    offset = None
    text = "Duo answered %s %s %s" % (status, code, message)
    if kind == "clock_skew":
        offset = clock_offset(admin)
        if offset is not None:
            direction = "ahead of" if offset >= 0 else "behind"
            text = "Duo's clock is %d seconds %s this machine's (%s)" % (abs(offset), direction, text)
    return Failure(kind, text, endpoint, status, code, offset)


def classify(error, endpoint, admin):
    """Any exception raised while calling Duo, as a Failure."""
    if isinstance(error, RuntimeError) and hasattr(error, "status"):
        return classify_runtime_error(error, endpoint, admin)
    if isinstance(error, (ssl.SSLError, ssl.CertificateError, InvalidCertificateException)):
        return Failure("tls", "TLS: %s" % error, endpoint)
    if isinstance(error, (socket.timeout, TimeoutError)):
        return Failure("network", "timed out: %s" % error, endpoint)
    if isinstance(error, (ConnectionRefusedError, socket.gaierror)):
        return Failure("network", "cannot connect: %s" % error, endpoint)
    if isinstance(error, (ConnectionResetError, ConnectionAbortedError, BrokenPipeError,
                          http.client.RemoteDisconnected, http.client.IncompleteRead,
                          http.client.BadStatusLine)):
        return Failure("blocked_by_intermediary",
                       "the connection was cut before a whole answer: %r" % error, endpoint)
    if isinstance(error, OSError):
        return Failure("network", "%r" % error, endpoint)
    return Failure("protocol", "%r" % error, endpoint)


def sync(admin, api_host):
    """The whole tenant, as the contract's snapshot."""
    endpoint = "/admin/v1/users"
    try:
        users = admin.get_users()
        endpoint = "/admin/v1/admins"
        admins = admin.get_admins()
        endpoint = "/admin/v1/groups"
        groups = admin.get_groups()
        members = {}
        for group in groups:
            endpoint = "/admin/v2/groups/%s/users" % group["group_id"]
            members[group["group_id"]] = [m["user_id"] for m in admin.get_group_users(group["group_id"])]
    except Failure:
        raise
    except Exception as error:  # noqa: BLE001 - every failure is classified, none escapes
        raise classify(error, endpoint, admin) from error
    return {
        "schema_version": 1,
        "api_host": api_host,
        "synced_at": datetime.datetime.now(datetime.timezone.utc).isoformat().replace("+00:00", "Z"),
        "users": users,
        "admins": admins,
        "groups": groups,
        "group_members": members,
    }


def write(path, document):
    with open(path, "w", encoding="utf-8") as out:
        json.dump(document, out, ensure_ascii=False)


def main():
    names = ("DUO_API_HOST", "DUO_IKEY", "DUO_SKEY", "DUO_OUTPUT")
    missing = [name for name in names if not os.environ.get(name)]
    if missing:
        print("duo_client_adapter: %s not set" % ", ".join(missing), file=sys.stderr)
        return 2
    api_host = os.environ["DUO_API_HOST"]
    host, _, port = api_host.partition(":")
    admin = duo_client.Admin(
        ikey=os.environ["DUO_IKEY"],
        skey=os.environ["DUO_SKEY"],
        host=host,
        port=int(port) if port else None,
        ca_certs=os.environ.get("DUO_CA_CERT") or None,
        timeout=TIMEOUT_S,
    )
    try:
        snapshot = sync(admin, api_host)
    except Failure as failure:
        print("duo_client_adapter: %s: %s" % (failure.document["kind"], failure), file=sys.stderr)
        write(os.environ["DUO_OUTPUT"], {"error": failure.document})
        return 1
    write(os.environ["DUO_OUTPUT"], snapshot)
    return 0


if __name__ == "__main__":
    sys.exit(main())
