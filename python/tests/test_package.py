"""What the wheel installs: the module (from site-packages, not this checkout), the duo-mock binary
in the environment's bin/, the bundled scenarios inside the package, the pytest11 entry point."""

import subprocess
import sys
from importlib import metadata
from pathlib import Path

import duo_mock
import pytest
from conftest import SOURCE_SCENARIOS

VENV_BIN = Path(sys.prefix) / ("Scripts" if sys.platform == "win32" else "bin")


def test_the_module_under_test_is_the_installed_one():
    module = Path(duo_mock.__file__).resolve()
    assert Path(sys.prefix).resolve() in module.parents, module
    assert "site-packages" in module.parts, module
    assert (SOURCE_SCENARIOS.parent / "python") not in module.parents, "imported from the checkout"


def test_duo_mock_version_runs_from_the_virtualenvs_bin():
    binary = VENV_BIN / "duo-mock"
    assert binary.is_file(), sorted(p.name for p in VENV_BIN.iterdir())
    out = subprocess.run([str(binary), "--version"], capture_output=True, text=True, timeout=60)
    assert out.returncode == 0, out.stderr
    assert out.stdout.strip() == f"duo-mock {metadata.version('duo-mock')}"
    assert duo_mock.__version__ == metadata.version("duo-mock")


def test_the_package_finds_the_binary_it_installed(monkeypatch):
    monkeypatch.delenv("DUO_MOCK_BIN", raising=False)
    assert duo_mock.binary_path().resolve() == (VENV_BIN / "duo-mock").resolve()


def test_a_missing_binary_named_by_the_environment_is_a_duo_mock_error(monkeypatch, tmp_path):
    monkeypatch.setenv("DUO_MOCK_BIN", str(tmp_path / "nowhere"))
    with pytest.raises(duo_mock.DuoMockError, match="DUO_MOCK_BIN=.*nowhere: no such file"):
        duo_mock.DuoMock()


def test_every_bundled_scenario_ships_inside_the_package_byte_for_byte():
    source = sorted(p.relative_to(SOURCE_SCENARIOS).with_suffix("").as_posix()
                    for p in SOURCE_SCENARIOS.rglob("*.toml"))
    assert "default" in source and any(n.startswith("catalogue/d10-") for n in source)
    assert duo_mock.scenario_names() == source
    package = Path(duo_mock.__file__).resolve().parent
    for name in source:
        shipped = duo_mock.scenario_path(name)
        assert package in shipped.resolve().parents, shipped
        assert shipped.read_bytes() == (SOURCE_SCENARIOS / f"{name}.toml").read_bytes(), name


def test_scenario_path_takes_names_with_or_without_toml():
    assert duo_mock.scenario_path("default").name == "default.toml"
    assert duo_mock.scenario_path("catalogue/d10-waf-cloudflare-403.toml") == \
        duo_mock.scenario_path("catalogue/d10-waf-cloudflare-403")


@pytest.mark.parametrize(("name", "hint"), [
    ("catalogue/d10-waf-cloudflare", "did you mean catalogue/d10-waf-cloudflare-403"),
    ("../Cargo", "no bundled scenario '../Cargo'"),
    ("/etc/passwd", "no bundled scenario '/etc/passwd'"),
], ids=["a-near-name", "outside-the-folder", "an-absolute-path"])
def test_an_unknown_scenario_name_is_a_duo_mock_error(name, hint):
    with pytest.raises(duo_mock.DuoMockError) as error:
        duo_mock.scenario_path(name)
    assert hint in str(error.value)


def test_the_pytest_plugin_is_registered_by_entry_point(pytestconfig):
    every = metadata.entry_points()
    group = every.select(group="pytest11") if hasattr(every, "select") else every["pytest11"]
    points = [e for e in group if e.name == "duo_mock"]
    assert [e.value for e in points] == ["duo_mock.pytest_plugin"]
    assert pytestconfig.pluginmanager.has_plugin("duo_mock")
