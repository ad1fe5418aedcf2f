#!/usr/bin/env bash
# The Python package duo-mock, as a user gets it: builds the wheel once (through pip and maturin's
# PEP 517 backend, the path `pip install ./python` takes), installs it into a FRESH virtualenv with
# pytest and duo-client, runs the package's own suite (python/tests) there, checks from outside
# that every duo-mock process the suite started is gone (by PID, and by a scan for anything still
# running the installed binary), and reports the wheel's size. Extra arguments go to pytest.
#
# Profile: cargo's dev profile by default (DUO_MOCK_WHEEL_PROFILE=release for what users get).
# scripts/test-all.sh has built mock-server's debug artifacts by the time it runs this, so the
# dev wheel costs a relink of duo-mock (stripped, which replaces target/debug/duo-mock) and the
# packaging: 2-5 s, and the whole script about 35 s with an empty pip cache. A --release build
# (thin LTO, one codegen unit) compiles the whole dependency tree again in target/release: 6 min
# 35 s from scratch on the 2-core machine. The suite checks the package, not the binary's speed.
set -euo pipefail
cd "$(dirname "$0")/../.."

maturin_version=1.16.0
duo_client_version=5.7.0
pytest_version=9.2.0
profile=${DUO_MOCK_WHEEL_PROFILE:-dev}

out=target/python
build_venv=$out/build-venv
test_venv=$out/test-venv
wheels=$out/wheels
pids=$out/pids.txt
pip_flags=(--quiet --disable-pip-version-check --no-input)
mkdir -p "$out"

# The build environment is kept between runs: only maturin, pinned.
if ! "$build_venv/bin/python" - "$maturin_version" 2>/dev/null <<'EOF'
import sys
from importlib.metadata import version
sys.exit(version("maturin") != sys.argv[1])
EOF
then
  rm -rf "$build_venv"
  python3 -m venv "$build_venv"
  "$build_venv/bin/pip" install "${pip_flags[@]}" "maturin==$maturin_version"
fi

rm -rf "$wheels"
started=$SECONDS
# maturin's backend runs `maturin` from PATH; --no-build-isolation uses the pinned one above.
PATH="$PWD/$build_venv/bin:$PATH" MATURIN_PEP517_ARGS="--profile $profile" \
  "$build_venv/bin/pip" wheel "${pip_flags[@]}" --no-deps --no-build-isolation -w "$wheels" ./python
built_s=$((SECONDS - started))
wheel=$(echo "$wheels"/duo_mock-*.whl)
[ -f "$wheel" ] || { echo "test-package: no wheel in $wheels" >&2; exit 1; }

rm -rf "$test_venv"
python3 -m venv "$test_venv"
"$test_venv/bin/pip" install "${pip_flags[@]}" "$wheel" \
  "duo-client==$duo_client_version" "pytest==$pytest_version"

: > "$pids"
set +e
# The venv's pytest script, not `python -m pytest`: the current folder stays off sys.path, so the
# suite imports the installed duo_mock (test_the_module_under_test_is_the_installed_one checks).
DUO_MOCK_TEST_PID_LOG="$PWD/$pids" PYTHONDONTWRITEBYTECODE=1 "$test_venv/bin/pytest" \
  -q -p no:cacheprovider -W "ignore:ssl.PROTOCOL_TLS is deprecated:DeprecationWarning" \
  python/tests "$@"
status=$?
set -e

# Outside the pytest process: no server it started may still run.
binary=$(readlink -f "$test_venv/bin/duo-mock")
left=()
while read -r pid; do
  [ -n "$pid" ] || continue
  if [ -e "/proc/$pid" ] && [ "$(readlink -f "/proc/$pid/exe" 2>/dev/null)" = "$binary" ]; then
    left+=("$pid")
  fi
done < "$pids"
for exe in /proc/[0-9]*/exe; do
  if [ "$(readlink -f "$exe" 2>/dev/null)" = "$binary" ]; then
    pid=${exe#/proc/}; pid=${pid%/exe}
    [[ " ${left[*]} " == *" $pid "* ]] || left+=("$pid")
  fi
done
started_count=$(sort -u "$pids" | grep -c . || true)
if [ "${#left[@]}" -gt 0 ]; then
  echo "test-package: duo-mock processes left after the run: ${left[*]}" >&2
  status=1
else
  echo "test-package: $started_count duo-mock processes started by the suite, none left running"
fi

size=$(stat -c %s "$wheel")
echo "test-package: wheel $(basename "$wheel"): $size bytes ($((size / 1024)) KiB), profile $profile, built in ${built_s} s"
exit "$status"
