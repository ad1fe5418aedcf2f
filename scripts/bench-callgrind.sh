#!/usr/bin/env bash
# Instructions per request, in process, counted by callgrind (deterministic: unlike wall time, it
# does not move with the neighbours on a shared machine). For each endpoint of the serve bench
# ((a) raw 300-user page, (b) signed v5 page, (c) signed v2-SHA1 page, (d) signed v5 limit=1,
# (e) unsigned tiny body), runs `benches/inproc.rs --only X` under callgrind, counting only its
# request loop, and prints instructions per request.
#
#   scripts/bench-callgrind.sh [ENDPOINTS (default "a b c d e")] [ITERATIONS (default 2000)]
#
# Needs valgrind (apt-get install -y valgrind). Extra arguments for the bench (e.g. --journal off)
# go in INPROC_ARGS.
set -euo pipefail
cd "$(dirname "$0")/.."
endpoints=${1:-a b c d e}
iterations=${2:-2000}
out=${CALLGRIND_OUT:-target/callgrind}
mkdir -p "$out"
command -v valgrind >/dev/null || { echo "valgrind is needed: apt-get install -y valgrind" >&2; exit 1; }
bin=$(cargo bench -p mock-server --bench inproc --no-run --message-format=json 2>/dev/null |
  sed -n 's/.*"executable":"\([^"]*inproc[^"]*\)".*/\1/p' | tail -1)
[ -x "$bin" ] || { echo "could not build benches/inproc.rs" >&2; exit 1; }
printf '%-4s %14s %16s\n' endpoint "Ir total" "Ir per request"
for e in $endpoints; do
  file="$out/inproc-$e.out"
  valgrind --tool=callgrind --toggle-collect='inproc::measured*' --callgrind-out-file="$file" \
    "$bin" --only "$e" --iterations "$iterations" --users 1000 ${INPROC_ARGS:-} >/dev/null 2>"$out/inproc-$e.log"
  total=$(sed -n 's/.*Collected : \([0-9]*\).*/\1/p' "$out/inproc-$e.log")
  printf '%-4s %14s %16d\n' "$e" "$total" $((total / iterations))
done
echo "profiles: $out/inproc-*.out (callgrind_annotate --inclusive=yes FILE)"
