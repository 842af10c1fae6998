#!/usr/bin/env bash
# fleet.sh - what the copy daemon's fleet mode (docs/fleet.md) costs, on a PostgreSQL this script
# starts itself (initdb + pg_ctl in $WORK, as nobody when run as root, pg_stat_statements loaded).
#
#   claims:   N (default 1000) queued jobs copying a zero-length image, drained by 3 daemons
#             (--max-jobs 4 each): jobs per second from the first claim to the last final state,
#             the jobs' own mean copy time, and the daemons' database statements per job
#             (pg_stat_statements: every statement is one round trip). The jobs are queued with SQL,
#             as copies of one job submitted through the API, before the daemons start, so the
#             figure is the queue's and not the submitting client's.
#   walltime: one job copying a sparse image of $SIZE_MIB MiB holding $DATA_MIB MiB of random data,
#             RUNS times in journal mode (--state-dir) and in fleet mode (--jobs-db), alternated; the
#             wall time of each job is its "finished" minus its "created" (queueing and claiming
#             included, no polling jitter).
#
# Usage: [N=1000] [RUNS=5] [SIZE_MIB=4096] [DATA_MIB=1024] [PARTS="claims walltime"] perf/fleet.sh
# Work files go to $WORK (default perf/out/fleet).
set -euo pipefail

PERF_DIR="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
ROOT="$(cd "$PERF_DIR/.." && pwd)"
EXTENTFLOW="$ROOT/extentflow"
N="${N:-1000}"
RUNS="${RUNS:-5}"
SIZE_MIB="${SIZE_MIB:-4096}"
DATA_MIB="${DATA_MIB:-1024}"
WORK="${WORK:-$PERF_DIR/out/fleet}"
PARTS="${PARTS:-claims walltime}"
TOKEN="perf-$RANDOM$RANDOM"

die() { echo "$(basename "$0"): $*" >&2; exit 2; }
for t in curl python3; do
  command -v "$t" >/dev/null || die "needs $t"
done
PG_BIN="$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -1)"
[ -x "$PG_BIN/initdb" ] || die "needs PostgreSQL (Debian: apt-get install -y postgresql)"
"$EXTENTFLOW" --version >/dev/null   # builds samples/target/extentflow.jar if needed
export EXTENTFLOW_NO_BUILD=1

pids=()
cleanup() {
  for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done
  wait 2>/dev/null || true
  [ -f "$WORK/pg/data/postmaster.pid" ] && as_pg "$PG_BIN/pg_ctl" -D "$WORK/pg/data" -m fast -w stop >/dev/null || true
}
trap cleanup EXIT

rm -rf "$WORK"
mkdir -p "$WORK/pg" "$WORK/t"
chmod 755 "$WORK" "$WORK/pg"
as_pg() { if [ "$(id -u)" = 0 ]; then runuser -u nobody -- "$@"; else "$@"; fi; }
PGPASSWORD="pw-$RANDOM$RANDOM"
export PGPASSWORD
echo "$PGPASSWORD" > "$WORK/pg/pwfile"
[ "$(id -u)" = 0 ] && chown -R nobody "$WORK/pg"
PG_PORT=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
as_pg "$PG_BIN/initdb" -D "$WORK/pg/data" -U extentflow --pwfile="$WORK/pg/pwfile" --auth=scram-sha-256 \
  -E UTF8 --no-instructions >/dev/null
as_pg "$PG_BIN/pg_ctl" -D "$WORK/pg/data" -l "$WORK/pg/log" -w -o "-p $PG_PORT -k $WORK/pg \
  -c listen_addresses=127.0.0.1 -c shared_preload_libraries=pg_stat_statements" start >/dev/null
psql() { "$PG_BIN/psql" -X -q -A -t -v ON_ERROR_STOP=1 -h 127.0.0.1 -p "$PG_PORT" -U extentflow -d "${DB:-jobs}" -c "$1"; }
DB=postgres psql "CREATE DATABASE jobs"
psql "CREATE EXTENSION pg_stat_statements"
DB_ADDRESS="postgresql://extentflow@127.0.0.1:$PG_PORT/jobs"

