"""DuoMock: one ``duo-mock serve`` process on a free loopback port, started from a scenario, known
by its ready file, steered through its control API, and stopped with its whole process group on
``close()``, at the end of a ``with`` block, when it is garbage-collected, or at interpreter
exit."""

from __future__ import annotations

import atexit
import json
import logging
import os
import re
import shutil
import signal
import subprocess
import tempfile
import threading
import time
import weakref
from importlib import metadata
from pathlib import Path
from typing import Any

from . import scenario as scenarios
from .control import ControlClient
from .error import DuoMockError
from .journal import Journal, StatusFilter

log = logging.getLogger("duo_mock")

#: Names a duo-mock binary to use instead of the installed one (e.g. ``target/debug/duo-mock``).
BINARY_ENV = "DUO_MOCK_BIN"
#: How long ``close()`` lets the server drain before it kills the group.
STOP_GRACE_S = 10.0
_EXE = "duo-mock.exe" if os.name == "nt" else "duo-mock"
_ANSI = re.compile(r"\x1b\[[0-9;]*m")


def binary_path() -> Path:
    """The ``duo-mock`` binary: ``$DUO_MOCK_BIN`` if set, else the one this package installed (in
    the environment's ``bin/`` or ``Scripts\\``), else the first on ``PATH``."""
    override = os.environ.get(BINARY_ENV)
    if override:
        if not Path(override).is_file():
            raise DuoMockError(f"{BINARY_ENV}={override}: no such file")
        return Path(override)
    try:
        files = metadata.distribution("duo-mock").files or []
    except metadata.PackageNotFoundError:
        files = []
    for file in files:
        if file.name == _EXE:
            located = Path(os.path.normpath(file.locate()))
            if located.is_file():
                return located
    found = shutil.which(_EXE)
    if found:
        return Path(found)
    raise DuoMockError(
        f"the {_EXE} binary was not found: install the duo-mock package, or set {BINARY_ENV}"
    )


