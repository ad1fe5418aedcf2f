#!/usr/bin/env bash
# Runs every check and test of the workspace: formatting, clippy, the Rust tests, the interop tests
# with Duo's official Python client (installed into .venv on first use), every walk-through of the
# docs, the conformance catalogue against the bundled connector and against the Python and Node
# adapters with their ledgers (Node.js and the pinned Node client are installed on first use), the
# browser tests of the dashboard and the HTML report in headless Chromium (Chromium, its driver and
# Selenium are installed on first use), and the Python package (its wheel built once, from the debug
# artifacts the steps above left in target/).
set -euo pipefail
cd "$(dirname "$0")/.."

cargo fmt --all -- --check
cargo clippy --workspace --all-targets --locked -- -D warnings
cargo test --workspace --locked
scripts/interop-tests.sh

# The main job, as README.md's first command runs it (debug builds: the tests above built them).
cargo build --locked -p conformance -p connector --bins

# Every walk-through of the docs, as written, against the same builds; first, that the runner
# fails broken ones.
scripts/walkthroughs.py --self-test
scripts/walkthroughs.py
mkdir -p target/conformance
target/debug/duo-conformance run --jobs 2 --exclude 'logs-*' \
  --report junit=target/conformance/bundled.xml --report markdown=target/conformance/bundled.md \
  --report html=target/conformance/bundled.html
target/debug/duo-conformance run --jobs 2 --category logs --collector "target/debug/duo-connector logs" \
  --report junit=target/conformance/bundled-logs.xml --report markdown=target/conformance/bundled-logs.md
conformance/scripts/run-python-adapter.sh --jobs 2 --report junit=target/conformance/duo-client-python.xml
conformance/scripts/run-python-logs-adapter.sh --jobs 2 --report junit=target/conformance/duo-client-python-logs.xml
conformance/scripts/run-node-adapter.sh --jobs 2 --report junit=target/conformance/duo-api-nodejs.xml
DUO_MOCK_BIN="$PWD/target/debug/duo-mock" DUO_CONFORMANCE_BIN="$PWD/target/debug/duo-conformance" \
  scripts/browser-tests.sh

# Last: its dev-profile relink of duo-mock replaces target/debug/duo-mock with a stripped copy.
python/scripts/test-package.sh