# launch NAME ARGS...: starts a daemon in the background; await_listening NAME: waits until it
# listens and sets PORT_<NAME>; serve NAME ARGS...: both
launch() {
  local name="$1"
  shift
  EXTENTFLOW_TOKEN="$TOKEN" EXTENTFLOW_DB_PASSWORD="$PGPASSWORD" "$EXTENTFLOW" serve --port 0 \
    --control-socket "$WORK/ctl-$name.sock" "$@" >"$WORK/$name.out" 2>"$WORK/$name.err" &
  pids+=($!)
  eval "PID_$name=$!"
}
await_listening() {
  local name="$1" port
  for _ in $(seq 1 300); do
    port=$(sed -n 's|.*data API: *http://[^:]*:\([0-9]*\)/.*|\1|p' "$WORK/$name.out")
    if [ -n "$port" ]; then eval "PORT_$name=$port"; return; fi
    sleep 0.1
  done
  die "daemon $name did not start: $(cat "$WORK/$name.err")"
}
serve() { launch "$@"; await_listening "$1"; }
api() { curl -sf -H "Authorization: Bearer $TOKEN" "$@"; }
submit() { # PORT SOURCE TARGET -> job id
  api -d "{\"source\": \"$2\", \"target\": \"$3\"}" "http://127.0.0.1:$1/v1/copies" \
    | python3 -c 'import json, sys; print(json.load(sys.stdin)["id"])'
}
await_done() { # PORT ID -> the job's JSON once it finished
  local j
  while :; do
    j=$(api "http://127.0.0.1:$1/v1/copies/$2")
    case "$j" in *'"state":"done"'*) echo "$j"; return ;; *'"state":"failed"'*|*'"state":"cancelled"'*) die "job $2: $j" ;; esac
    sleep 0.05
  done
}
stop() { local pid; eval "pid=\$PID_$1"; kill "$pid"; wait "$pid" 2>/dev/null || true; }

# --- claims
if [[ " $PARTS " == *" claims "* ]]; then
truncate -s 0 "$WORK/empty.raw"
serve one --jobs-db "$DB_ADDRESS"
first=$(submit "$PORT_one" "$WORK/empty.raw" "$WORK/t/first.raw")
await_done "$PORT_one" "$first" >/dev/null
stop one
psql "INSERT INTO extentflow_jobs (id, created, request, state, view)
      SELECT 'bench-' || i, now(), jsonb_set(request, '{target}', to_jsonb('$WORK/t/' || i || '.raw')), 'queued',
             jsonb_set(jsonb_set(view, '{id}', to_jsonb('bench-' || i)), '{state}', '\"queued\"')
      FROM extentflow_jobs, generate_series(1, $N) i WHERE id = '$first'" >/dev/null
psql "SELECT pg_stat_statements_reset()" >/dev/null
for d in a b c; do launch "$d" --jobs-db "$DB_ADDRESS" --max-jobs 4; done
for d in a b c; do await_listening "$d"; done
wait_all=0
while [ "$(psql "SELECT count(*) FROM extentflow_jobs WHERE id LIKE 'bench-%' AND state IN ('done', 'failed')")" != "$N" ]; do
  sleep 0.2
  wait_all=$((wait_all + 1))
  [ "$wait_all" -lt 3000 ] || die "the jobs did not finish in 10 minutes"
done
failed=$(psql "SELECT count(*) FROM extentflow_jobs WHERE id LIKE 'bench-%' AND state = 'failed'")
read -r span rate copy_ms daemons <<<"$(psql "SELECT round(extract(epoch FROM max(updated) - min((view->>'started')::timestamptz))::numeric, 2),
       round(($N / extract(epoch FROM max(updated) - min((view->>'started')::timestamptz)))::numeric, 0),
       round(avg((view->>'elapsed_seconds')::numeric) * 1000, 1), count(DISTINCT finished_by)
     FROM extentflow_jobs WHERE id LIKE 'bench-%'" | tr '|' ' ')"
