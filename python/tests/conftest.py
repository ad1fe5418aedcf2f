"""The package's own suite, run against the INSTALLED wheel (python/scripts/test-package.sh puts it
in a fresh virtualenv with pytest and duo-client). The plugin under test comes through its
``pytest11`` entry point, never from here: this file only adds what the suite itself needs.

Every server the suite starts is logged (``duo_mock`` logger) and its pid appended to the file
named by ``DUO_MOCK_TEST_PID_LOG``, so the script can check from outside that none outlived the
run."""

import logging
import os
import time
from pathlib import Path

import duo_client
import pytest

pytest_plugins = ["pytester"]

#: The repository's scenarios, to compare with what the wheel carries.
SOURCE_SCENARIOS = Path(__file__).resolve().parents[2] / "scenarios"
CLIENT_TIMEOUT_S = 30  # a hung server fails the test instead of hanging it


class PidLog(logging.Handler):
    """Appends the pid of every duo-mock the package starts to a file, one a line."""

    def __init__(self, path):
        super().__init__(logging.INFO)
        self.path = path

    def emit(self, record):
        pid = getattr(record, "duo_mock_pid", None)
        if pid is not None and record.getMessage().startswith("started"):
            record_pid(pid)


def record_pid(pid):
    path = os.environ.get("DUO_MOCK_TEST_PID_LOG")
    if path:
        with open(path, "a", encoding="utf-8") as log:
            log.write(f"{pid}\n")


def pytest_configure(config):
    if os.environ.get("DUO_MOCK_TEST_PID_LOG"):
        logger = logging.getLogger("duo_mock")
        logger.setLevel(logging.INFO)
        logger.addHandler(PidLog(os.environ["DUO_MOCK_TEST_PID_LOG"]))


def process_gone(pid, timeout_s=10.0):
    """True once `pid` has exited (gone, or a zombie waiting for its parent to reap it)."""
    deadline = time.monotonic() + timeout_s
    while True:
        try:
            os.kill(pid, 0)
        except ProcessLookupError:
            return True
        try:
            state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
        except (OSError, IndexError):
            state = "?"
        if state == "Z":
            return True
        if time.monotonic() > deadline:
            return False
        time.sleep(0.05)


def admin_for(fake, integration=None, **options):
    """Duo's official client, configured only from what the package hands out."""
    return duo_client.Admin(**fake.client_kwargs(integration), timeout=CLIENT_TIMEOUT_S, **options)


def raised(call):
    """The RuntimeError Duo's client raises for a failed call."""
    with pytest.raises(RuntimeError) as info:
        call()
    return info.value
