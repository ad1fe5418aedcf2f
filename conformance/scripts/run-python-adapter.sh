#!/usr/bin/env bash
# Runs the conformance catalogue against Duo's official Python client (duo-client 5.7.0, through
# conformance/adapters/duo_client_adapter.py) and checks the result against its expected-failure
# ledger: exit 0 when exactly the ledger's cases fail, as the ledger says. Installs the pinned
# client into .venv on first use (scripts/python-venv.sh; a no-op afterwards). Extra
# arguments go to `duo-conformance run`, e.g. `--jobs 4 --report junit=python.xml`.
#
# With `--logs` first: the `logs` cases against the collector over the same client
# (conformance/adapters/duo_client_logs_adapter.py) and its ledger (run-python-logs-adapter.sh).
set -euo pipefail
cd "$(dirname "$0")/../.."

scripts/python-venv.sh duo-client==5.7.0
py=.venv/bin/python

if [ -z "${DUO_CONFORMANCE_BIN:-}" ]; then
  cargo build --quiet --locked -p conformance --bin duo-conformance
  DUO_CONFORMANCE_BIN="$PWD/target/debug/duo-conformance"
fi

export PYTHONDONTWRITEBYTECODE=1
# 5.7.0's CertValidatingHTTPSConnection builds an ssl.PROTOCOL_TLS context (deprecated).
export PYTHONWARNINGS="ignore:ssl.PROTOCOL_TLS is deprecated:DeprecationWarning"
if [ "${1:-}" = --logs ]; then
  shift
  exec "$DUO_CONFORMANCE_BIN" run \
    --category logs \
    --collector "$py conformance/adapters/duo_client_logs_adapter.py" \
    --ledger conformance/ledger/duo-client-python-logs.toml \
    "$@"
fi
exec "$DUO_CONFORMANCE_BIN" run \
  --connector "$py conformance/adapters/duo_client_adapter.py" \
  --ledger conformance/ledger/duo-client-python.toml \
  "$@"
