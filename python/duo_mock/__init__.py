"""duo_mock: a fake Duo Admin API for tests. The package carries the ``duo-mock`` binary and the
bundled scenarios; :class:`DuoMock` runs one server, :class:`Journal` asserts on what it was sent,
and the pytest plugin (``duo_mock.pytest_plugin``) wraps both in fixtures."""

from importlib import metadata as _metadata

from .error import DuoMockError
from .journal import Journal
from .scenario import scenario_names, scenario_path
from .server import DuoMock, binary_path

try:
    __version__ = _metadata.version("duo-mock")
except _metadata.PackageNotFoundError:  # imported from a source tree, not installed
    __version__ = "0+unknown"

__all__ = [
    "DuoMock",
    "DuoMockError",
    "Journal",
    "binary_path",
    "scenario_names",
    "scenario_path",
    "__version__",
]