class DuoMock:
    """A running fake Duo Admin API.

    ``scenario`` is a bundled scenario's name (``"default"``,
    ``"catalogue/d10-waf-cloudflare-403"``) or a scenario file (a path, or a string ending in
    ``.toml``). With ``tls`` the fake serves HTTPS with a CA it generates (``ca_cert``). Raises
    :class:`DuoMockError` with the binary's message (``file:line:column: …`` for a bad scenario)
    when it does not start.

    >>> with DuoMock("default") as fake:                       # doctest: +SKIP
    ...     admin = duo_client.Admin(**fake.client_kwargs())
    ...     users = admin.get_users()
    """

    #: The host name clients must use: the generated certificate names it, and Duo's Python
    #: client checks DNS names only.
    host = "localhost"

    def __init__(
        self,
        scenario: scenarios.ScenarioArg = "default",
        tls: bool = True,
        *,
        journal_file: os.PathLike | None = None,
        verbose: bool = False,
        startup_timeout: float = 60.0,
        control_timeout: float = 60.0,
    ) -> None:
        self.scenario: Path = scenarios.resolve(scenario)
        self._start_scenario: Path = self.scenario
        self.tls = tls
        binary = binary_path()
        self._workdir = Path(tempfile.mkdtemp(prefix="duo-mock-"))
        ready_file = self._workdir / "ready.json"
        self._stderr = self._workdir / "stderr.log"
        args = [
            str(binary), "serve", "--scenario", str(self.scenario),
            "--listen", "127.0.0.1:0", "--ready-file", str(ready_file),
        ]
        if tls:
            args.append("--tls")
        if journal_file is not None:
            args += ["--journal", os.fspath(journal_file)]
        if verbose:
            args.append("--verbose")
        # The generated CA goes to the temporary folder the binary is given: this one, removed
        # with everything else even when the server is killed before it can clean up.
        env = {**os.environ, "NO_COLOR": "1", "TMPDIR": str(self._workdir),
               "TMP": str(self._workdir), "TEMP": str(self._workdir)}
        # Output goes to files: a pipe nobody reads would block the server once full.
        try:
            with open(self._workdir / "stdout.log", "wb") as out, open(self._stderr, "wb") as err:
                self._process = subprocess.Popen(
                    args, stdin=subprocess.DEVNULL, stdout=out, stderr=err, env=env,
                    **_own_process_group(),
                )
        except OSError as error:
            shutil.rmtree(self._workdir, ignore_errors=True)
            raise DuoMockError(f"could not start {binary}: {error}") from None
        self.pid: int = self._process.pid
        with _lock:
            _running[self.pid] = (self._process, self._workdir)
        self._finalizer = weakref.finalize(self, _stop, self._process, self._workdir, STOP_GRACE_S)
        self._finalizer.atexit = False  # _stop_all_at_exit kills at once instead
        try:
            self._info: dict[str, Any] = self._wait_for(ready_file, startup_timeout)
        except BaseException:
            self.close()
            raise
        self._control = ControlClient(
            self._info["control_url"], self._info["control_token"], self.ca_cert, control_timeout
        )
        log.info("started duo-mock (pid %d) at %s serving %s", self.pid, self.base_url,
                 self.scenario, extra={"duo_mock_pid": self.pid})

    def _wait_for(self, ready_file: Path, timeout: float) -> dict[str, Any]:
        deadline = time.monotonic() + timeout
        delay = 0.005
        while True:
            if ready_file.exists():  # written to a temporary name, then renamed: complete
                return json.loads(ready_file.read_text(encoding="utf-8"))
            code = self._process.poll()
            if code is not None:
                raise DuoMockError(
                    self.log_tail() or f"duo-mock exited with {code} before it was ready",
                    returncode=code,
                )
            if time.monotonic() > deadline:
                raise DuoMockError(
                    f"duo-mock wrote no ready file within {timeout} s; its log:\n{self.log_tail()}"
                )
            time.sleep(delay)
            delay = min(delay * 2, 0.1)

    # -- lifecycle -------------------------------------------------------------------------

    def close(self) -> None:
        """Stops the server (SIGTERM to its process group, SIGKILL after ``STOP_GRACE_S``) and
        removes its files. Calling it again does nothing."""
        if self._finalizer.alive:
            self._finalizer()
            log.info("stopped duo-mock (pid %d)", self.pid, extra={"duo_mock_pid": self.pid})

    def __enter__(self) -> DuoMock:
        return self

    def __exit__(self, *_exc: object) -> None:
        self.close()

    @property
    def running(self) -> bool:
        """Whether the server process is still alive."""
        return self._finalizer.alive and self._process.poll() is None

    def log_tail(self, lines: int = 40) -> str:
        """The last lines the server wrote to stderr (its log), without colour codes."""
        try:
            text = self._stderr.read_text(encoding="utf-8", errors="replace")
        except OSError:
            return ""
        return "\n".join(_ANSI.sub("", line) for line in text.strip().splitlines()[-lines:])

    def __repr__(self) -> str:  # no skey, no control token
        state = "running" if self.running else "stopped"
        base = self._info["base_url"] if hasattr(self, "_info") else "?"
        return f"<DuoMock {self.scenario.name} {base} pid={self.pid} {state}>"

    # -- what the ready file says ----------------------------------------------------------

    @property
    def port(self) -> int:
        """The port the server listens on (loopback)."""
        return int(self._info["port"])

    @property
    def api_host(self) -> str:
        """The scenario's API hostname (``api-xxxxxxxx.duosecurity.com``)."""
        return str(self._info["api_host"])

    @property
    def base_url(self) -> str:
        """``https://localhost:PORT`` (or ``http://127.0.0.1:PORT`` without TLS)."""
        return str(self._info["base_url"])

    @property
    def ca_cert(self) -> str | None:
        """Path of the generated CA's PEM with TLS, else ``None``."""
        return self._info.get("ca_cert")

    @property
    def control_url(self) -> str:
        """Base URL of the control API (``…/__duo-mock``)."""
        return str(self._info["control_url"])

    @property
    def proxy_url(self) -> str | None:
        """The CONNECT proxy in front of the fake, when the scenario has ``[proxy]``."""
        return self._info.get("proxy_url")

    @property
    def info(self) -> dict[str, Any]:
        """The ready file as written, every field (a copy)."""
        return json.loads(json.dumps(self._info))

    @property
    def integrations(self) -> list[dict[str, Any]]:
        """The scenario's integrations: ``name``, ``ikey``, ``skey``, ``grants`` (copies)."""
        return [dict(i) for i in self._info["integrations"]]

    @property
    def ikey(self) -> str | None:
        """The first integration's ikey."""
        first = self._first_integration()
        return first["ikey"] if first else None

    @property
    def skey(self) -> str | None:
        """The first integration's skey (the scenario's own test key)."""
        first = self._first_integration()
        return first["skey"] if first else None

    def _first_integration(self) -> dict[str, Any] | None:
        integrations = self._info["integrations"]
        return integrations[0] if integrations else None

    def client_kwargs(self, integration: str | None = None) -> dict[str, Any]:
        """Keyword arguments for ``duo_client.Admin(**kw)`` (or ``Auth``, ``Accounts``): the keys of
        ``integration`` (a name; the first one by default), ``host``, ``port`` and ``ca_certs``
        (the CA's path, or ``"HTTP"`` without TLS)."""
        chosen = self._first_integration() if integration is None else next(
            (i for i in self._info["integrations"] if i["name"] == integration), None
        )
        if chosen is None:
            names = ", ".join(repr(i["name"]) for i in self._info["integrations"])
            raise KeyError(f"no integration {integration!r} in this scenario (it has {names})")
        return {
            "ikey": chosen["ikey"],
            "skey": chosen["skey"],
            "host": self.host,
            "port": self.port,
            "ca_certs": self.ca_cert if self.ca_cert else "HTTP",
        }

    # -- the control API -------------------------------------------------------------------

    def journal(self) -> Journal:
        """Every request the server answered and kept (the last 10,000), oldest first."""
        return Journal(self._control.call("GET", "journal?after=0")["entries"])

    def clear_journal(self) -> None:
        """Forgets the journal's entries (sequence numbers go on)."""
        self._control.call("DELETE", "journal")

    def reset(self, to_start: bool = False) -> dict[str, Any]:
        """Rebuilds the tenant of the scenario being served (the last one loaded, if any): writes
        and churn undone; fault counters, rate limits and the clock start over. With
        ``to_start=True``, returns to the scenario the server started with instead (and serves it
        from then on); ``scenario``, ``integrations``, ``ikey`` and ``skey`` follow it. Returns
        ``{"status": "ok", "users": N, "scenario": <its file, or "<control>" when loaded>}``."""
        answer = self._control.call("POST", "reset?to=start" if to_start else "reset")
        if to_start:
            self.scenario = self._start_scenario
            self._info["integrations"] = self.dump()["integrations"]
        return answer

    def set_clock_offset(self, seconds: int) -> dict[str, Any]:
        """Runs the server's clock ``seconds`` ahead of this machine's (negative: behind).
        Returns ``{"offset_s": …, "server_time": …}``."""
        if int(seconds) != seconds:
            raise ValueError(f"the clock offset is whole seconds, not {seconds!r}")
        body = json.dumps({"offset_s": int(seconds)}).encode()
        return self._control.call("PUT", "clock", body)

    def clock(self) -> dict[str, Any]:
        """The server clock: ``{"offset_s": …, "server_time": …}``."""
        return self._control.call("GET", "clock")

    def load(self, scenario: scenarios.ScenarioArg) -> dict[str, Any]:
        """Serves another scenario (a name or a file, as for the constructor) from now on, on the
        same port with the same CA; ``integrations``, ``ikey`` and ``skey`` follow it. A bad one
        raises :class:`DuoMockError` (``file:line:column: …``) and changes nothing.

        The scenario travels as text, so a ``body_file`` or ``logo`` it names is looked for
        relative to the server's working folder, not the scenario's."""
        path = scenarios.resolve(scenario)
        try:
            answer = self._control.call("POST", "load", path.read_bytes())
        except DuoMockError as refused:
            # The server names text it was sent `<control>` (one line a mistake, each starting
            # `<control>:line:column:`); the caller knows it as this file.
            located = str(refused).replace("<control>:", f"{path}:")
            raise DuoMockError(located, status=refused.status) from None
        self.scenario = path
        self._info["integrations"] = self.dump()["integrations"]
        return answer

    def dump(self) -> dict[str, Any]:
        """The tenant as served now: ``users``, ``admins``, ``groups``, ``group_members``, each
        kind of device (``phones``, ``tokens``, ``webauthncredentials``, ``u2ftokens``,
        ``desktoptokens``, ``bypass_codes``, ``desktop_authenticators``, ``endpoints``,
        ``registered_devices``) and ``integrations``, objects exactly as the API returns them."""
        return self._control.call("GET", "dump")

    # -- journal assertions, on the journal as it is now ------------------------------------

    def requests(
        self, path: str | None = None, status: StatusFilter = None, method: str | None = None
    ) -> Journal:
        """The journal's entries for ``path`` (``*`` wildcards), ``status`` and ``method``."""
        return self.journal().requests(path=path, status=status, method=method)

    def assert_no_page_read_twice(self) -> None:
        """See :meth:`Journal.assert_no_page_read_twice`."""
        self.journal().assert_no_page_read_twice()

    def assert_backoff_after_429(self, min_s: float = 1) -> None:
        """See :meth:`Journal.assert_backoff_after_429`."""
        self.journal().assert_backoff_after_429(min_s=min_s)


