#!/usr/bin/env bash
# Peers bench: duo-mock against the mock servers a user might pick instead to serve a canned Duo
# page — WireMock (npm `wiremock`, on the machine's Java), json-server, Prism and Mockoon CLI —
# each serving the same 300-user page (`GET /admin/v1/users?limit=300&offset=0` of the bundled
# 300-user scenario) without auth, while duo-mock answers the same request signed (v5) and paged
# from its live store. duo-mock's start is also timed with the 100,000-user scenario (a bigger
# job than any peer's: it builds the whole tenant before answering).
#
# For each server: time from spawn to its first complete answer (median of TTFR_RUNS starts,
# alone on the machine, then again pinned to one core), then requests per second and latency
# under one load generator (wrk, 1 thread, CONNECTIONS keep-alive connections), in ROUNDS
# interleaved rounds after a warm-up, the server pinned to core 0 and wrk to core 1. Ratios are
# taken within a round.
#
#   scripts/bench-peers.sh            # ROUNDS=3 SECONDS_PER=5 CONNECTIONS=16 TTFR_RUNS=3
#
# Installs the npm packages into target/bench-peers (throwaway) and wrk with apt-get when missing.
# Needs node, npm, java, python3 and taskset.
set -euo pipefail
cd "$(dirname "$0")/.."

work=${PEERS_DIR:-$PWD/target/bench-peers}
mkdir -p "$work"

if ! command -v wrk >/dev/null; then
  if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null; then
    apt-get install -y wrk >/dev/null || { apt-get update >/dev/null && apt-get install -y wrk >/dev/null; }
  else
    echo "wrk is needed: apt-get install -y wrk" >&2
    exit 1
  fi
fi
for tool in node npm java python3 taskset; do
  command -v "$tool" >/dev/null || { echo "$tool is needed" >&2; exit 1; }
done

# Versions pinned so numbers can be compared between runs. Prism 5.15+ needs Node 24.
packages=(wiremock@3.13.2 json-server@0.17.4 @stoplight/prism-cli@5.14.2 @mockoon/cli@9.9.0)
stamp="$work/.installed-$(echo "${packages[*]}" | tr ' /@' '_+=')"
if [ ! -f "$stamp" ]; then
  echo "installing ${packages[*]} into $work" >&2
  npm install --prefix "$work" --no-audit --no-fund --loglevel=error "${packages[@]}" >&2
  touch "$stamp"
fi

cargo build --quiet --release -p mock-server --bin duo-mock
export DUO_MOCK_BIN="$PWD/target/release/duo-mock"
export PEERS_WORK="$work"
export SCENARIO="${SCENARIO:-$PWD/scenarios/users-300.toml}"
export SCENARIO_BIG="$PWD/scenarios/users-100k.toml"
exec python3 - "$@" <<'PY'
"""Orchestrates the peers bench: starts each server, times its first answer, runs wrk."""
import base64, email.utils, hashlib, hmac, http.client, json, os, re, signal, statistics
import subprocess, sys, time, tomllib

work = os.environ["PEERS_WORK"]
duo_mock = os.environ["DUO_MOCK_BIN"]
scenario_path = os.environ["SCENARIO"]
scenario_big = os.environ["SCENARIO_BIG"]
rounds = int(os.environ.get("ROUNDS", "3"))
seconds = int(os.environ.get("SECONDS_PER", "5"))
connections = int(os.environ.get("CONNECTIONS", "16"))
ttfr_runs = int(os.environ.get("TTFR_RUNS", "3"))
bin_dir = os.path.join(work, "node_modules", ".bin")
path, query = "/admin/v1/users", "limit=300&offset=0"
server_cpu, load_cpu = "0", "1"

def integration_of(scenario):
    with open(scenario, "rb") as f:
        return tomllib.load(f)["integrations"][0]


