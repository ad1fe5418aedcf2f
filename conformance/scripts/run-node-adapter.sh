#!/usr/bin/env bash
# Runs the conformance catalogue against Duo's official Node.js client (@duosecurity/duo_api 1.5.0,
# through conformance/adapters/node/duo_api_adapter.js) and checks the result against its
# expected-failure ledger: exit 0 when exactly the ledger's cases fail, as the ledger says.
# Installs what it needs on first use: Node.js and npm from apt when `node` or `npm` is missing
# (as root, as CI runs), and the pinned client with `npm ci` into the adapter's folder when it is missing or
# not the version package-lock.json pins (a no-op afterwards). Extra arguments go to
# `duo-conformance run`, e.g. `--jobs 4 --report junit=node.xml`.
set -euo pipefail
cd "$(dirname "$0")/../.."

adapter=conformance/adapters/node
client=@duosecurity/duo_api

if ! command -v node >/dev/null 2>&1 || ! command -v npm >/dev/null 2>&1; then
  if [ "$(id -u)" -ne 0 ]; then
    echo "run-node-adapter.sh: Node.js and npm are needed; install nodejs and npm (as root this script does it)" >&2
    exit 2
  fi
  apt-get update -qq
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq nodejs npm >/dev/null
fi

version_of() { node -p "require(process.argv[1]).$2" "$PWD/$1" 2>/dev/null || true; }
pinned=$(version_of "$adapter/package-lock.json" "packages['node_modules/$client'].version")
installed=$(version_of "$adapter/node_modules/$client/package.json" version)
if [ -z "$pinned" ] || [ "$pinned" != "$installed" ]; then
  # The client's only (optional) dependency serves its example script, not the client.
  npm ci --prefix "$adapter" --omit=optional --no-audit --no-fund --loglevel=error
fi

if [ -z "${DUO_CONFORMANCE_BIN:-}" ]; then
  cargo build --quiet --locked -p conformance --bin duo-conformance
  DUO_CONFORMANCE_BIN="$PWD/target/debug/duo-conformance"
fi

exec "$DUO_CONFORMANCE_BIN" run \
  --connector "node $adapter/duo_api_adapter.js" \
  --ledger conformance/ledger/duo-api-nodejs.toml \
  "$@"
