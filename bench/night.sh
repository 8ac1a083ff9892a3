#!/usr/bin/env bash
# Measures one whole night (time and peak RSS per process, per stage from run_metrics) on the local executor and on
# Hangfire with two default workers on this machine, and checks that both publish the same lists.
#   bench/night.sh INPUT OUTDIR [RUN_DATE=today] [MODES="local hangfire"]
# The 100M figures of issue 15:
#   batchrecs demo-data --users 1000000 --items 200000 --interactions 100000000 --seed 9 --out /data/100m
#   bench/night.sh /data/100m /tmp/night
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
input=$(realpath "$1"); out=$(realpath -m "$2"); date="${3:-$(date -u +%F)}"; modes="${4:-local hangfire}"
dotnet build "$root/src/BatchRecs.Cli/BatchRecs.Cli.csproj" -c Release -nologo -v quiet >/dev/null
mkdir -p "$out"
# A private copy of the binaries, so a build during the measurement does not swap them under the running processes.
rm -rf "$out/cli"; cp -r "$root/src/BatchRecs.Cli/bin/Release/net10.0" "$out/cli"
dll="$out/cli/batchrecs.dll"
peak() { awk '/Maximum resident/ {printf "%.2f GB", $6/1048576}' "$1"; }
wall() { awk -F': ' '/Elapsed \(wall/ {print $2}' "$1"; }
stages() { grep -E "run.stage stage=" "$1" | sed -E 's/.*stage=([a-z_]+) seconds=([0-9.]+)( peak_mb=([0-9]+))?.*/  \1: \2 s, peak \4 MB/'; }
lists() { dotnet "$dll" sql --lake "$1" "SELECT count(*) AS n, sum(hash(user_id, item_id, rank, score)) AS h FROM recommendations" | tail -2 | head -1; }

for mode in $modes; do
  lake="$out/lake-$mode"; rm -rf "$lake"
  case $mode in
  local)
    /usr/bin/time -v dotnet "$dll" run --input "$input" --lake "$lake" --run-date "$date" > "$out/local.log" 2>&1
    echo "local: $(wall "$out/local.log") wall, peak RSS $(peak "$out/local.log")"; stages "$out/local.log";;
  hangfire)
    port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
    cs=$("$root/infra/postgres/start.sh" "$out/pg" "$port")
    trap '"$root/infra/postgres/stop.sh" "$out/pg" >/dev/null 2>&1 || true' EXIT
    for w in 1 2; do
      /usr/bin/time -v dotnet "$dll" worker --db "$cs" --lake "$lake" > "$out/worker$w.log" 2>&1 &
      echo $! > "$out/worker$w.pid"
    done
    sleep 5
    /usr/bin/time -v dotnet "$dll" run --input "$input" --lake "$lake" --run-date "$date" --executor hangfire --db "$cs" > "$out/coordinator.log" 2>&1
    for w in 1 2; do pkill -TERM -P "$(cat "$out/worker$w.pid")" 2>/dev/null || true; done
    wait
    echo "hangfire: $(wall "$out/coordinator.log") wall, coordinator peak RSS $(peak "$out/coordinator.log"), workers $(peak "$out/worker1.log"), $(peak "$out/worker2.log")"
    stages "$out/coordinator.log"
    grep -E "^  hangfire " "$out/coordinator.log" || true;;
  esac
  echo "  lists: $(lists "$lake")"
done
