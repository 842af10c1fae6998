# perf/lib.sh - shared pieces of the perf scripts (compare-*.sh, rounds-nbd.sh, soak-http-stream.sh).
# Source it; do not run it.
#
# A comparison is a list of cases. Each case is timed with hyperfine (-N, 1 warm-up, $RUNS runs;
# `perf_pair` alternates the runs of two cases) with a prepare step before every run (drop the previous output, warm the source's data into the
# page cache, restart a destination server...), then run once more under /usr/bin/time -v for its
# peak RSS. `perf_report` writes a markdown table (median, min, max, ratio to the reference case,
# CPU, peak RSS) into perf/README.md between markers named after the script.
#
# Environment: RUNS (default 5), IMG (image dir, default perf/images), MAKE_IMAGES (path of
# make-images.sh, required: it builds the images into IMG), OUT (where copies are written,
# default IMG/out), SETTLE (seconds to wait
# at the end of every prepare step, default 3, see below).
#
# Why SETTLE: on this VM free-page reporting hands memory freed by the prepare step (the deleted
# output) back to the hypervisor about 2 s later; writing into such pages costs 2-3x more. A tool
# that starts writing within milliseconds of the prepare step (qemu-img, cp) still gets the warm
# pages, one that starts 0.3-0.5 s later (a JVM) partly does not. Measured: qemu-img convert of
# sparse-8g.raw took 0.68 s right after the prepare step and 2.09 s after a 3 s pause. Waiting
# SETTLE seconds puts every tool in the same, settled state (SETTLE=0 for the old behaviour).

set -euo pipefail

PERF_DIR="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
ROOT="$(cd "$PERF_DIR/.." && pwd)"
IMG="${IMG:-$PERF_DIR/images}"
OUT="${OUT:-$IMG/out}"   # outputs; OUT=DIR keeps them out of a read-only image folder
RUNS="${RUNS:-5}"
SETTLE="${SETTLE:-3}"
PERF_SCRIPT="${PERF_SCRIPT:-$(basename "$0" .sh)}"
RESULTS="$PERF_DIR/out/results-$PERF_SCRIPT"
EXTENTFLOW="$ROOT/extentflow"
CASES=()

die() { echo "$(basename "$0"): $*" >&2; exit 1; }

# Checks the tools every comparison needs, builds the extentflow jar, clears old results.
perf_init() {
  command -v hyperfine >/dev/null || die "needs hyperfine (Debian: apt-get install -y hyperfine)"
  command -v python3 >/dev/null || die "needs python3"
  if [ ! -x /usr/bin/time ]; then
    if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null; then
      echo "installing GNU time for peak RSS (apt-get install -y time)" >&2
      apt-get install -y -qq time >/dev/null || die "cannot install GNU time: apt-get install -y time"
    else
      die "needs GNU time for peak RSS: apt-get install -y time"
    fi
  fi
  "$EXTENTFLOW" --version >/dev/null   # builds samples/target/extentflow.jar if needed
  export EXTENTFLOW_NO_BUILD=1          # and never again during the timed runs
  mkdir -p "$IMG" "$OUT"
  rm -rf "$RESULTS"
  mkdir -p "$RESULTS"
  cut -d' ' -f1 /proc/loadavg > "$RESULTS/load-start"
}

# The JMH jar also holds PlainCopy, the plain-JVM baseline; builds it if missing. Sets PLAIN_COPY.
JDK_HOME="${JAVA_HOME:-/usr/lib/jvm/temurin-25-jdk-amd64}"
perf_jar() {
  local jar="$PERF_DIR/target/benchmarks.jar"
  if [ ! -f "$jar" ]; then
    (cd "$ROOT" && JAVA_HOME="$JDK_HOME" PATH="$JDK_HOME/bin:$PATH" mvn -B -q -DskipTests -pl perf -am package >&2) \
      || die "cannot build perf/target/benchmarks.jar"
  fi
  PLAIN_COPY="$JDK_HOME/bin/java --enable-native-access=ALL-UNNAMED -cp $jar io.extentflow.perf.PlainCopy"
}

