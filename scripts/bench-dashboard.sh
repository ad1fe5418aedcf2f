#!/usr/bin/env bash
# Dashboard bench: the time of each dashboard page of a fake serving the 100,000-user scenario with
# 100,000 requests in its journal (`serve --journal-capacity 100000`), the sizes the dashboard must
# stay usable at. Fills the journal with unsigned requests (a ping, an unknown path) and signed
# 401s over keep-alive (curl's URL ranges), then fetches each page RUNS times and prints the median
# and the slowest time to the whole answer, and its size; and the server's resident memory.
#
#   scripts/bench-dashboard.sh            # RUNS=5, the release build (built when missing)
#
# Needs curl and jq.
set -euo pipefail
cd "$(dirname "$0")/.."

runs=${RUNS:-5}
bin=${DUO_MOCK_BIN:-target/release/duo-mock}
[ -x "$bin" ] || cargo build --quiet --release --locked -p mock-server --bin duo-mock
work=$(mktemp -d)
"$bin" serve --scenario scenarios/users-100k.toml --journal-capacity 100000 \
  --ready-file "$work/ready.json" >"$work/out.log" 2>&1 &
server=$!
trap 'kill "$server" 2>/dev/null; wait "$server" 2>/dev/null; rm -rf "$work"' EXIT
for _ in $(seq 600); do [ -f "$work/ready.json" ] && break; sleep 0.1; done
base=$(jq -r .base_url "$work/ready.json")
entry=$(jq -r .dashboard_url "$work/ready.json")
dash="$base/__duo-mock/dashboard"

# 100,000 journal entries: 60,000 pings (200), 30,000 unknown paths (404), 10,000 refused (401).
curl -s -o /dev/null "$base/auth/v2/ping?n=[1-60000]"
curl -s -o /dev/null "$base/admin/v1/nothing?n=[1-30000]"
curl -s -o /dev/null -H 'Date: Tue, 21 Aug 2012 17:29:18 -0000' \
  -H 'Authorization: Basic RElYWFhYWFhYWFhYWFhYWFhYWFg6eHg=' "$base/admin/v1/users?offset=[1-10000]"

echo "server resident memory with 100,000 users and 100,000 journal entries: $(grep VmRSS /proc/$server/status | tr -s ' ' | cut -d' ' -f2-)"
curl -s -o /dev/null -c "$work/jar" "$entry"
username=$(curl -s -b "$work/jar" "$dash/tenant?kind=users&offset=77777&limit=1" |
  grep -o '<td>[^<]*</td>' | sed -n 2p | sed 's/<[^>]*>//g')

page() {
  local label=$1 route=$2 times
  times=$(for _ in $(seq "$runs"); do
    curl -s -o /dev/null -b "$work/jar" -w '%{time_total} %{size_download}\n' "$dash$route"
  done | sort -n)
  local median slowest size
  median=$(echo "$times" | sed -n "$(((runs + 1) / 2))p" | cut -d' ' -f1)
  slowest=$(echo "$times" | tail -1 | cut -d' ' -f1)
  size=$(echo "$times" | tail -1 | cut -d' ' -f2)
  printf '%-46s %8.1f ms %8.1f ms %8d bytes\n' "$label" "$(echo "$median * 1000" | bc -l)" \
    "$(echo "$slowest * 1000" | bc -l)" "$size"
}

printf '%-46s %11s %11s %14s\n' "page (100,000 users, 100,000 requests)" median slowest size
page "requests: the newest 100" "/requests"
page "requests: status 401 (a filter)" "/requests?status=401"
page "requests: a path nothing matches (all scanned)" "/requests?path=nothing-matches"
page "requests: the oldest page" "/requests?before=200"
page "requests: live update, nothing new" "/api/requests?after=100000"
page "one request, the oldest kept" "/requests/1"
page "tenant: users, first page" "/tenant?kind=users"
page "tenant: users, the last page" "/tenant?kind=users&offset=99950"
page "tenant: a search by username (all scanned)" "/tenant?kind=users&q=$username"
page "tenant: groups" "/tenant?kind=groups"
page "scenario" "/scenario"
