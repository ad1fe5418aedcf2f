#!/usr/bin/env bash
# Runs the conformance catalogue's `logs` cases against a collector over Duo's official Python
# client (duo-client 5.7.0, through conformance/adapters/duo_client_logs_adapter.py) and checks the
# result against its expected-failure ledger: exit 0 when exactly the ledger's cases fail, as the
# ledger says. The same as `run-python-adapter.sh --logs` (which installs the client). Extra
# arguments go to `duo-conformance run`, e.g. `--report junit=python-logs.xml`.
set -euo pipefail
exec "$(dirname "$0")/run-python-adapter.sh" --logs "$@"
