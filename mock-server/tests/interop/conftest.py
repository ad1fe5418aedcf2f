"""Fixtures for the interop suite: real `duo-mock serve` processes, the ground truth from
`duo-mock dump`, and Duo's official Python client pointed at them."""

import json
import os
import signal
import subprocess
import tempfile
import time
from pathlib import Path

import duo_client
import pytest

ROOT = Path(__file__).resolve().parents[3]
BIN = Path(os.environ.get("DUO_MOCK_BIN", ROOT / "target" / "debug" / "duo-mock"))
SCENARIOS = ROOT / "scenarios"


def scenario_path(name):
    return str(SCENARIOS / name)


class Servers:
    """Starts each (scenario, tls) server once per session and stops them all at the end."""

    def __init__(self):
        self.running = {}
        self.tmp = tempfile.TemporaryDirectory(prefix="duo-mock-interop-")

    def get(self, scenario, tls=False):
        key = (scenario, tls)
        if key not in self.running:
            self.running[key] = self._start(scenario, tls)
        return self.running[key][1]

    def _start(self, scenario, tls):
        ready_path = Path(self.tmp.name) / f"{scenario}-{tls}.json"
        args = [str(BIN), "serve", "--scenario", scenario_path(scenario),
                "--listen", "127.0.0.1:0", "--ready-file", str(ready_path)]
        if tls:
            args.append("--tls")
        proc = subprocess.Popen(args, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
        deadline = time.monotonic() + 60
        while not ready_path.exists():
            if proc.poll() is not None:
                raise RuntimeError(f"duo-mock exited early ({proc.returncode}): "
                                   f"{proc.stderr.read().decode(errors='replace')}")
            if time.monotonic() > deadline:
                proc.kill()
                raise RuntimeError("duo-mock wrote no ready file within 60 s")
            time.sleep(0.01)
        return proc, json.loads(ready_path.read_text())

    def stop_all(self):
        for proc, _ in self.running.values():
            proc.send_signal(signal.SIGINT)
        for proc, _ in self.running.values():
            try:
                proc.wait(timeout=15)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait()
        self.tmp.cleanup()


@pytest.fixture(scope="session")
def servers():
    s = Servers()
    yield s
    s.stop_all()


_dumps = {}


@pytest.fixture(scope="session")
def dump():
    """dump(scenario) -> the tenant as `duo-mock dump` prints it (the ground truth)."""

    def get(scenario):
        if scenario not in _dumps:
            out = subprocess.run([str(BIN), "dump", "--scenario", scenario_path(scenario)],
                                 check=True, capture_output=True, timeout=120)
            _dumps[scenario] = json.loads(out.stdout)
        return _dumps[scenario]

    return get


def credentials(ready, name="access-review"):
    for integration in ready["integrations"]:
        if integration["name"] == name:
            return integration
    raise KeyError(name)


def make_admin(ready, integration="access-review", skey=None, ikey=None, **kwargs):
    """duo_client.Admin for a ready file: plain HTTP, or TLS trusting the generated CA."""
    creds = credentials(ready, integration)
    tls = ready["ca_cert"] is not None
    return duo_client.Admin(
        ikey=ikey or creds["ikey"],
        skey=skey or creds["skey"],
        host="localhost" if tls else "127.0.0.1",
        port=ready["port"],
        ca_certs=ready["ca_cert"] if tls else "HTTP",
        **kwargs,
    )
