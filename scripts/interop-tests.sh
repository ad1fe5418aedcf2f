#!/usr/bin/env bash
# Interop tests: Duo's official Python client (duo-client 5.7.0) against the duo-mock binary.
# Installs the pinned client and pytest into .venv on first use (scripts/python-venv.sh); builds
# duo-mock unless DUO_MOCK_BIN names one. Extra arguments go to pytest, e.g. `-k paging -x`.
set -euo pipefail
cd "$(dirname "$0")/.."

scripts/python-venv.sh duo-client==5.7.0 pytest==9.2.0
py=.venv/bin/python

if [ -z "${DUO_MOCK_BIN:-}" ]; then
  cargo build --quiet --locked -p mock-server --bin duo-mock
  export DUO_MOCK_BIN="$PWD/target/debug/duo-mock"
fi

export PYTHONDONTWRITEBYTECODE=1
# 5.7.0's CertValidatingHTTPSConnection builds an ssl.PROTOCOL_TLS context (deprecated).
exec "$py" -m pytest -q -p no:cacheprovider \
  -W "ignore:ssl.PROTOCOL_TLS is deprecated:DeprecationWarning" \
  mock-server/tests/interop "$@"
