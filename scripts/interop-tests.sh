#!/usr/bin/env bash
# Interop tests: Duo's official Python client (duo-client 5.7.0) against the duo-mock binary.
# Creates .venv with the pinned client and pytest on first use (a no-op afterwards); builds
# duo-mock unless DUO_MOCK_BIN names one. Extra arguments go to pytest, e.g. `-k paging -x`.
set -euo pipefail
cd "$(dirname "$0")/.."

venv=.venv
py="$venv/bin/python"
duo_client_version=5.7.0
pytest_version=9.2.0

if ! "$py" -c 'pass' 2>/dev/null; then
  rm -rf "$venv"  # missing, or made by a Python that is gone
  python3 -m venv "$venv"
fi
if ! "$py" - "$duo_client_version" "$pytest_version" 2>/dev/null <<'EOF'
import sys
from importlib.metadata import version
sys.exit(version("duo-client") != sys.argv[1] or version("pytest") != sys.argv[2])
EOF
then
  "$py" -m pip install --quiet --disable-pip-version-check --no-input \
    "duo-client==$duo_client_version" "pytest==$pytest_version"
fi

if [ -z "${DUO_MOCK_BIN:-}" ]; then
  cargo build --quiet --locked -p mock-server --bin duo-mock
  export DUO_MOCK_BIN="$PWD/target/debug/duo-mock"
fi

export PYTHONDONTWRITEBYTECODE=1
# 5.7.0's CertValidatingHTTPSConnection builds an ssl.PROTOCOL_TLS context (deprecated).
exec "$py" -m pytest -q -p no:cacheprovider \
  -W "ignore:ssl.PROTOCOL_TLS is deprecated:DeprecationWarning" \
  mock-server/tests/interop "$@"
