#!/usr/bin/env bash
# Log-day bench: Duo's Python client (duo-client 5.7.0) pages through one whole day of a log of
# PER_DAY authentication events a day (100,000 users, 180 days) with next_offset, 1000 events a
# page, as a collector does. Reports pages, events, time, and the count against the declared
# rate: PER_DAY (evenly spread over the day) plus the one success each user with a last login that
# day has at it, Poisson noise aside. Run by hand; the release build and the .venv of
# scripts/interop-tests.sh are reused.
#
#   scripts/bench-log-day.sh            # PER_DAY=1000000
set -euo pipefail
cd "$(dirname "$0")/.."

per_day=${PER_DAY:-1000000}
py=.venv/bin/python
if ! "$py" -c 'import duo_client' 2>/dev/null; then
  echo "run scripts/interop-tests.sh once first: it makes .venv with duo-client 5.7.0" >&2
  exit 1
fi
cargo build --quiet --release --locked -p mock-server --bin duo-mock
work=$(mktemp -d)
trap 'kill "$server" 2>/dev/null || true; rm -rf "$work"' EXIT
sed 's/"Grant settings"\]/"Grant settings", "Grant read log"]/' scenarios/users-100k.toml > "$work/logs.toml"
hours=$(printf '1, %.0s' {1..23})
printf '\n[logs.authentication]\nper_day = %s\nhours = [%s1]\n' "$per_day" "$hours" >> "$work/logs.toml"
target/release/duo-mock dump --scenario "$work/logs.toml" > "$work/dump.json"
target/release/duo-mock serve --scenario "$work/logs.toml" --ready-file "$work/ready.json" \
  > "$work/serve.log" 2>&1 &
server=$!
for _ in $(seq 200); do [ -s "$work/ready.json" ] && break; sleep 0.1; done

PER_DAY=$per_day WORK=$work "$py" - <<'EOF'
import json, math, os, time
import duo_client

work, per_day = os.environ["WORK"], int(os.environ["PER_DAY"])
ready = json.load(open(f"{work}/ready.json"))
creds = ready["integrations"][0]
admin = duo_client.Admin(ikey=creds["ikey"], skey=creds["skey"], host="127.0.0.1",
                         port=ready["port"], ca_certs="HTTP", timeout=120)
day_ms = 86_400_000
start = (int(time.time() * 1000) // day_ms - 1) * day_ms  # yesterday, UTC
end = start + day_ms - 1
users = json.load(open(f"{work}/dump.json"))["users"]
logins = sum(1 for u in users if u["last_login"] is not None and start <= u["last_login"] * 1000 <= end)

seen, pages, cursor, total = set(), 0, None, None
began = time.monotonic()
while True:
    kwargs = dict(mintime=start, maxtime=end, limit="1000", sort="ts:asc")
    if cursor:
        kwargs["next_offset"] = cursor
    page = admin.get_authentication_log(api_version=2, **kwargs)
    pages += 1
    for event in page["authlogs"]:
        assert event["txid"] not in seen, "an event twice"
        seen.add(event["txid"])
    total = page["metadata"]["total_objects"]
    cursor = page["metadata"]["next_offset"]
    if cursor is None:
        break
took = time.monotonic() - began
expected = per_day + logins
print(f"day {time.strftime('%Y-%m-%d', time.gmtime(start / 1000))}: {pages} pages, {len(seen)} events "
      f"in {took:.1f} s ({pages / took:.1f} pages/s, {len(seen) / took:.0f} events/s); "
      f"total_objects {total}")
print(f"declared {per_day} a day + {logins} last-login successes = {expected}; "
      f"off by {len(seen) - expected:+d} ({(len(seen) - expected) / math.sqrt(per_day):+.2f} sigma of Poisson noise)")
assert len(seen) == total
EOF
