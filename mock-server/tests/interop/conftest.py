"""Fixtures for the interop suite: real `duo-mock serve` processes, the ground truth from
`duo-mock dump`, and Duo's official Python client (duo-client 5.7.0) pointed at them.

The client is never re-implemented here: `CountingAdmin` only records the calls the official
`duo_client.Admin` makes (so paging tests can check how many pages it needed) and stops a runaway
pager; every request, signature and response parse is the library's own.
"""

import atexit
import json
import os
import re
import signal
import subprocess
import tempfile
import time
from pathlib import Path

import duo_client
import pytest

ROOT = Path(__file__).resolve().parents[3]
BIN = Path(os.environ.get("DUO_MOCK_BIN") or ROOT / "target" / "debug" / "duo-mock")
SCENARIOS = ROOT / "scenarios"

READY_TIMEOUT_S = 60  # a debug build on a busy 2-core machine; normally ~0.1 s
STOP_TIMEOUT_S = 15
CLIENT_TIMEOUT_S = 30  # socket timeout of every client call: a hung server fails, not hangs
MAX_CALLS = 5000  # per client object; far above any test's need, stops an endless pager


def scenario_path(name):
    return str(SCENARIOS / name)


_ANSI = re.compile(r"\x1b\[[0-9;]*m")


def _tail(path, lines=40):
    try:
        text = Path(path).read_text(errors="replace")
    except OSError:
        return "<no log>"
    return "\n".join(_ANSI.sub("", line) for line in text.splitlines()[-lines:])


class Server:
    """One `duo-mock serve` process, its log files and its parsed ready file."""

    def __init__(self, scenario, tls, workdir):
        self.scenario = scenario
        self.tls = tls
        tag = f"{scenario.replace('.toml', '').replace('/', '_')}-{'tls' if tls else 'http'}-{time.monotonic_ns()}"
        self.ready_path = Path(workdir) / f"{tag}.ready.json"
        self.stdout_path = Path(workdir) / f"{tag}.stdout"
        self.stderr_path = Path(workdir) / f"{tag}.stderr"
        self.proc = None
        self.ready = None

    def start(self):
        if not BIN.is_file():
            raise RuntimeError(f"duo-mock binary not found at {BIN} (set DUO_MOCK_BIN or build it)")
        args = [str(BIN), "serve", "--scenario", scenario_path(self.scenario),
                "--listen", "127.0.0.1:0", "--ready-file", str(self.ready_path), "--verbose"]
        if self.tls:
            args.append("--tls")
        # Logs go to files, never to pipes nobody reads (a full pipe would block the server).
        with open(self.stdout_path, "wb") as out, open(self.stderr_path, "wb") as err:
            self.proc = subprocess.Popen(args, stdin=subprocess.DEVNULL, stdout=out, stderr=err,
                                         env={**os.environ, "NO_COLOR": "1"})
        deadline = time.monotonic() + READY_TIMEOUT_S
        delay = 0.005
        while not self.ready_path.exists():
            code = self.proc.poll()
            if code is not None:
                raise RuntimeError(
                    f"duo-mock serve {self.scenario} (tls={self.tls}) exited with {code} before "
                    f"writing its ready file; stderr:\n{_tail(self.stderr_path)}")
            if time.monotonic() > deadline:
                self.kill()
                raise RuntimeError(
                    f"duo-mock serve {self.scenario} wrote no ready file within "
                    f"{READY_TIMEOUT_S} s; stderr:\n{_tail(self.stderr_path)}")
            time.sleep(delay)
            delay = min(delay * 2, 0.1)
        self.ready = json.loads(self.ready_path.read_text())
        return self.ready

    def alive(self):
        return self.proc is not None and self.proc.poll() is None

    def stop(self, sig=signal.SIGTERM):
        """Graceful stop; SIGKILL if it does not exit in time. Returns the exit code."""
        if self.proc is None:
            return None
        if self.proc.poll() is None:
            self.proc.send_signal(sig)
            try:
                self.proc.wait(timeout=STOP_TIMEOUT_S)
            except subprocess.TimeoutExpired:
                self.kill()
        return self.proc.returncode

    def kill(self):
        if self.proc is not None and self.proc.poll() is None:
            self.proc.kill()
            self.proc.wait()

    def log_tail(self, lines=40):
        return _tail(self.stderr_path, lines)


