#!/usr/bin/env bash
# fleet.sh - what the copy daemon's fleet mode (docs/fleet.md) costs, on a PostgreSQL this script
# starts itself (initdb + pg_ctl in $WORK, as nobody when run as root, pg_stat_statements loaded).
#
#   claims:   N (default 1000) queued jobs copying a zero-length image, drained by 3 daemons
#             (--max-jobs 4 each), in fleet mode (one database) and in journal mode (each daemon its
#             own --state-dir, N/3 jobs each): jobs per second from the first job started to the last
#             finished, in both modes ("limited by the copies": fleet about as fast as journal, where
#             no queue is shared), the jobs' own mean copy time, how busy the 12 slots were, and the
#             fleet daemons' database round trips per job (counted by the daemons:
#             extentflow_daemon_fleet_db_round_trips_total) with the statements and commits behind them
#             (pg_stat_statements, pg_stat_database). The jobs are queued before the daemons start (SQL
#             rows copied from one job submitted through the API; journal records), so the figures are
#             the queue's and not the submitting client's. WARMUP (default 30000: 10,000 per daemon)
#             jobs are queued ahead of the measured ones in both modes and left out of the figures:
#             a long-running daemon has compiled its job paths, and a fresh one spends its first
#             thousands of jobs compiling them (JIT) on the same 2 CPUs. C2 takes a method once it was
#             called 5,000 times, so code that runs once per job is compiled after some 5,000 jobs on
#             its daemon: behind 2,000 warm-up jobs the fleet daemons still made ~200 C2 and ~1,000 C1
#             compilations during the 1,000 measured jobs, behind 30,000 they made 14 (perf/README.md).
#             Also the CPU time per measured job of the daemons and of
#             PostgreSQL (/proc/PID/stat, from the end of the warm-up), the JIT's share of the
#             daemons' (their compiler threads), and how many CPUs that keeps busy.
#   walltime: one realistic job, $IMG/sparse-8g.raw (8 GiB raw, ~2 GiB of data; made with
#             MAKE_IMAGES when missing) copied to a new file (flushed before the job is done), RUNS
#             times in journal mode (--state-dir) and in fleet mode (--jobs-db), alternated (each mode
#             first every other round), each run after a prepare step (target deleted, source warmed
#             into the page cache, SETTLE seconds of rest, as perf/lib.sh does). Wall = from the POST to
#             the client seeing the job done (polled every 20 ms), and the job's own finished - created.
#
#   AOT=trained (claims): first runs the claims part once with daemons that record an AOT cache each
#             (-XX:AOTCacheOutput, no cache to start from), then starts every daemon of the measured
#             run with the cache its namesake recorded: classes and method profiles of its own kind of
#             run (fleet or journal). The launcher's own cache is trained by `extentflow train`, which
#             runs no daemon; after the warm-up, a fleet daemon's C2 compiler was still busy (perf/README.md).
#
# Usage: [IMG=perf/images] [MAKE_IMAGES=...] [N=1000] [WARMUP=30000] [JOURNAL=0 (claims: fleet mode only)] [AOT=trained] [PG_OPTS='-c name=value'] [RUNS=5] [SETTLE=3] [PARTS="claims walltime"] perf/fleet.sh
# Work files go to $WORK (default perf/out/fleet), the trained caches to $WORK-aot.
set -euo pipefail

source "$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)/lib.sh"   # IMG, RUNS, SETTLE, WARM, make_images, die
N="${N:-1000}"
WARMUP="${WARMUP:-30000}"
ALL=$((N + WARMUP))
WORK="${WORK:-$PERF_DIR/out/fleet}"
PARTS="${PARTS:-claims walltime}"
TOKEN="perf-$RANDOM$RANDOM"
for t in curl python3; do
  command -v "$t" >/dev/null || die "needs $t"
done
PG_BIN="$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -1)"
[ -x "$PG_BIN/initdb" ] || die "needs PostgreSQL (Debian: apt-get install -y postgresql)"
"$EXTENTFLOW" --version >/dev/null   # builds samples/target/extentflow.jar if needed
export EXTENTFLOW_NO_BUILD=1