statements=$(psql "SELECT sum(calls) FROM pg_stat_statements WHERE query NOT LIKE '%pg_stat_statements%' AND query NOT LIKE '%id LIKE%'")
echo "claims: $N jobs on 3 daemons (--max-jobs 4) in $span s: $rate jobs/s; $failed failed; finished by $daemons daemons;"
echo "        mean copy time of a job $copy_ms ms; $statements daemon statements: $(python3 -c "print(round($statements / $N, 2))") per job (+1 for the submit)"
echo "        statements by kind (calls, first words):"
psql "SELECT calls || '  ' || left(regexp_replace(query, '\s+', ' ', 'g'), 90) FROM pg_stat_statements
      WHERE query NOT LIKE '%pg_stat_statements%' AND query NOT LIKE '%id LIKE%' ORDER BY calls DESC LIMIT 8" | sed 's/^/          /'
for d in a b c; do stop "$d"; done
fi

[[ " $PARTS " == *" walltime "* ]] || exit 0

# --- walltime
python3 - "$WORK/sparse.raw" "$SIZE_MIB" "$DATA_MIB" <<'PY'
import os, sys
path, size, data = sys.argv[1], int(sys.argv[2]), int(sys.argv[3])
step = max(1, size // data)
with open(path, "wb") as f:
    f.truncate(size << 20)
    for i in range(data):
        f.seek((i * step) << 20)
        f.write(os.urandom(1 << 20))
PY
serve journal --state-dir "$WORK/state" --max-jobs 1
serve fleet --jobs-db "$DB_ADDRESS" --max-jobs 1
wall() { # PORT -> seconds from created to finished, and the copy's own elapsed seconds
  rm -f "$WORK/t/sparse-copy.raw"
  sync
  local id
  id=$(submit "$1" "$WORK/sparse.raw" "$WORK/t/sparse-copy.raw")
  await_done "$1" "$id" | python3 -c '
import json, sys, datetime
j = json.load(sys.stdin)
t = lambda s: datetime.datetime.fromisoformat(s.replace("Z", "+00:00"))
print(round((t(j["finished"]) - t(j["created"])).total_seconds(), 3), j["elapsed_seconds"])'
}
wall "$PORT_journal" >/dev/null   # warm both daemons once
wall "$PORT_fleet" >/dev/null
journal=()
fleet=()
for r in $(seq 1 "$RUNS"); do
  if [ $((r % 2)) = 1 ]; then   # alternated, each mode first every other round
    journal+=("$(wall "$PORT_journal")")
    fleet+=("$(wall "$PORT_fleet")")
  else
    fleet+=("$(wall "$PORT_fleet")")
    journal+=("$(wall "$PORT_journal")")
  fi
done
python3 - "${journal[@]}" -- "${fleet[@]}" <<'PY'
import statistics, sys
args = sys.argv[1:]
cut = args.index("--")
def parse(xs):
    return [float(x.split()[0]) for x in xs], [float(x.split()[1]) for x in xs]
(jw, jc), (fw, fc) = parse(args[:cut]), parse(args[cut + 1:])
print(f"walltime: one job, {len(jw)} runs each, alternated (each mode first every other round); wall = finished - created, copy = the job's elapsed_seconds")
print(f"  journal: wall median {statistics.median(jw):.3f} s (min {min(jw):.3f}, max {max(jw):.3f}), copy median {statistics.median(jc):.3f} s")
print(f"  fleet:   wall median {statistics.median(fw):.3f} s (min {min(fw):.3f}, max {max(fw):.3f}), copy median {statistics.median(fc):.3f} s")
print("  journal walls: " + " ".join(f"{x:.2f}" for x in jw))
print("  fleet walls:   " + " ".join(f"{x:.2f}" for x in fw))
print(f"  fleet / journal: wall {statistics.median(fw) / statistics.median(jw):.3f}, copy {statistics.median(fc) / statistics.median(jc):.3f}")
PY
