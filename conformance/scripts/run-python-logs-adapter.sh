#!/usr/bin/env bash
# Runs the conformance catalogue's `logs` cases against a collector over Duo's official Python
# client (duo-client 5.7.0, through conformance/adapters/duo_client_logs_adapter.py) and checks the
# result against its expected-failure ledger: exit 0 when exactly the ledger's cases fail, as the
# ledger says. Installs the pinned client into .venv on first use (scripts/python-venv.sh; a no-op
# afterwards). Extra arguments go to `duo-conformance run`, e.g. `--report junit=python-logs.xml`.
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
exec "$DUO_CONFORMANCE_BIN" run \
  --category logs \
  --collector "$py conformance/adapters/duo_client_logs_adapter.py" \
  --ledger conformance/ledger/duo-client-python-logs.toml \
  "$@"