# Needs these programs (fails with the Debian package to install).
require() {
  local t
  for t in "$@"; do
    command -v "$t" >/dev/null || die "needs $t (Debian: apt-get install -y $(pkg_of "$t"))"
  done
}

pkg_of() {
  case "$1" in
    qemu-img|qemu-nbd|qemu-io) echo qemu-utils ;;
    nbdcopy|nbdinfo) echo libnbd-bin ;;
    *) echo "$1" ;;
  esac
}

# make_images LIST: builds the named standard images (a..e, see make-images.sh) into $IMG.
make_images() {
  [ -n "${MAKE_IMAGES:-}" ] || die "set MAKE_IMAGES=/path/to/make-images.sh, the generator of the standard images"
  [ -x "$MAKE_IMAGES" ] || die "MAKE_IMAGES=$MAKE_IMAGES is not an executable file"
  "$MAKE_IMAGES" -o "$1" "$IMG" >&2
}

# empty_raw NAME SIZE: a sparse raw file with nothing allocated.
empty_raw() {
  [ -f "$IMG/$1" ] || truncate -s "$2" "$IMG/$1"
}

# warm FILE...: reads the data extents of the files into page cache (not their holes).
WARM="python3 $PERF_DIR/warm.py"

# $THEN_SYNC FILE COMMAND...: COMMAND, then `sync FILE`: a peer's durable mode (see then-sync.sh).
# Every comparison reports two modes: durable (extentflow's default, which flushes, against the peer
# followed by a sync of its target, or the peer's own direct mode such as qemu-img -t none) and
# fast-return (extentflow --no-flush against the peer as it is, leaving data in the page cache).
THEN_SYNC="$PERF_DIR/then-sync.sh"

# Servers started in the background by a comparison: `start_bg CMD...` runs CMD and remembers
# it; they are all stopped when the script exits.
BG_PIDS=()
start_bg() { "$@" & BG_PIDS+=($!); }
stop_bg() { local p; for p in "${BG_PIDS[@]}"; do kill "$p" 2>/dev/null || true; done; }
trap stop_bg EXIT

# wait_for CMD...: until CMD succeeds (at most 20 s).
wait_for() {
  local i
  for i in $(seq 200); do "$@" >/dev/null 2>&1 && return 0; sleep 0.1; done
  die "timed out waiting for: $*"
}

# warm_server CMD...: runs CMD (a client of a server this script started) WARMUP times (default 3),
# untimed, so that the server is measured as it runs in production: a long-lived JVM whose code is
# compiled, not one compiling its request path during the timed runs. A failure stops the script.
warm_server() {
  local i
  for i in $(seq "${WARMUP:-3}"); do "$@" >/dev/null || die "server warm-up failed: $*"; done
  sync   # what the warm-up wrote must not be written back during the timed runs
}

# nbd_to_file_modes TAG URI [WARMED-FILE]: one NBD → file case in both modes, as two alternated pairs:
# durable (extentflow copy, which flushes, vs nbdcopy then `sync` of the file) and fast-return
# (--no-flush vs nbdcopy as it is). Writes to $dst; $copy is the extentflow copy command.
nbd_to_file_modes() {
  local tag="$1" uri="$2" prep="rm -f $dst${3:+; $WARM $3}"
  perf_pair "nbdcopy-sync-$tag" "$prep" "$THEN_SYNC $dst nbdcopy $uri $dst" \
    "extentflow-$tag" "$prep" "$copy $uri $dst"
  perf_pair "nbdcopy-$tag" "$prep" "nbdcopy $uri $dst" \
    "extentflow-no-flush-$tag" "$prep" "$copy --no-flush $uri $dst"
}

