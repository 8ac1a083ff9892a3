#!/usr/bin/env bash
# Reproduces the worker-stall bug: two default workers (2 threads, 60 s sliding invisibility timeout), a hangfire run,
# and kill -9 of one worker a few seconds into fit_eval. Dumps the Hangfire tables while the run is stuck.
#   infra/repro/worker-kill.sh OUTDIR CONNSTR INPUT [KILL_AFTER_S=3] [WATCH_S=240]
# INPUT: batchrecs demo-data --users 20000 --items 2000 --interactions 600000 --seed 12
set -uo pipefail
out=$(realpath -m "$1"); cs="$2"; input="$3"; kill_after="${4:-3}"; watch="${5:-240}"
dll="${BATCHRECS_DLL:-$(dirname "$0")/../../src/BatchRecs.Cli/bin/Release/net10.0/batchrecs.dll}"
psql=/usr/lib/postgresql/15/bin/psql
host=$(sed -E 's/.*Host=([^;]+).*/\1/' <<<"$cs"); port=$(sed -E 's/.*Port=([^;]+).*/\1/' <<<"$cs")
db=$(sed -E 's/.*Database=([^;]+).*/\1/' <<<"$cs"); user=$(sed -E 's/.*Username=([^;]+).*/\1/' <<<"$cs")
q() { "$psql" -h "$host" -p "$port" -U "$user" -d "$db" -X -P pager=off "$@"; }
mkdir -p "$out"; lake="$out/L"; mkdir -p "$lake"
dump() {
  { echo "=== $(date -u +%FT%TZ) $1"
    q -c "select now()"
    q -c "select id, serverid_short, heartbeat from (select id, left(id,60) serverid_short, lastheartbeat heartbeat from hangfire.server) s order by 1"
    q -c "select q.id, q.jobid, q.queue, q.fetchedat, now()-q.fetchedat as age, j.statename from hangfire.jobqueue q join hangfire.job j on j.id=q.jobid order by q.jobid"
    q -c "select statename, count(*) from hangfire.job group by 1 order by 1"
    q -c "select * from hangfire.lock"
    q -c "select pid, application_name, state, now()-query_start as since, left(query,110) query from pg_stat_activity where datname=current_database() and pid<>pg_backend_pid() order by query_start"
    q -c "select j.id, j.statename, s.createdat, left(s.data::text,140) data from hangfire.job j join hangfire.state s on s.id=j.stateid where j.statename='Processing' order by j.id"
  } >> "$out/tables.txt" 2>&1
}
export Logging__LogLevel__Hangfire="${HANGFIRE_LOG:-Warning}"
dotnet "$dll" worker --db "$cs" --queues runs blocks --lake "$lake" > "$out/victim.log" 2>&1 & victim=$!
sleep 2   # (two workers installing the schema at once race; see the report)
dotnet "$dll" worker --db "$cs" --queues runs blocks --lake "$lake" > "$out/survivor.log" 2>&1 & survivor=$!
echo "victim=$victim survivor=$survivor" > "$out/pids.txt"
sleep 3
start=$(date +%s)
dotnet "$dll" run --input "$input" --lake "$lake" --executor hangfire --db "$cs" > "$out/run.log" 2>&1 & run=$!
echo "run=$run" >> "$out/pids.txt"
until grep -q "stage_start stage=fit_eval" "$out/run.log" || ! kill -0 $run 2>/dev/null; do sleep 0.2; done
sleep "$kill_after"
if [ "${KILL_ON_LOCK:-0}" = 1 ]; then
  # Kill at the moment the victim holds a job's state lock while moving a block from Enqueued to Processing.
  for i in $(seq 1 3000); do
    hit=$(q -Atc "select l.resource from hangfire.lock l join hangfire.job j on l.resource = 'hangfire:job:'||j.id||':state-lock' join hangfire.jobqueue jq on jq.jobid=j.id where j.statename='Enqueued' and jq.fetchedat is not null limit 1")
    if [ -n "$hit" ]; then kill -9 $victim; echo "lock seen: $hit" >> "$out/pids.txt"; break; fi
  done
fi
kill -9 $victim 2>/dev/null; echo "$(date -u +%FT%TZ) killed victim $victim" | tee -a "$out/pids.txt"
dump "at kill"
for t in $(seq 10 10 "$watch"); do
  sleep 10
  if ! kill -0 $run 2>/dev/null; then echo "run ended after ${t}s" >> "$out/pids.txt"; break; fi
  case $t in 30|70|90|130|300|590|610|$watch) dump "kill+${t}s";; esac
done
dump "end"
kill $run $survivor 2>/dev/null; wait $run 2>/dev/null; echo "run rc=$?" >> "$out/pids.txt"; wait $survivor 2>/dev/null
echo "elapsed $(( $(date +%s) - start )) s" >> "$out/pids.txt"