def signed_headers(host, integration):
    """Duo's v5 signature (what Duo's Python client sends) for GET path?query."""
    date = email.utils.formatdate()
    empty = hashlib.sha512(b"").hexdigest()
    canon = "\n".join([date, "GET", host.lower(), path, query, empty, empty])
    sig = hmac.new(integration["skey"].encode(), canon.encode(), hashlib.sha512).hexdigest()
    auth = base64.b64encode(f"{integration['ikey']}:{sig}".encode()).decode()
    return {"Date": date, "Authorization": f"Basic {auth}"}


def get(port, target, headers=None):
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=2)
    try:
        conn.request("GET", target, headers=headers or {})
        response = conn.getresponse()
        return response.status, response.read()
    finally:
        conn.close()


class Server:
    def __init__(self, name, port, command, target, signed=None, env=None):
        """`signed`: the scenario whose first integration signs the requests (None: unsigned)."""
        self.name, self.port, self.command, self.target = name, port, command, target
        self.integration = integration_of(signed) if signed else None
        self.env, self.process, self.body = env, None, b""
        self.ttfr, self.ttfr_pinned = [], []

    def headers(self):
        return signed_headers("127.0.0.1", self.integration) if self.integration else {}

    def start(self, pinned):
        """Spawns the server (on the server core when pinned); returns seconds to its first
        complete 200."""
        log = open(os.path.join(work, f"{self.name}.log"), "ab")
        pin = ["taskset", "-c", server_cpu] if pinned else []
        started = time.monotonic()
        self.process = subprocess.Popen(
            [*pin, *self.command], stdout=log, stderr=log,
            cwd=work, start_new_session=True, env={**os.environ, **(self.env or {})})
        while time.monotonic() - started < 120:
            try:
                status, body = get(self.port, self.target, self.headers())
                if status == 200 and body:
                    self.body = body
                    return time.monotonic() - started
            except OSError:
                pass
            if self.process.poll() is not None:
                sys.exit(f"{self.name} exited at start; see {work}/{self.name}.log")
            time.sleep(0.005)
        sys.exit(f"{self.name} did not answer within 120 s")

    def stop(self):
        if self.process and self.process.poll() is None:
            os.killpg(self.process.pid, signal.SIGTERM)
            try:
                self.process.wait(10)
            except subprocess.TimeoutExpired:
                os.killpg(self.process.pid, signal.SIGKILL)
                self.process.wait()
        self.process = None


def wrk(server, duration):
    args = ["taskset", "-c", load_cpu, "wrk", "-t1", f"-c{connections}", f"-d{duration}s",
            "--latency", "--timeout", "10s"]
    for k, v in server.headers().items():
        args += ["-H", f"{k}: {v}"]
    out = subprocess.run(args + [f"http://127.0.0.1:{server.port}{server.target}"],
                         capture_output=True, text=True, check=True).stdout
    rps = float(re.search(r"Requests/sec:\s+([\d.]+)", out).group(1))
    non2xx = re.search(r"Non-2xx or 3xx responses:\s+(\d+)", out)
    errors = re.search(r"Socket errors:.*", out)
    def pct(p):
        m = re.search(rf"^\s+{p}%\s+([\d.]+)(us|ms|s)\s*$", out, re.M)
        return float(m.group(1)) * {"us": 1e-3, "ms": 1.0, "s": 1e3}[m.group(2)] if m else float("nan")
    if non2xx or errors:
        print(f"  warning: {server.name}: {non2xx.group(0) if non2xx else ''} {errors.group(0) if errors else ''}")
    return rps, pct(50), pct(99)


def port_of(k):
    return 18600 + k


page_file = os.path.join(work, "page.json")
duo = Server("duo-mock", port_of(0),
             [duo_mock, "serve", "--scenario", scenario_path, "--listen", f"127.0.0.1:{port_of(0)}"],
             f"{path}?{query}", signed=scenario_path)
servers = [duo]