# -- processes ---------------------------------------------------------------------------------

#: Servers not stopped yet, by pid: what the exit hook kills.
_running: dict[int, tuple[subprocess.Popen, Path]] = {}
_lock = threading.Lock()


def _own_process_group() -> dict[str, Any]:
    """The server leads a process group of its own: a terminal's Ctrl-C does not reach it (this
    package stops it), and the whole group can be signalled at once."""
    if os.name == "posix":
        return {"start_new_session": True}
    return {"creationflags": subprocess.CREATE_NEW_PROCESS_GROUP}  # type: ignore[attr-defined]


def _signal_group(process: subprocess.Popen, kill: bool) -> None:
    if process.returncode is not None:
        return  # reaped: its pid, and so its group id, may belong to someone else now
    try:
        if os.name == "posix":
            os.killpg(process.pid, signal.SIGKILL if kill else signal.SIGTERM)
        elif kill:
            process.kill()
        else:
            process.terminate()
    except (ProcessLookupError, PermissionError):
        pass


def _stop(process: subprocess.Popen, workdir: Path, grace_s: float) -> None:
    """SIGTERM, ``grace_s`` to drain, then SIGKILL, to the group; then the server's files go."""
    with _lock:
        _running.pop(process.pid, None)
    if process.poll() is None:
        if grace_s > 0:
            _signal_group(process, kill=False)
            try:
                process.wait(grace_s)
            except subprocess.TimeoutExpired:
                pass
        _signal_group(process, kill=True)
        process.wait()
    shutil.rmtree(workdir, ignore_errors=True)


@atexit.register
def _stop_all_at_exit() -> None:
    """Interpreter exit: every server still running is killed with its group, without waiting."""
    with _lock:
        left = list(_running.values())
    for process, workdir in left:
        _stop(process, workdir, grace_s=0)
