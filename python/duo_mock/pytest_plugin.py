"""The pytest plugin (registered through the ``pytest11`` entry point): the ``duo_mock`` and
``duo_mock_factory`` fixtures and the ``duo_mock`` marker. Every server a test starts is stopped
when the test ends; a failing test's report carries the last lines of each one's log."""

from __future__ import annotations

from typing import Any

import pytest

from .scenario import ScenarioArg
from .server import DuoMock

_SERVERS = pytest.StashKey[list[DuoMock]]()


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line(
        "markers",
        "duo_mock(scenario='default', tls=True, **options): what the test's duo_mock fixture "
        "serves, e.g. @pytest.mark.duo_mock(scenario='catalogue/d10-waf-cloudflare-403')",
    )


class DuoMockFactory:
    """``factory(scenario="default", tls=True, **options)`` starts a :class:`DuoMock` (same
    arguments) that is stopped at the end of the test."""

    def __init__(self, started: list[DuoMock]) -> None:
        self._started = started

    def __call__(
        self, scenario: ScenarioArg = "default", tls: bool = True, **options: Any
    ) -> DuoMock:
        server = DuoMock(scenario, tls, **options)
        self._started.append(server)
        return server

    def close_all(self) -> None:
        for server in reversed(self._started):
            server.close()


@pytest.fixture
def duo_mock_factory(request: pytest.FixtureRequest):
    """Starts fakes on demand: ``duo_mock_factory("catalogue/d06-missing-grant-read-resource")``."""
    started = request.node.stash.setdefault(_SERVERS, [])
    factory = DuoMockFactory(started)
    try:
        yield factory
    finally:
        factory.close_all()


@pytest.fixture
def duo_mock(request: pytest.FixtureRequest, duo_mock_factory: DuoMockFactory) -> DuoMock:
    """A fake serving the default scenario over HTTPS, or what the test's
    ``@pytest.mark.duo_mock(...)`` asks for; stopped when the test ends."""
    marker = request.node.get_closest_marker("duo_mock")
    args, kwargs = (marker.args, marker.kwargs) if marker is not None else ((), {})
    return duo_mock_factory(*args, **kwargs)


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_makereport(item: pytest.Item, call: pytest.CallInfo):
    outcome = yield
    report = outcome.get_result()
    if report.failed and call.when == "call":
        for server in item.stash.get(_SERVERS, []):
            state = "running" if server.running else "stopped"
            report.sections.append(
                (f"duo-mock {server.scenario.name} pid {server.pid} ({state}), last log lines",
                 server.log_tail(15) or "<empty>")
            )