def configure_peers(page):
    """Each peer's own way of serving a canned JSON page, with its logging turned down."""
    wm_root = os.path.join(work, "wiremock")
    os.makedirs(os.path.join(wm_root, "mappings"), exist_ok=True)
    os.makedirs(os.path.join(wm_root, "__files"), exist_ok=True)
    with open(os.path.join(wm_root, "__files", "page.json"), "wb") as f:
        f.write(page)
    with open(os.path.join(wm_root, "mappings", "page.json"), "w") as f:
        json.dump({"request": {"method": "GET", "urlPath": path},
                   "response": {"status": 200, "bodyFileName": "page.json",
                                "headers": {"Content-Type": "application/json"}}}, f)
    parsed = json.loads(page)
    with open(os.path.join(work, "db.json"), "w") as f:
        json.dump({"page": parsed}, f)
    with open(os.path.join(work, "openapi.json"), "w") as f:
        json.dump({"openapi": "3.0.0", "info": {"title": "Duo Admin API page", "version": "1"},
                   "paths": {path: {"get": {"responses": {"200": {
                       "description": "a page of users",
                       "content": {"application/json": {"example": parsed}}}}}}}}, f)
    # Mockoon's environment file, made with Mockoon's own builders so the schema is its own.
    subprocess.run(["node", "-e", """
const c = require(process.argv[1] + '/node_modules/@mockoon/commons');
const fs = require('fs');
const env = c.BuildEnvironment({hasDefaultRoute: false, hasDefaultHeader: false, port: +process.argv[2]});
const route = c.BuildHTTPRoute(false);
route.endpoint = process.argv[3].replace(/^\\//, '');
const response = c.BuildRouteResponse();
response.body = fs.readFileSync(process.argv[4], 'utf8');
response.headers = [{key: 'Content-Type', value: 'application/json'}];
response.disableTemplating = true;   // a canned page: no templating pass per request
response.default = true;
route.responses = [response];
env.routes = [route];
env.rootChildren = [{type: 'route', uuid: route.uuid}];
fs.writeFileSync(process.argv[5], JSON.stringify(env));
""", work, str(port_of(4)), path, page_file, os.path.join(work, "mockoon.json")], check=True)
    return [
        Server("wiremock", port_of(1),
               [os.path.join(bin_dir, "wiremock"), "--port", str(port_of(1)), "--bind-address",
                "127.0.0.1", "--root-dir", wm_root, "--no-request-journal",
                "--disable-request-logging", "--disable-banner"], f"{path}?{query}"),
        # json-server serves each key of its database at its own path, pretty-printed.
        Server("json-server", port_of(2),
               [os.path.join(bin_dir, "json-server"), "--port", str(port_of(2)), "--host",
                "127.0.0.1", "--quiet", "db.json"], "/page"),
        Server("prism", port_of(3),
               [os.path.join(bin_dir, "prism"), "mock", "-p", str(port_of(3)), "-h", "127.0.0.1",
                "-v", "error", "openapi.json"], f"{path}?{query}"),
        Server("mockoon", port_of(4),
               [os.path.join(bin_dir, "mockoon-cli"), "start", "--data", "mockoon.json", "--port",
                str(port_of(4)), "--hostname", "127.0.0.1", "--disable-log-to-file",
                "--disable-admin-api"], f"{path}?{query}"),
    ]