# serve_read_ticket DIR PORT ID FILE: `extentflow serve` on PORT (control socket and log in DIR) with a
# read ticket ID for FILE, warmed with untimed downloads per extent and as a stream; its URL in URL.
serve_read_ticket() {
  local dir="$1" port="$2" id="$3" file="$4" ctl="$1/control.sock"
  rm -f "$ctl"
  start_bg "$EXTENTFLOW" serve --port "$port" --control-socket "$ctl" >"$dir/serve.log" 2>&1
  wait_for test -S "$ctl"
  "$EXTENTFLOW" ticket add --control-socket "$ctl" --id "$id" --url "file://$file" --size "$(stat -c %s "$file")" \
    --ops read >/dev/null
  URL="http://127.0.0.1:$port/images/$id"
  wait_for curl -sf -X OPTIONS "$URL"
  warm_server "$EXTENTFLOW" copy --no-progress --no-flush "$URL" /dev/null
  warm_server "$EXTENTFLOW" copy --no-progress --no-flush --http-stream "$URL" /dev/null
}

# perf_reference NAME: the case later cases are compared with (ratio column); by default the
# first case after the last perf_reference call.
REFERENCE=""
perf_reference() { REFERENCE="$1"; }

# perf_case NAME PREPARE COMMAND: times COMMAND (run without a shell) $RUNS times, PREPARE (a shell
# command) before each run, then measures its peak RSS once.
perf_case() {
  local name="$1" prepare="$2" command="$3"
  case_begin "$name" "$prepare" "$command" "${REFERENCE:-$name}"
  REFERENCE="${REFERENCE:-$name}"
  if ! hyperfine -N -w 1 -r "$RUNS" --prepare "bash $RESULTS/$name.prepare" \
      --export-json "$RESULTS/$name.json" -n "$name" "$command" >&2; then
    echo "warning: $name failed; it is reported as failed, the other cases go on" >&2
    rm -f "$RESULTS/$name.json"
    return 0
  fi
  case_rss "$name" "$command"
}

# case_begin NAME PREPARE COMMAND REFERENCE: announces a case and records it for the report;
# hyperfine -N runs the prepare step without a shell too (as split words: "rm -f a; b c" would
# remove b and c), so the step goes into a script, $RESULTS/NAME.prepare.
case_begin() {
  echo "== $1: $3" >&2
  printf '#!/usr/bin/env bash\nset -eu\n%s\nsleep %s\n' "$2" "$SETTLE" > "$RESULTS/$1.prepare"
  printf '%s\t%s\t%s\n' "$1" "$4" "$3" >> "$RESULTS/commands.tsv"
  CASES+=("$1")
}

# case_rss NAME COMMAND: one more run, prepared, under /usr/bin/time -v for the peak RSS.
case_rss() {
  bash "$RESULTS/$1.prepare"
  # shellcheck disable=SC2086 # the command is a word list, like hyperfine -N runs it
  /usr/bin/time -v -o "$RESULTS/$1.time" $2 >/dev/null 2>&1 || echo "warning: $1 failed under /usr/bin/time" >&2
}

# perf_pair NAME_A PREPARE_A COMMAND_A NAME_B PREPARE_B COMMAND_B: two cases timed like perf_case,
# but their runs alternate (one warm-up each, then A, B, A, B, ...) and A is B's reference. This
# VM's speed drifts within minutes: timed block by block, all runs of one tool can land in a fast
# spell and all of the other in a slow one; alternated, a drift slows both alike.
perf_pair() {
  # ONLY=REGEX runs just the pairs whose second name matches (e.g. ONLY='frag' to redo those)
  if [ -n "${ONLY:-}" ] && ! [[ "$4" =~ $ONLY ]]; then
    return 0
  fi
  perf_group "$@"
}

