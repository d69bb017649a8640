#!/bin/bash
# The server-level rejecting comparison on the packed library, as an outside check runs it:
#   npm run bench:tarball [-- rounds]      (default 9; about 35 s per round)
# Packs nestjs-dapr-auth, installs it with the repo's Nest versions into a temporary app, then per
# round starts each server afresh (pinned to the last CPU, wrk to the others), warms it up (1 s
# with the right token, 2 s with a wrong one), and measures 5 s with a wrong token: requests per
# second and the server's CPU per request (from /proc). Prints the medians of the per-round ratios
# against the throwing guard, with their range. Needs wrk, taskset and Linux.
set -euo pipefail
rounds=${1:-9}
repo=$(cd "$(dirname "$0")/../.." && pwd)
app=$(mktemp -d /tmp/dapr-auth-tarball-bench.XXXXXX)
trap 'rm -rf "$app"' EXIT
last=$(($(nproc) - 1))
(cd "$repo" && npm pack -w nestjs-dapr-auth --pack-destination "$app" >/dev/null 2>&1)
cp "$repo/bench/tarball/server.mjs" "$app/"
node -e '
  const { readdirSync, writeFileSync } = require("fs");
  const version = (name) => require(process.argv[1] + "/node_modules/" + name + "/package.json").version;
  const tarball = readdirSync(process.argv[2]).find((file) => file.endsWith(".tgz"));
  const dependencies = Object.fromEntries(["@nestjs/common", "@nestjs/core", "@nestjs/platform-fastify", "reflect-metadata", "rxjs"].map((name) => [name, version(name)]));
  writeFileSync(process.argv[2] + "/package.json", JSON.stringify({ private: true, type: "module", dependencies: { ...dependencies, "nestjs-dapr-auth": "file:" + tarball } }));
' "$repo" "$app"
(cd "$app" && npm install --prefer-offline --no-audit --no-fund --loglevel=error >/dev/null)
right=right-token-0123456789abcdef
wrong=wrong-token-0123456789abcdef
results=$app/results.txt
for round in $(seq 1 "$rounds"); do
  for variant in throw dapr dapr-quiet; do
    port=$((30000 + RANDOM % 20000))
    taskset -c "$last" node "$app/server.mjs" "$variant" "$port" >"$app/$variant.log" 2>&1 &
    pid=$!
    until grep -q READY "$app/$variant.log"; do sleep 0.1; done
    taskset -c "0-$((last - 1))" wrk -t1 -c32 -d1s -H "dapr-api-token: $right" "http://127.0.0.1:$port/orders/1" >/dev/null
    taskset -c "0-$((last - 1))" wrk -t1 -c32 -d2s -H "dapr-api-token: $wrong" "http://127.0.0.1:$port/orders/1" >/dev/null
    before=$(awk '{print $14 + $15}' "/proc/$pid/stat")
    report=$(taskset -c "0-$((last - 1))" wrk -t1 -c32 -d5s -H "dapr-api-token: $wrong" "http://127.0.0.1:$port/orders/1")
    after=$(awk '{print $14 + $15}' "/proc/$pid/stat")
    requests=$(awk '/requests in/ {print $1}' <<<"$report")
    rejected=$(awk '/Non-2xx/ {print $5}' <<<"$report")
    [ "$rejected" = "$requests" ] || { echo "round $round $variant: $rejected of $requests rejected" >&2; exit 1; }
    echo "$round $variant $(awk '/Requests\/sec/ {print $2}' <<<"$report") $(((after - before) * 10000 * 1000 / requests))" | tee -a "$results"
    kill -INT "$pid"
    wait "$pid" || true
  done
done
node -e '
  const rows = require("fs").readFileSync(process.argv[1], "utf8").trim().split("\n").map((line) => line.split(" "));
  const byRound = {};
  for (const [round, variant, rps, nanoCpu] of rows) (byRound[round] ??= {})[variant] = { rps: +rps, cpu: +nanoCpu / 1000 };
  const median = (values) => { const s = [...values].sort((a, b) => a - b), m = s.length >> 1; return s.length % 2 ? s[m] : (s[m - 1] + s[m]) / 2; };
  for (const variant of ["dapr", "dapr-quiet"]) {
    const rounds = Object.values(byRound);
    const cell = (ratios) => `${median(ratios).toFixed(3)} (${Math.min(...ratios).toFixed(3)}-${Math.max(...ratios).toFixed(3)})`;
    console.log(`${variant.padEnd(10)} vs throw, ${rounds.length} rounds: throughput ${cell(rounds.map((r) => r[variant].rps / r.throw.rps))}, server CPU per request ${cell(rounds.map((r) => r[variant].cpu / r.throw.cpu))}; median CPU per request ${median(rounds.map((r) => r[variant].cpu)).toFixed(1)} against ${median(rounds.map((r) => r.throw.cpu)).toFixed(1)} µs`);
  }
' "$results"
