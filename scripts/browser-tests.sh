#!/usr/bin/env bash
# Browser tests: the fake's dashboard (mock-server/tests/browser) and the kit's HTML report
# (conformance/tests/browser) in real headless Chromium, driven through WebDriver by Selenium.
# Installs what it needs on first use: Debian's chromium and chromium-driver with apt-get when
# either is missing (as root, as CI runs), and the pinned Selenium into .venv beside duo-client
# and pytest (scripts/python-venv.sh). Builds duo-mock, duo-conformance and the kit's self-test
# connector unless DUO_MOCK_BIN and DUO_CONFORMANCE_BIN name them. Screenshots of every page go
# to target/browser-screenshots/. Extra arguments go to pytest, e.g. `-k tenant -x`.
set -euo pipefail
cd "$(dirname "$0")/.."

if ! command -v chromium >/dev/null 2>&1 || ! command -v chromedriver >/dev/null 2>&1; then
  if [ "$(id -u)" -ne 0 ]; then
    echo "browser-tests.sh: Chromium and its driver are needed; install chromium and chromium-driver (as root this script does it)" >&2
    exit 2
  fi
  apt-get update -qq
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium chromium-driver >/dev/null
fi

scripts/python-venv.sh duo-client==5.7.0 pytest==9.2.0 selenium==4.50.0

if [ -z "${DUO_MOCK_BIN:-}" ] || [ -z "${DUO_CONFORMANCE_BIN:-}" ]; then
  cargo build --quiet --locked -p mock-server -p conformance --bins
  export DUO_MOCK_BIN="${DUO_MOCK_BIN:-$PWD/target/debug/duo-mock}"
  export DUO_CONFORMANCE_BIN="${DUO_CONFORMANCE_BIN:-$PWD/target/debug/duo-conformance}"
fi

export PYTHONDONTWRITEBYTECODE=1
# The plugin (scripts/pytest_chromium.py) and the duo_mock package (python/), which starts fakes.
export PYTHONPATH="$PWD/scripts:$PWD/python${PYTHONPATH:+:$PYTHONPATH}"
exec .venv/bin/python -m pytest -q -p no:cacheprovider -p pytest_chromium --import-mode=importlib \
  -W "ignore:ssl.PROTOCOL_TLS is deprecated:DeprecationWarning" \
  conformance/tests/browser mock-server/tests/browser "$@"
