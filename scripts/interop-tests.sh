#!/usr/bin/env bash
# Interop tests: Duo's official Python client (duo-client 5.7.0) against the duo-mock binary.
# Creates .venv with the pinned client and pytest on first use; builds duo-mock unless
# DUO_MOCK_BIN names one.
set -euo pipefail
cd "$(dirname "$0")/.."

venv=.venv
if [ ! -x "$venv/bin/python" ]; then
  python3 -m venv "$venv"
fi
if ! "$venv/bin/python" -c 'import duo_client, pytest, sys; sys.exit(duo_client.__version__ != "5.7.0")' 2>/dev/null; then
  "$venv/bin/pip" install --quiet --disable-pip-version-check duo-client==5.7.0 pytest==8.4.2
fi
if [ -z "${DUO_MOCK_BIN:-}" ]; then
  cargo build --quiet --locked -p mock-server --bin duo-mock
  export DUO_MOCK_BIN="$PWD/target/debug/duo-mock"
fi
exec "$venv/bin/python" -m pytest -q -p no:cacheprovider \
  -W "ignore:ssl.PROTOCOL_TLS is deprecated:DeprecationWarning" mock-server/tests/interop "$@"
