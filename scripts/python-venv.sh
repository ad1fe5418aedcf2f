#!/usr/bin/env bash
# Makes .venv on first use (again when the Python that made it is gone) and installs the pinned
# packages given as NAME==VERSION when one is missing or at another version; a no-op otherwise.
# Shared by interop-tests.sh (duo-client, pytest) and browser-tests.sh (those and selenium), so
# one venv serves both: `scripts/python-venv.sh duo-client==5.7.0 pytest==9.2.0`.
set -euo pipefail
cd "$(dirname "$0")/.."

venv=.venv
py="$venv/bin/python"

if ! "$py" -c 'pass' 2>/dev/null; then
  rm -rf "$venv"  # missing, or made by a Python that is gone
  python3 -m venv "$venv"
fi
if ! "$py" - "$@" 2>/dev/null <<'PY'
import sys
from importlib.metadata import version
pins = [arg.split("==", 1) for arg in sys.argv[1:]]
sys.exit(any(version(name) != pinned for name, pinned in pins))
PY
then
  "$py" -m pip install --quiet --disable-pip-version-check --no-input "$@"
fi
