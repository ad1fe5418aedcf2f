"""The scenarios bundled with the package (``scenarios/*.toml`` and ``scenarios/catalogue/*.toml``
of the repository), and how a ``scenario=`` argument becomes a file."""

from __future__ import annotations

import difflib
import os
from pathlib import Path, PurePosixPath
from typing import Union

from .error import DuoMockError

#: Where the wheel puts the bundled scenarios: inside the package, beside this module.
BUNDLED = Path(__file__).resolve().parent / "scenarios"

ScenarioArg = Union[str, "os.PathLike[str]"]


def scenario_names() -> list[str]:
    """Every bundled scenario's name, e.g. ``default`` and ``catalogue/d10-waf-cloudflare-403``."""
    return sorted(
        PurePosixPath(path.relative_to(BUNDLED).as_posix()).with_suffix("").as_posix()
        for path in BUNDLED.rglob("*.toml")
    )


def scenario_path(name: str) -> Path:
    """The file of a bundled scenario: ``"default"`` or ``"catalogue/<name>"`` (``.toml`` optional).

    Raises :class:`DuoMockError` naming the closest bundled scenarios when there is none.
    """
    relative = PurePosixPath(name if name.endswith(".toml") else f"{name}.toml")
    inside = not relative.is_absolute() and ".." not in relative.parts and "\\" not in name
    candidate = BUNDLED.joinpath(*relative.parts)
    if inside and candidate.is_file():
        return candidate
    names = scenario_names()
    close = difflib.get_close_matches(name.removesuffix(".toml"), names, n=3, cutoff=0.5)
    hint = f"; did you mean {', '.join(close)}?" if close else f"; bundled: {', '.join(names)}"
    raise DuoMockError(f"no bundled scenario {name!r}{hint}")


def resolve(scenario: ScenarioArg) -> Path:
    """A scenario argument as a file: a :class:`os.PathLike` or a string ending in ``.toml`` that
    names an existing file is that file; any other string is a bundled scenario's name."""
    if isinstance(scenario, os.PathLike):
        path = Path(scenario)
        if not path.is_file():
            raise DuoMockError(f"{path}: no such scenario file")
        return path.resolve()
    if not isinstance(scenario, str):
        raise TypeError(f"scenario must be a name or a path, not {type(scenario).__name__}")
    if scenario.endswith(".toml") and Path(scenario).is_file():
        return Path(scenario).resolve()
    return scenario_path(scenario)
