"""`duo-mock record` between Duo's Python client and a fake playing a Duo we have not seen
(options off their defaults, a 429, a WAF's page, a missing grant): the recording, replayed by
`duo-mock serve`, gives the same client calls the same statuses, counts, page boundaries, field
sets and membership graph (up to pseudonyms), and its files hold nothing of the upstream tenant.
"""

import json
import os
import signal
import ssl
import subprocess
import time
import urllib.request
from pathlib import Path

import duo_client

from conftest import BIN, CLIENT_TIMEOUT_S, READY_TIMEOUT_S, STOP_TIMEOUT_S

UPSTREAM = """
[tenant]
name = "Upstream Holdings"
api_hostname = "api-0p57ream.duosecurity.com"
seed = 4242
email_domain = "upstream-holdings.example"

[generate]
users = 130
admins = 3
groups = 8
groups_per_user = [1, 3]
aliases = 0.3

[[integrations]]
name = "access-review"
ikey = "DIUPSTREAM0REC0RD001"
skey = "upstreamSecretKeyThatMustNeverBeWritten1"
grants = ["Grant read resource", "Grant read information", "Grant settings"]

[options]
group_status_case = "capitalized"
group_voice_enabled = false
metadata = "always"

[options.max_limit]
users = 50
groups = 5
group_users = 20

[[faults]]
name = "one 429 on the second users page"
path = "/admin/v1/users"
calls = [2, 2]
duo_error = 42901

[[faults]]
name = "a WAF in front of info"
path = "/admin/v1/info/summary"
status = 403
headers = { "Server" = "BigIP", "Content-Type" = "text/html" }
body = "<html><head><title>Request Rejected</title></head><body>Rejected for 203.0.113.9</body></html>"
"""



class Client(duo_client.Admin):
    """The official client, unchanged, plus a note of every attempt's answer."""

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.answers = []

    def _attempt_single_request(self, conn, method, uri, body, headers):
        response, data = super()._attempt_single_request(conn, method, uri, body, headers)
        self.answers.append((method, uri, response.status, data))
        return response, data


def client(ready):
    creds = ready["integrations"][0]
    return Client(ikey=creds["ikey"], skey=creds["skey"], host="localhost", port=ready["port"],
                  ca_certs=ready["ca_cert"], timeout=CLIENT_TIMEOUT_S)


def spawn(args, workdir, tag):
    ready = Path(workdir) / f"{tag}.ready.json"
    log = open(Path(workdir) / f"{tag}.log", "wb")
    proc = subprocess.Popen([str(BIN), *args, "--ready-file", str(ready)], stdin=subprocess.DEVNULL,
                            stdout=log, stderr=subprocess.STDOUT, env={**os.environ, "NO_COLOR": "1"})
    deadline = time.monotonic() + READY_TIMEOUT_S
    while not ready.exists():
        assert proc.poll() is None, f"{tag} exited {proc.returncode}: {Path(log.name).read_text()}"
        assert time.monotonic() < deadline, f"{tag}: no ready file"
        time.sleep(0.02)
    return proc, json.loads(ready.read_text())


def stop(proc):
    if proc.poll() is None:
        proc.send_signal(signal.SIGTERM)
        try:
            proc.wait(timeout=STOP_TIMEOUT_S)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()