# perf_group NAME PREPARE COMMAND [NAME PREPARE COMMAND]...: as perf_pair for any number of cases,
# their runs taken in turn (one round of warm-up, then round after round); the first case is the
# reference of all the others. For ratios to one reference that hold on a busy machine.
perf_group() {
  local names=() prepares=() commands=() i k
  while [ "$#" -ge 3 ]; do
    names+=("$1"); prepares+=("$2"); commands+=("$3")
    shift 3
  done
  perf_reference "${names[0]}"
  for k in "${!names[@]}"; do
    case_begin "${names[k]}" "${prepares[k]}" "${commands[k]}" "${names[0]}"
  done
  for i in $(seq 0 "$RUNS"); do   # run 0 is the warm-up, not kept
    for k in "${!names[@]}"; do
      hyperfine -N -r 1 --prepare "bash $RESULTS/${names[k]}.prepare" \
          --export-json "$RESULTS/${names[k]}.run-$i.json" -n "${names[k]}" "${commands[k]}" >&2 \
        || echo "warning: ${names[k]} failed in run $i; it is reported as failed" >&2
    done
  done
  for k in "${!names[@]}"; do
    merge_runs "${names[k]}"
    case_rss "${names[k]}" "${commands[k]}"
  done
}

# merge_runs NAME: the single-run results of an alternated case ($RESULTS/NAME.run-I.json, I = 1..RUNS)
# as one ($RESULTS/NAME.json), as perf_case leaves it.
merge_runs() {
  python3 - "$RESULTS" "$1" "$RUNS" <<'PY'
import json, os, sys
results, name, runs = sys.argv[1], sys.argv[2], int(sys.argv[3])
files = [os.path.join(results, f"{name}.run-{i}.json") for i in range(1, runs + 1)]
# a failed run leaves no file, or one without results: the case is then reported as failed
try:
    rs = [json.load(open(f))["results"][0] for f in files]
except (OSError, ValueError, KeyError, IndexError):
    rs = None
if rs:
    merged = {"times": [t for r in rs for t in r["times"]],
              "user": sum(r["user"] for r in rs) / len(rs), "system": sum(r["system"] for r in rs) / len(rs)}
    json.dump({"results": [merged]}, open(os.path.join(results, name + ".json"), "w"))
PY
}

# perf_median NAME: the median time of a case already run, in seconds (for notes computed from the results).
perf_median() {
  python3 -c 'import json, statistics, sys; print("%.3f" % statistics.median(json.load(open(sys.argv[1]))["results"][0]["times"]))' \
    "$RESULTS/$1.json" 2>/dev/null || echo nan
}

# perf_report SECTION TITLE [NOTE]: writes the table of this run into perf/README.md, between
# <!-- BEGIN SECTION --> and <!-- END SECTION --> (appended if missing), and prints it.
perf_report() {
  local section="$1" title="$2" note="${3:-}"
  SETTLE="$SETTLE" JDK_HOME="$JDK_HOME" IMG="$IMG" BASE="${BASE:-}" python3 - "$RESULTS" "$PERF_DIR/README.md" "$section" "$title" "$RUNS" "$PERF_SCRIPT.sh" "$note" "$ROOT" <<'PY'
import json, os, re, statistics, sys, datetime
results, readme, section, title, runs, script, note, root = sys.argv[1:9]
cases = []
with open(os.path.join(results, "commands.tsv")) as f:
    for line in f:
        name, reference, command = line.rstrip("\n").split("\t", 2)
        # commands as a reader runs them: paths in the repository relative to it, the JDK as $JAVA_HOME
        command = command.replace(root + "/", "./").replace(os.environ["JDK_HOME"] + "/", "$JAVA_HOME/")
        # the image folder and another build are the reader's own: name them by their variables
        for var in ("IMG", "BASE"):
            if os.environ.get(var):
                command = command.replace(os.environ[var], "$" + var)
        cases.append((name, reference, command))

def load(name):
    with open(os.path.join(results, name + ".json")) as f:
        r = json.load(f)["results"][0]
    rss = None
    try:
        with open(os.path.join(results, name + ".time")) as f:
            m = re.search(r"Maximum resident set size \(kbytes\): (\d+)", f.read())
            rss = int(m.group(1)) / 1024 if m else None
    except OSError:
        pass
    return r, rss

load_start = open(os.path.join(results, "load-start")).read().strip()
load_end = open("/proc/loadavg").read().split()[0]
lines = [f"### {title}", "",
         f"`perf/{script}`, {datetime.datetime.now(datetime.timezone.utc):%Y-%m-%d %H:%M} UTC, "
         f"{os.cpu_count()} CPUs, {runs} runs per case (+1 warm-up), prepare before every run, then "
         f"{os.environ.get('SETTLE', '3')} s of settling (see lib.sh). "
         f"Ratio = median / median of the case named in the ratio column. user+sys = mean CPU per run "
         f"of the client command. Load average (1 min) at the start {load_start}, at the end {load_end}: "
         f"anything well above 0 means other work shared the CPUs and the figures are noisy.", ""]
if note:
    lines += [note, ""]
lines += ["| case | median s | min s | max s | ratio | user+sys s | peak RSS MiB |",
          "|---|---:|---:|---:|---|---:|---:|"]
def median(name):
    return statistics.median(load(name)[0]["times"])

for name, reference, _ in cases:
    if not os.path.exists(os.path.join(results, name + ".json")):
        lines.append(f"| {name} | failed | | | | | |")
        continue
    r, rss = load(name)
    med = statistics.median(r["times"])
    ref = median(reference) if os.path.exists(os.path.join(results, reference + ".json")) else float("nan")
    cpu = (r.get("user") or 0) + (r.get("system") or 0)
    ratio = "1.00" if reference == name else f"{med / ref:.2f} × `{reference}`"
    lines.append(f"| {name} | {med:.3f} | {min(r['times']):.3f} | {max(r['times']):.3f} | "
                 f"{ratio} | {cpu:.3f} | {'' if rss is None else f'{rss:.0f}'} |")
lines += ["", "Commands (prepare steps in the script):", ""]
lines += [f"- `{name}`: `{command}`" for name, _, command in cases]
table = "\n".join(lines)
print(table)

sys.path.insert(0, os.path.dirname(readme))
from put_section import put
put(readme, section, table)
PY
}

