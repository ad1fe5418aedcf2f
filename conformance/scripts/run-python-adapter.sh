#!/usr/bin/env bash
# Runs the conformance catalogue against Duo's official Python client (duo-client 5.7.0, through
# conformance/adapters/duo_client_adapter.py) and checks the result against its expected-failure
# ledger: exit 0 when exactly the ledger's cases fail, as the ledger says. Creates .venv with the
# pinned client on first use, as scripts/interop-tests.sh does (a no-op afterwards). Extra
# arguments go to `duo-conformance run`, e.g. `--jobs 4 --report junit=python.xml`.
set -euo pipefail
cd "$(dirname "$0")/../.."

venv=.venv
py="$venv/bin/python"
duo_client_version=5.7.0

if ! "$py" -c 'pass' 2>/dev/null; then
  rm -rf "$venv"  # missing, or made by a Python that is gone
  python3 -m venv "$venv"
fi
if ! "$py" - "$duo_client_version" 2>/dev/null <<'PY'
import sys
from importlib.metadata import version
sys.exit(version("duo-client") != sys.argv[1])
PY
then
  "$py" -m pip install --quiet --disable-pip-version-check --no-input "duo-client==$duo_client_version"
fi

if [ -z "${DUO_CONFORMANCE_BIN:-}" ]; then
  cargo build --quiet --locked -p conformance --bin duo-conformance
  DUO_CONFORMANCE_BIN="$PWD/target/debug/duo-conformance"
fi

export PYTHONDONTWRITEBYTECODE=1
# 5.7.0's CertValidatingHTTPSConnection builds an ssl.PROTOCOL_TLS context (deprecated).
export PYTHONWARNINGS="ignore:ssl.PROTOCOL_TLS is deprecated:DeprecationWarning"
exec "$DUO_CONFORMANCE_BIN" run \
  --connector "$py conformance/adapters/duo_client_adapter.py" \
  --ledger conformance/ledger/duo-client-python.toml \
  "$@"