def session(admin):
    """The same calls every time; the answers in terms that do not depend on ids or names."""
    users = admin.get_users()
    groups = admin.get_groups()
    user_index = {u["user_id"]: i for i, u in enumerate(users)}
    group_index = {g["group_id"]: i for i, g in enumerate(groups)}
    members = [sorted(user_index[m["user_id"]] for m in admin.get_group_users(g["group_id"]))
               for g in groups]
    one = admin.get_user_by_id(users[7]["user_id"])
    refusals = []
    for call in (admin.get_admins, admin.get_info_summary):
        try:
            call()
            refusals.append(None)
        except RuntimeError as error:
            refusals.append(str(error))

    def shape(uri, status, data):
        path, _, query = uri.partition("?")
        for ids in (user_index, group_index):
            for object_id, i in ids.items():
                path = path.replace(object_id, f"#{i}")
        params = dict(p.split("=", 1) for p in query.split("&") if "=" in p)
        try:
            body = json.loads(data)
        except ValueError:
            return (path, params.get("offset"), params.get("limit"), status, "not json")
        response = body.get("response")
        items = len(response) if isinstance(response, list) else None
        return (path, params.get("offset"), params.get("limit"), status, body.get("code"), items,
                sorted(body.get("metadata", {})) if "metadata" in body else None)

    return {
        "answers": [shape(uri, status, data) for (_, uri, status, data) in admin.answers],
        "counts": (len(users), len(groups)),
        "user_fields": [sorted(u) for u in users],
        "group_fields": [sorted(g) for g in groups],
        "one_user_fields": sorted(one),
        "groups_of_users": [sorted(group_index[g["group_id"]] for g in u["groups"]) for u in users],
        "members": members,
        "group_status": [g["status"] for g in groups],
        "refusals": refusals,
    }


def test_record_then_replay_gives_duos_python_client_the_same_answers(tmp_path):
    scenario = tmp_path / "upstream.toml"
    scenario.write_text(UPSTREAM)
    procs = []
    try:
        upstream, up = spawn(["serve", "--scenario", str(scenario), "--tls"], tmp_path, "upstream")
        procs.append(upstream)
        dump = json.loads(subprocess.run([str(BIN), "dump", "--scenario", str(scenario)],
                                         capture_output=True, check=True).stdout)
        out = tmp_path / "recorded"
        (tmp_path / "upstream.skey").write_text(up["integrations"][0]["skey"] + "\n")
        recorder, rec = spawn(["record", "--upstream", f"localhost:{up['port']}",
                               "--ikey", up["integrations"][0]["ikey"],
                               "--skey-file", str(tmp_path / "upstream.skey"),
                               "--ca-cert", up["ca_cert"], "--out", str(out), "--tls"],
                              tmp_path, "recorder")
        procs.append(recorder)
        assert rec["integrations"][0]["skey"] != up["integrations"][0]["skey"], "local keys only"
        recorded = session(client(rec))

        context = ssl.create_default_context(cafile=rec["ca_cert"])
        request = urllib.request.Request(rec["control_url"] + "/record/stop", method="POST",
                                         headers={"X-Duo-Mock-Token": rec["control_token"]})
        with urllib.request.urlopen(request, context=context, timeout=CLIENT_TIMEOUT_S) as answer:
            summary = json.loads(answer.read())
        assert summary["status"] == "stopped" and summary["users"] == 130, summary
        recorder.send_signal(signal.SIGTERM)
        assert recorder.wait(timeout=STOP_TIMEOUT_S) == 0

        replay, rep = spawn(["serve", "--scenario", str(out / "scenario.toml"), "--tls"], tmp_path,
                            "replay")
        procs.append(replay)
        replayed = session(client(rep))
        for key in recorded:
            assert recorded[key] == replayed[key], key

        # What the client saw of the upstream's oddities, replayed: one 429 retried, the WAF's
        # page, the missing grant, capitalized statuses, short pages.
        statuses = [a[3] for a in recorded["answers"]]
        assert statuses.count(429) == 1 and 403 in statuses, statuses
        assert recorded["refusals"][0].startswith("Received 403"), recorded["refusals"]
        assert recorded["group_status"][0][0].isupper()
        assert [a[1] for a in recorded["answers"] if a[0] == "/admin/v1/groups"] == \
            ["0", "5"], "five groups a page"

        secrets = [up["integrations"][0]["skey"], "203.0.113.9", "Upstream Holdings",
                   "upstream-holdings"]
        for user in dump["users"]:
            secrets += [user["username"], user["email"], user["user_id"], user["realname"]]
            secrets += [p["number"] for p in user["phones"] if p["number"]]
        for group in dump["groups"]:
            secrets += [json.dumps(group["name"]), group["group_id"]]
        for path in out.iterdir():
            text = path.read_text()
            for secret in secrets:
                assert secret not in text, f"{path.name} holds {secret!r}"
    finally:
        for proc in procs:
            stop(proc)