# memory_restarter DIR SRC: writes DIR/restart-memory.sh, a prepare step that (re)starts an empty
# `nbdkit memory 8G` on DIR/memory.sock (stopping the previous one) and warms SRC, and prints its
# path. A fresh export before every run: writes into a used one cost the server less than into a
# new one. A script, as hyperfine runs the prepare step in its own shell.
memory_restarter() {
  local dir="$1" src="$2"
  cat > "$dir/restart-memory.sh" <<SH
#!/usr/bin/env bash
set -eu
if [ -f "$dir/memory.pid" ]; then
  pid="\$(cat "$dir/memory.pid")"
  kill "\$pid" 2>/dev/null || true
  while kill -0 "\$pid" 2>/dev/null; do sleep 0.05; done
fi
rm -f "$dir/memory.sock" "$dir/memory.pid"
nbdkit -U "$dir/memory.sock" -P "$dir/memory.pid" memory 8G
while [ ! -S "$dir/memory.sock" ]; do sleep 0.05; done
$WARM "$src"
SH
  chmod +x "$dir/restart-memory.sh"
  echo "$dir/restart-memory.sh"
}

# start_nbd_sources DIR SRC: qemu-nbd serving SRC read-only on DIR/qemu.sock and nbdkit
# sparse-random 8G on DIR/random.sock, with a fixed seed so that every run copies the same data
# (the default seed is the time). They, and a memory export of memory_restarter in DIR, are stopped
# when the script exits.
start_nbd_sources() {
  NBD_DIR="$1"
  mkdir -p "$NBD_DIR"
  trap stop_nbd_servers EXIT
  rm -f "$NBD_DIR/qemu.sock" "$NBD_DIR/random.sock"
  start_bg qemu-nbd -t -r -f raw -k "$NBD_DIR/qemu.sock" "$2"
  start_bg nbdkit -f -U "$NBD_DIR/random.sock" sparse-random 8G seed=42
  wait_for test -S "$NBD_DIR/qemu.sock"
  wait_for test -S "$NBD_DIR/random.sock"
}

stop_nbd_servers() {
  stop_bg
  [ -f "$NBD_DIR/memory.pid" ] && kill "$(cat "$NBD_DIR/memory.pid")" 2>/dev/null || true
  rm -f "$NBD_DIR"/*.sock "$NBD_DIR/memory.pid"
}