class Servers:
    """Starts each (scenario, tls) server once per session and stops them all at the end."""

    def __init__(self):
        self.tmp = tempfile.TemporaryDirectory(prefix="duo-mock-interop-")
        self.running = {}
        self.crashed = []
        atexit.register(self.kill_all)  # last resort if pytest itself dies before teardown

    def kill_all(self):
        for server in self.running.values():
            server.kill()

    def new(self, scenario, tls=False):
        """A server of its own (not shared), e.g. to test shutdown; stopped at session end."""
        server = Server(scenario, tls, self.tmp.name)
        self.running[(scenario, tls, id(server))] = server
        try:
            server.start()
        except BaseException:
            server.kill()
            raise
        return server

    def shared(self, scenario, tls=False):
        key = (scenario, tls)
        server = self.running.get(key)
        if server is not None and not server.alive():
            if server.ready is not None:  # it had started: a crash, not a failed start
                self.crashed.append(
                    f"{scenario} (tls={tls}) died with {server.proc.returncode}:\n"
                    f"{server.log_tail()}")
            server = None
        if server is None:
            server = Server(scenario, tls, self.tmp.name)
            self.running[key] = server
            try:
                server.start()
            except BaseException:
                server.kill()
                raise
        return server

    def stop_all(self):
        for key, server in self.running.items():
            if server.ready is not None and server.proc.poll() is not None and len(key) == 2:
                self.crashed.append(f"{key[0]} (tls={key[1]}) died with {server.proc.returncode}"
                                    f" during the session:\n{server.log_tail()}")
        for server in self.running.values():
            if server.alive():
                server.proc.send_signal(signal.SIGTERM)
        for server in self.running.values():
            server.stop()  # waits; kills whatever does not exit in time
        self.tmp.cleanup()


@pytest.fixture(scope="session")
def servers():
    s = Servers()
    try:
        yield s
    finally:
        s.stop_all()
    if s.crashed:
        pytest.fail("duo-mock crashed during the session:\n" + "\n\n".join(s.crashed))


@pytest.fixture
def serve(servers, request):
    """serve(scenario, tls=False) -> the ready JSON of a running (session-shared) server."""
    used = request.node.stash.setdefault(_USED_SERVERS, [])

    def get(scenario, tls=False):
        server = servers.shared(scenario, tls)
        if server not in used:
            used.append(server)
        return server.ready

    return get


_USED_SERVERS = pytest.StashKey()


@pytest.hookimpl(wrapper=True)
def pytest_runtest_makereport(item, call):
    report = yield
    if report.failed and call.when == "call":
        for server in item.stash.get(_USED_SERVERS, []):
            state = "running" if server.alive() else f"exited {server.proc.returncode}"
            report.sections.append(
                (f"duo-mock {server.scenario} tls={server.tls} ({state}), last log lines",
                 server.log_tail(15)))
    return report


_dumps = {}


@pytest.fixture(scope="session")
def dump():
    """dump(scenario) -> the tenant as `duo-mock dump` prints it (the ground truth)."""

    def get(scenario):
        if scenario not in _dumps:
            out = subprocess.run([str(BIN), "dump", "--scenario", scenario_path(scenario)],
                                 capture_output=True, timeout=120, stdin=subprocess.DEVNULL)
            if out.returncode != 0:
                raise RuntimeError(f"duo-mock dump {scenario} exited {out.returncode}: "
                                   f"{out.stderr.decode(errors='replace')}")
            _dumps[scenario] = json.loads(out.stdout)
        return _dumps[scenario]

    return get


class CountingAdmin(duo_client.Admin):
    """The official client, unchanged, plus a record of the calls it makes."""

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.calls = []

    def api_call(self, method, path, params, *args, **kwargs):
        self.calls.append((method, path, dict(params)))
        if len(self.calls) > MAX_CALLS:
            raise AssertionError(f"more than {MAX_CALLS} API calls: endless paging? last: "
                                 f"{method} {path} {params}")
        return super().api_call(method, path, params, *args, **kwargs)

    def offsets(self, path):
        """The `offset` parameters sent to `path`, in order, as ints."""
        return [int(p["offset"]) for (_, p_path, p) in self.calls if p_path == path]


def credentials(ready, name="access-review"):
    for integration in ready["integrations"]:
        if integration["name"] == name:
            return integration
    raise KeyError(f"no integration {name!r} in the ready file: {ready['integrations']}")


@pytest.fixture
def admin_for():
    """admin_for(ready, integration="access-review", **Admin kwargs) -> CountingAdmin.

    Plain HTTP uses ca_certs="HTTP" on 127.0.0.1; TLS uses host "localhost" and trusts the
    generated CA through the client's own pinning (`ca_certs=<path>`). Never a port in `host`.
    """

    def make(ready, integration="access-review", **kwargs):
        creds = credentials(ready, integration)
        tls = ready["ca_cert"] is not None
        options = {
            "ikey": creds["ikey"],
            "skey": creds["skey"],
            "host": "localhost" if tls else "127.0.0.1",
            "port": ready["port"],
            "ca_certs": ready["ca_cert"] if tls else "HTTP",
            "timeout": CLIENT_TIMEOUT_S,
        }
        options.update(kwargs)
        return CountingAdmin(**options)

    return make