if [ "${AOT:-}" = trained ] && [ -z "${AOT_TRAIN_OUT:-}" ]; then
  AOT_DIR="$WORK-aot"
  rm -rf "$AOT_DIR"
  mkdir -p "$AOT_DIR"
  echo "AOT=trained: recording the daemons' caches in a run of the claims part (not measured)"
  AOT_TRAIN_OUT="$AOT_DIR" WORK="$WORK-train" PARTS=claims "${BASH_SOURCE[0]}" >"$AOT_DIR/train.log" 2>&1 \
    || die "the training run failed: $(tail -3 "$AOT_DIR/train.log")"
  ls "$AOT_DIR"/*.aot >/dev/null 2>&1 || die "the training run recorded no cache ($AOT_DIR/train.log)"
fi

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
  -c listen_addresses=127.0.0.1 -c shared_preload_libraries=pg_stat_statements ${PG_OPTS:-}" start >/dev/null
psql() { "$PG_BIN/psql" -X -q -A -t -v ON_ERROR_STOP=1 -h 127.0.0.1 -p "$PG_PORT" -U extentflow -d "${DB:-jobs}" -c "$1"; }
DB=postgres psql "CREATE DATABASE jobs"
psql "CREATE EXTENSION pg_stat_statements"
DB_ADDRESS="postgresql://extentflow@127.0.0.1:$PG_PORT/jobs"

# launch NAME ARGS...: starts a daemon in the background; await_listening NAME: waits until it
# listens and sets PORT_<NAME>; serve NAME ARGS...: both
launch() {
  local name="$1" aot=()
  shift
  if [ -n "${AOT_TRAIN_OUT:-}" ]; then
    # records its cache at exit (a stop waits for it)
    aot=(EXTENTFLOW_AOT_CACHE=none "EXTENTFLOW_JAVA_OPTS=${EXTENTFLOW_JAVA_OPTS:-} -XX:AOTCacheOutput=$AOT_TRAIN_OUT/$name.aot")
  elif [ -n "${AOT_DIR:-}" ] && [ -f "$AOT_DIR/$name.aot" ]; then
    aot=("EXTENTFLOW_AOT_CACHE=$AOT_DIR/$name.aot")
  fi
  env ${aot[@]+"${aot[@]}"} EXTENTFLOW_TOKEN="$TOKEN" EXTENTFLOW_DB_PASSWORD="$PGPASSWORD" "$EXTENTFLOW" serve --port 0 \
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

# cpu_ms PID...: CPU time (user + system) the processes used so far, in ms, with the children they reaped
cpu_ms() {
  local p total=0 f
  for p in "$@"; do
    # fields after the command name: utime stime cutime cstime are fields 14-17 of /proc/PID/stat
    f=$(sed 's/^.*) //' "/proc/$p/stat" 2>/dev/null) || continue
    read -r -a f <<<"$f"
    total=$((total + f[11] + f[12] + f[13] + f[14]))
  done
  echo $((total * 1000 / $(getconf CLK_TCK)))
}
# jit_ms PID...: CPU time the processes' JIT compiler threads used so far, in ms
jit_ms() {
  local t total=0 f
  for t in $(for p in "$@"; do echo /proc/"$p"/task/*; done); do
    f=$(cat "$t/stat" 2>/dev/null) || continue
    case "$f" in *"(C1 CompilerThre)"*|*"(C2 CompilerThre)"*) ;; *) continue ;; esac
    read -r -a f <<<"${f##*) }"
    total=$((total + f[11] + f[12]))
  done
  echo $((total * 1000 / $(getconf CLK_TCK)))
}
# pg_pids: the PostgreSQL server's processes (postmaster, its background workers and backends)
pg_pids() {
  local pm
  pm=$(head -1 "$WORK/pg/data/postmaster.pid")
  echo "$pm" $(pgrep -P "$pm" || true)
}
ended_jobs() { # -> the journal daemons' jobs done or failed, read from their journals: no request that
  # costs the measured daemons CPU (their /v1/copies lists are JSON of every job). A job's final state
  # is one record (empty jobs record no checkpoint, so no compaction rewrites the journal here): a
  # count of those lines is enough. Sorting the ids took 0.2 s of CPU per poll with 31,000 jobs, a
  # CPU's worth at 5 polls a second taken from the daemons being measured
  cat "$WORK"/state-[abc]/jobs.journal 2>/dev/null | grep -c '"state":"\(done\|failed\)"' || true
}
metric() { # PORT NAME -> the value of a counter on the daemon's /metrics
  api "http://127.0.0.1:$1/metrics" | awk -v m="$2" '$1 == m { printf "%d\n", $2 }'
}
# rate LIST_OF_JOB_JSON_FILES...: "span jobs/s mean-copy-ms slots-busy-% daemons-jobs/s" of the jobs, from
# the first started to the last finished (both modes alike: the job's own timestamps); the last is the
# sum of each daemon's own rate (its jobs from its first started to its last finished): journal daemons
# reach their measured jobs at different times (each its own warm-up), which stretches the joint span
rate() {
  python3 - "$@" <<'PY'
import json, sys, datetime
t = lambda s: datetime.datetime.fromisoformat(s.replace("Z", "+00:00"))
jobs = [j for f in sys.argv[1:] for j in json.load(open(f))]
bad = [j for j in jobs if j["state"] != "done"]
if bad:
    sys.exit(f"{len(bad)} jobs not done, e.g. {bad[0]}")
start = min(t(j["started"]) for j in jobs)
span = (max(t(j["finished"]) for j in jobs) - start).total_seconds()
busy = sum((t(j["finished"]) - t(j["started"])).total_seconds() for j in jobs)
copy = sum(j["elapsed_seconds"] for j in jobs) / len(jobs)
by = {}
for f in sys.argv[1:]:
    for j in json.load(open(f)):
        by.setdefault((f, j.get("daemon")), []).append(j)
own = sum(len(js) / max(1e-9, (max(t(j["finished"]) for j in js) - min(t(j["started"]) for j in js)).total_seconds())
          for js in by.values())
print(f"{span:.2f} {len(jobs) / span:.0f} {copy * 1000:.1f} {100 * busy / (12 * span):.0f} {own:.0f}")
PY
}
list_jobs() { # PORT FILE: the daemon's jobs, as its API lists them: the bench ones in FILE, the times of
  # all (warm-up ones too) in FILE.all
  api "http://127.0.0.1:$1/v1/copies" | python3 -c '
import json, sys
o = json.load(sys.stdin)
jobs = o if isinstance(o, list) else o.get("jobs", o.get("copies", []))
json.dump([j for j in jobs if j["id"].startswith("bench-")], open(sys.argv[1], "w"))
json.dump([{"started": j["started"], "finished": j["finished"]} for j in jobs if j["state"] == "done"],
          open(sys.argv[1] + ".all", "w"))' "$2"
}
# together N FILE...: jobs per second while every daemon was still running, over the last N jobs that
# finished before the first daemon ran out of jobs (warm-up jobs included; FILE per daemon, or one
# file whose jobs name their "daemon"). Journal daemons each drain their own journal at their own
# speed, so they reach the measured jobs at different times: behind 10,000 warm-up jobs each, one
# had finished its measured jobs before another started them, and the measured jobs' span, or the sum of
# each daemon's own rate (one alone on the CPUs is faster), said nothing about three daemons at once.
together() {
  python3 - "$@" <<'PY'
import json, sys, datetime
t = lambda s: datetime.datetime.fromisoformat(s.replace("Z", "+00:00")).timestamp()
n = int(sys.argv[1])
by = {}
for f in sys.argv[2:]:
    for j in json.load(open(f)):
        by.setdefault((f, j.get("daemon")), []).append(t(j["finished"]))
end = min(max(ts) for ts in by.values())
done = sorted(x for ts in by.values() for x in ts if x <= end)[-n:]
print(f"{(len(done) - 1) / max(1e-9, end - done[0]):.0f}")
PY
}

# --- claims
if [[ " $PARTS " == *" claims "* ]]; then
truncate -s 0 "$WORK/empty.raw"
echo "claims: $N jobs copying an empty image behind $WARMUP warm-up jobs, 3 daemons with --max-jobs 4 each (load average $(cut -d' ' -f1 /proc/loadavg))"
[ -z "${AOT_DIR:-}" ] || echo "  every daemon started with the AOT cache its namesake recorded in a training run ($AOT_DIR)"

# fleet mode: the jobs are rows of one database
serve one --jobs-db "$DB_ADDRESS"
first=$(submit "$PORT_one" "$WORK/empty.raw" "$WORK/t/first.raw")
await_done "$PORT_one" "$first" >/dev/null
stop one
queue_rows() { # PREFIX COUNT: COUNT rows copied from the first job, ids PREFIX1.., queued behind the others
  psql "INSERT INTO extentflow_jobs (id, created, request, state, view)
        SELECT '$1' || i, now(), jsonb_set(request, '{target}', to_jsonb('$WORK/t/$1' || i || '.raw')), 'queued',
               jsonb_set(jsonb_set(view, '{id}', to_jsonb('$1' || i)), '{state}', '\"queued\"')
        FROM extentflow_jobs, generate_series(1, $2) i WHERE id = '$first'" >/dev/null
}
[ "$WARMUP" -gt 0 ] && queue_rows warm- "$WARMUP"
queue_rows bench- "$N"
psql "SELECT pg_stat_statements_reset()" >/dev/null
commits0=$(psql "SELECT xact_commit FROM pg_stat_database WHERE datname = 'jobs'")
# PostgreSQL's CPU over all the jobs: it needs no warm-up, and its autovacuum comes in lumps
pg_cpu0=$(cpu_ms $(pg_pids))
for d in a b c; do launch "$d" --jobs-db "$DB_ADDRESS" --max-jobs 4; done
for d in a b c; do await_listening "$d"; done
# the daemons' CPU counted from the end of the warm-up (the daemons' start-up and JIT warm-up left out)
f_cpu0=""
waited=0
while :; do
  IFS='|' read -r warm_done bench_done <<<"$(psql "SELECT count(*) FILTER (WHERE id LIKE 'warm-%'),
    count(*) FILTER (WHERE id LIKE 'bench-%') FROM extentflow_jobs WHERE state IN ('done', 'failed')")"
  if [ -z "$f_cpu0" ] && [ "$warm_done" = "$WARMUP" ]; then
    f_cpu0=$(cpu_ms "$PID_a" "$PID_b" "$PID_c")
    f_jit0=$(jit_ms "$PID_a" "$PID_b" "$PID_c")
    f_cpu_jobs=$((N - bench_done))
  fi
  [ "$bench_done" = "$N" ] && break
  sleep 0.2
  waited=$((waited + 1))
  [ "$waited" -lt 3000 ] || die "the jobs did not finish in 10 minutes"
done
# the daemons' CPU up to their last job, before the questions below (whose answers cost them CPU too)
f_cpu=$(($(cpu_ms "$PID_a" "$PID_b" "$PID_c") - f_cpu0))
f_jit=$(($(jit_ms "$PID_a" "$PID_b" "$PID_c") - f_jit0))
round_trips=0
exchanges=0
exchange_s=0
for d in a b c; do
  eval "port=\$PORT_$d"
  round_trips=$((round_trips + $(metric "$port" extentflow_daemon_fleet_db_round_trips_total)))
  exchanges=$((exchanges + $(metric "$port" extentflow_daemon_fleet_exchange_seconds_count)))
  exchange_s=$(python3 -c "print($exchange_s + $(api "http://127.0.0.1:$port/metrics" | awk '$1 == "extentflow_daemon_fleet_exchange_seconds_sum" { print $2 }'))")
done
f_cpu_jobs=$((f_cpu_jobs > 0 ? f_cpu_jobs : 1))
f_pg_cpu=$(($(cpu_ms $(pg_pids)) - pg_cpu0))
commits=$(($(psql "SELECT xact_commit FROM pg_stat_database WHERE datname = 'jobs'") - commits0))
psql "SELECT coalesce(json_agg(view || jsonb_build_object('state', state)), '[]') FROM extentflow_jobs WHERE id LIKE 'bench-%'" > "$WORK/fleet-jobs.json"
read -r f_span f_rate f_copy f_busy f_own <<<"$(rate "$WORK/fleet-jobs.json")"
psql "SELECT coalesce(json_agg(json_build_object('finished', view->>'finished', 'daemon', finished_by)), '[]')
      FROM extentflow_jobs WHERE state = 'done' AND (id LIKE 'warm-%' OR id LIKE 'bench-%')" > "$WORK/fleet-jobs.json.all"
f_together=$(together "$N" "$WORK/fleet-jobs.json.all")
daemons=$(psql "SELECT count(DISTINCT finished_by) FROM extentflow_jobs WHERE id LIKE 'bench-%'")
statements=$(psql "SELECT sum(calls) FROM pg_stat_statements WHERE query NOT LIKE '%pg_stat_statements%' AND query NOT LIKE '%id LIKE%' AND query NOT LIKE '%xact_commit%'")
final_ms=$(psql "SELECT round(avg(extract(epoch FROM updated - (view->>'finished')::timestamptz)) * 1000, 1) FROM extentflow_jobs WHERE id LIKE 'bench-%'")
for d in a b c; do stop "$d"; done

if [ "${JOURNAL:-1}" = 1 ]; then
# journal mode: the same daemons, each with N/3 of the jobs queued in its own journal
python3 - "$WORK" "$N" "$WARMUP" <<'PY'
import json, os, sys, datetime
work, n, warmup = sys.argv[1], int(sys.argv[2]), int(sys.argv[3])
def crc32c(data, table=[]):
    if not table:
        for i in range(256):
            c = i
            for _ in range(8):
                c = (c >> 1) ^ 0x82F63B78 if c & 1 else c >> 1
            table.append(c)
    c = 0xFFFFFFFF
    for b in data:
        c = table[(c ^ b) & 0xFF] ^ (c >> 8)
    return c ^ 0xFFFFFFFF
start = datetime.datetime.now(datetime.timezone.utc)
# a daemon runs its queued jobs in the order they were created: each job a microsecond after the one
# before, so that the warm-up jobs run first (with one timestamp for all, the order was arbitrary and
# the measured jobs ran mixed with the warm-up ones, stretching their span threefold)
def created(seq):
    return (start + datetime.timedelta(microseconds=seq)).isoformat().replace("+00:00", "Z")
os.makedirs(f"{work}/tj", exist_ok=True)
for k, d in enumerate("abc"):
    os.makedirs(f"{work}/state-{d}", exist_ok=True)
    with open(f"{work}/state-{d}/jobs.journal", "wb") as f:
        # the warm-up jobs first (a journal's queue runs in order), then the measured ones
        for prefix, count, first in (("warm-", warmup, 0), ("bench-", n, warmup)):
            for i in range(k + 1, count + 1, 3):
                rec = json.dumps({"op": "submit", "id": f"{prefix}{i}", "created": created(first + i),
                                  "request": {"source": f"{work}/empty.raw", "target": f"{work}/tj/{prefix}{i}.raw"}},
                                 separators=(",", ":")).encode()
                f.write(b"%08x " % crc32c(rec) + rec + b"\n")
PY
for d in a b c; do launch "j$d" --state-dir "$WORK/state-$d" --max-jobs 4; done
for d in a b c; do await_listening "j$d"; done
j_cpu0=""
waited=0
while :; do
  ended=$(ended_jobs)
  if [ -z "$j_cpu0" ] && [ "$ended" -ge "$WARMUP" ]; then
    j_cpu0=$(cpu_ms "$PID_ja" "$PID_jb" "$PID_jc")
    j_jit0=$(jit_ms "$PID_ja" "$PID_jb" "$PID_jc")
    j_cpu_jobs=$((N + WARMUP - ended))
  fi
  [ "$ended" -ge $((N + WARMUP)) ] && break
  sleep 0.2
  waited=$((waited + 1))
  [ "$waited" -lt 3000 ] || die "the journal jobs did not finish in 10 minutes"
done
# before the lists: each daemon's is the JSON of all its jobs, warm-up ones included
j_cpu=$(($(cpu_ms "$PID_ja" "$PID_jb" "$PID_jc") - j_cpu0))
j_jit=$(($(jit_ms "$PID_ja" "$PID_jb" "$PID_jc") - j_jit0))
for d in a b c; do
  eval "port=\$PORT_j$d"
  list_jobs "$port" "$WORK/journal-$d.json"
done
j_cpu_jobs=$((j_cpu_jobs > 0 ? j_cpu_jobs : 1))
read -r j_span j_rate j_copy j_busy j_own <<<"$(rate "$WORK"/journal-[abc].json)"
j_together=$(together "$N" "$WORK"/journal-[abc].json.all)
for d in a b c; do stop "j$d"; done
else
  j_span=0 j_rate=0 j_copy=0 j_busy=0 j_own=0 j_cpu=0 j_jit=0 j_cpu_jobs=1 j_together=0
fi

echo "  fleet:   $N jobs in $f_span s: $f_rate jobs/s (daemons' own rates: $f_own); finished by $daemons daemons; mean copy $f_copy ms; slots busy $f_busy %"
echo "  journal: $N jobs in $j_span s: $j_rate jobs/s (daemons' own rates: $j_own); mean copy $j_copy ms; slots busy $j_busy %"
[ "$j_rate" = 0 ] || echo "  fleet / journal rate: $(python3 -c "print(round($f_rate / $j_rate, 2))"); of the daemons' own rates: $(python3 -c "print(round($f_own / $j_own, 2))")"
echo "  while all three daemons ran (the last $N jobs before the first daemon ran out): fleet $f_together jobs/s, journal $j_together jobs/s$([ "$j_together" = 0 ] || echo ", fleet / journal $(python3 -c "print(round($f_together / $j_together, 2))")")"
fc=$(python3 -c "print(round($f_cpu / $f_cpu_jobs, 2))")
pc=$(python3 -c "print(round($f_pg_cpu / $ALL, 2))")
jc=$(python3 -c "print(round($j_cpu / $j_cpu_jobs, 2))")
echo "  CPU per job: the daemons' from the end of the warm-up; PostgreSQL's over all $ALL jobs, its autovacuum and the script's psql polls included:"
echo "    fleet: daemons $fc ms (JIT $(python3 -c "print(round(100 * $f_jit / max(1, $f_cpu)))") %) + PostgreSQL $pc ms, $(python3 -c "print(round(($fc + $pc) * $f_rate / 1000, 2))") CPUs busy at its rate; journal: daemons $jc ms (JIT $(python3 -c "print(round(100 * $j_jit / max(1, $j_cpu)))") %), $(python3 -c "print(round($jc * $j_rate / 1000, 2))") CPUs busy (of $(nproc))"
echo "  fleet database round trips (counted by the daemons, idle polls included, over all $ALL jobs): $round_trips, $(python3 -c "print(round($round_trips / $ALL, 2))") per job (+1 for the submit)"
echo "  fleet exchanges (final states + claims in one statement): $exchanges, $(python3 -c "print(round($ALL / $exchanges, 2))") jobs each, $(python3 -c "print(round(1000 * $exchange_s / $exchanges, 1))") ms each (sent to answered, in the daemon)"
echo "  fleet statements $statements ($(python3 -c "print(round($statements / $ALL, 2))") per job), commits $commits ($(python3 -c "print(round($commits / $ALL, 2))") per job); a final state committed $final_ms ms after its job finished"
echo "  statements by kind (calls, mean ms in the server, first words):"
psql "SELECT calls || '  ' || round(mean_exec_time::numeric, 2) || '  ' || left(regexp_replace(query, '\s+', ' ', 'g'), 80) FROM pg_stat_statements
      WHERE query NOT LIKE '%pg_stat_statements%' AND query NOT LIKE '%id LIKE%' AND query NOT LIKE '%xact_commit%' ORDER BY calls DESC LIMIT 6" | sed 's/^/    /'
fi

[[ " $PARTS " == *" walltime "* ]] || exit 0

# --- walltime
SRC="$IMG/sparse-8g.raw"
[ -f "$SRC" ] || make_images a
TARGET="$WORK/t/sparse-copy.raw"
serve journal --state-dir "$WORK/state-walltime" --max-jobs 1
serve fleet --jobs-db "$DB_ADDRESS" --max-jobs 1
prepare() { # as perf/lib.sh's prepare steps: target gone, source's data in the page cache, settled
  rm -f "$TARGET"
  sync
  $WARM "$SRC"
  sleep "$SETTLE"
}
wall() { # PORT -> client wall seconds (POST to seen done), the job's finished - created, its elapsed_seconds,
        #         its started - created (queue and claim)
  local id t0 t1 j
  t0=$(date +%s.%N)
  id=$(submit "$1" "$SRC" "$TARGET")
  while :; do
    j=$(api "http://127.0.0.1:$1/v1/copies/$id")
    case "$j" in *'"state":"done"'*) break ;; *'"state":"failed"'*|*'"state":"cancelled"'*) die "job $id: $j" ;; esac
    sleep 0.02
  done
  t1=$(date +%s.%N)
  echo "$j" | python3 -c '
import json, sys, datetime
j = json.load(sys.stdin)
t = lambda s: datetime.datetime.fromisoformat(s.replace("Z", "+00:00"))
print(round(float(sys.argv[2]) - float(sys.argv[1]), 3), round((t(j["finished"]) - t(j["created"])).total_seconds(), 3),
      j["elapsed_seconds"], round((t(j["started"]) - t(j["created"])).total_seconds(), 4))' "$t0" "$t1"
}
echo "walltime: $SRC -> file, $RUNS runs per mode, alternated (load average $(cut -d' ' -f1 /proc/loadavg))"
for port in "$PORT_journal" "$PORT_fleet"; do prepare; wall "$port" >/dev/null; done   # warm both daemons once
journal=()
fleet=()
for r in $(seq 1 "$RUNS"); do
  if [ $((r % 2)) = 1 ]; then
    prepare; journal+=("$(wall "$PORT_journal")")
    prepare; fleet+=("$(wall "$PORT_fleet")")
  else
    prepare; fleet+=("$(wall "$PORT_fleet")")
    prepare; journal+=("$(wall "$PORT_journal")")
  fi
done
qemu-img compare -q "$SRC" "$TARGET" 2>/dev/null || cmp -s "$SRC" "$TARGET" || die "the last copy differs from $SRC"
python3 - "${journal[@]}" -- "${fleet[@]}" <<'PY'
import statistics, sys
args = sys.argv[1:]
cut = args.index("--")
def parse(xs):
    return [[float(v) for v in x.split()] for x in xs]
jr, fr = parse(args[:cut]), parse(args[cut + 1:])
med = lambda rows, k: statistics.median(r[k] for r in rows)
for name, rows in (("journal", jr), ("fleet", fr)):
    print(f"  {name:8} client wall median {med(rows, 0):.3f} s (min {min(r[0] for r in rows):.3f}, max {max(r[0] for r in rows):.3f}); "
          f"job finished - created {med(rows, 1):.3f} s; copy {med(rows, 2):.3f} s; "
          f"start (started - created) {1000 * med(rows, 3):.1f} ms")
    print(f"           walls: " + " ".join(f"{r[0]:.3f}" for r in rows))
print(f"  fleet / journal: client wall {med(fr, 0) / med(jr, 0):.3f}, job {med(fr, 1) / med(jr, 1):.3f}, copy {med(fr, 2) / med(jr, 2):.3f}")
PY