try:
    # duo-mock first: its page is what every peer serves.
    def time_starts(server):
        """Starts alone on the machine, then pinned; the last pinned start stays up for the load."""
        for pinned, times in ((False, server.ttfr), (True, server.ttfr_pinned)):
            for _ in range(ttfr_runs):
                server.stop()
                times.append(server.start(pinned))

    time_starts(duo)
    with open(page_file, "wb") as f:
        f.write(duo.body)
    page_json = json.loads(duo.body)
    servers += configure_peers(duo.body)
    for server in servers[1:]:
        time_starts(server)
        same = json.loads(server.body) == page_json
        print(f"{server.name}: first answer {1e3 * statistics.median(server.ttfr):.0f} ms "
              f"({1e3 * statistics.median(server.ttfr_pinned):.0f} ms on one core), "
              f"{len(server.body):,} bytes, same JSON as duo-mock: {same}", flush=True)
        if not same:
            sys.exit(f"{server.name} does not serve the page")
    print(f"duo-mock: first answer {1e3 * statistics.median(duo.ttfr):.0f} ms "
          f"({1e3 * statistics.median(duo.ttfr_pinned):.0f} ms on one core), {len(duo.body):,} bytes "
          f"(signed v5, {os.path.basename(scenario_path)})", flush=True)
    big = Server("duo-mock-100k", port_of(5),
                 [duo_mock, "serve", "--scenario", scenario_big, "--listen", f"127.0.0.1:{port_of(5)}"],
                 f"{path}?{query}", signed=scenario_big)
    servers.append(big)
    time_starts(big)
    servers.remove(big)
    big.stop()
    print(f"duo-mock with {os.path.basename(scenario_big)}: first answer {1e3 * statistics.median(big.ttfr):.0f} ms "
          f"({1e3 * statistics.median(big.ttfr_pinned):.0f} ms on one core)", flush=True)

    print(f"\nwarm-up: 3 s each; then {rounds} rounds of {seconds} s, wrk -t1 -c{connections}", flush=True)
    for server in servers:
        wrk(server, 3)
    results = {s.name: [] for s in servers}
    for r in range(rounds):
        order = servers[r % len(servers):] + servers[:r % len(servers)]
        for server in order:
            results[server.name].append(wrk(server, seconds))
        peers_best = max(results[s.name][r][0] for s in servers[1:])
        print(f"round {r + 1}: " + "  ".join(f"{s.name} {results[s.name][r][0]:,.0f}/s" for s in servers)
              + f"  duo-mock / best peer {results['duo-mock'][r][0] / peers_best:.1f}x", flush=True)

    print(f"\n{'server':<12} {'first answer ms':>16} {'on 1 core ms':>13} {'req/s (median)':>15} "
          f"{'p50 ms':>8} {'p99 ms':>8} {'body bytes':>11}")
    for s in servers:
        rows = results[s.name]
        print(f"{s.name:<12} {1e3 * statistics.median(s.ttfr):>16.0f} {1e3 * statistics.median(s.ttfr_pinned):>13.0f} "
              f"{statistics.median(r[0] for r in rows):>15,.0f} {statistics.median(r[1] for r in rows):>8.2f} "
              f"{statistics.median(r[2] for r in rows):>8.2f} {len(s.body):>11,}")
    ratios = [results["duo-mock"][r][0] / max(results[s.name][r][0] for s in servers[1:]) for r in range(rounds)]
    best_peer_ttfr = min(statistics.median(s.ttfr) for s in servers[1:])
    duo_ttfr = statistics.median(duo.ttfr)
    best_peer_pinned = min(statistics.median(s.ttfr_pinned) for s in servers[1:])
    duo_pinned = statistics.median(duo.ttfr_pinned)
    print(f"\nduo-mock (signed, paged) / best peer (canned, no auth), req/s: median {statistics.median(ratios):.1f}x "
          f"(per round {', '.join(f'{x:.1f}' for x in ratios)}; goal >= 5x)")
    print(f"first answer: duo-mock {1e3 * duo_ttfr:.0f} ms, fastest peer {1e3 * best_peer_ttfr:.0f} ms "
          f"({'sooner' if duo_ttfr < best_peer_ttfr else 'NOT sooner'}; goal: sooner than any); "
          f"on one core: duo-mock {1e3 * duo_pinned:.0f} ms, fastest peer {1e3 * best_peer_pinned:.0f} ms "
          f"({'sooner' if duo_pinned < best_peer_pinned else 'NOT sooner'})")
finally:
    for s in servers:
        s.stop()
PY
