#!/usr/bin/env bash
# memory.sh - peak RSS of extentflow's copies at the default settings, beside the peer tool's, for
# every row of the comparison tables (local raw/qcow2 → raw, NBD → file, a copy to stdout).
#
# Each row runs RUNS times (default 3) after one warm-up, extentflow and the peer alternated, each run
# under GNU time after a prepare step (drop the target, warm the source's data, SETTLE seconds of rest; see
# lib.sh). Reported: median wall time and the highest peak RSS of the runs. With BASE=DIR (another
# extentflow source tree, built) a third column runs that build too, alternated with this one: the
# before/after of a change to the launcher or the defaults.
#
# Usage: [RUNS=3] [ONLY=REGEX] [BASE=DIR] IMG=... MAKE_IMAGES=... perf/memory.sh
# ONLY keeps the rows whose name matches. The nbdkit sparse-random row takes over a minute per run.
# The table goes into perf/README.md between the "memory" markers, and is printed.
source "$(dirname "$0")/lib.sh"

RUNS="${RUNS:-3}"
perf_init
require qemu-img qemu-nbd nbdkit nbdcopy
make_images abcde
if [ -n "${BASE:-}" ]; then
  [ -x "$BASE/extentflow" ] || die "BASE=$BASE has no ./extentflow launcher"
  "$BASE/extentflow" --version >/dev/null
fi

dst="${DST:-$OUT/memory.raw}"   # DST: put the target elsewhere (on another file system)
SOCKS="$PERF_DIR/out/memory-nbd"
mkdir -p "$SOCKS"
rm -f "$SOCKS"/*.sock
start_bg qemu-nbd -t -r -f qcow2 -k "$SOCKS/qcow2.sock" "$IMG/sparse-8g.qcow2"
start_bg qemu-nbd -t -r -f raw -k "$SOCKS/frag.sock" "$IMG/frag-4g.raw"
start_bg nbdkit -f -U "$SOCKS/random.sock" sparse-random 3G runlength=1000 percent=20 seed=42
for s in qcow2 frag random; do wait_for test -S "$SOCKS/$s.sock"; done
uri() { echo "nbd+unix:///?socket=$SOCKS/$1.sock"; }

ROWS=()
# row NAME WARM-FILE EXTENTFLOW-ARGS PEER-COMMAND: extentflow-args are those of `extentflow copy`
# (the target is $dst); a command ending in "> /dev/null" runs in a shell.
row() {
  if [ -n "${ONLY:-}" ] && ! [[ "$1" =~ $ONLY ]]; then
    return 0
  fi
  printf '%s\t%s\t%s\t%s\n' "$1" "$2" "$3" "$4" >> "$RESULTS/rows.tsv"
  ROWS+=("$1")
}
: > "$RESULTS/rows.tsv"
row sparse-8g.raw-to-raw "$IMG/sparse-8g.raw" "$IMG/sparse-8g.raw $dst" \
  "qemu-img convert -O raw $IMG/sparse-8g.raw $dst"
row sparse-8g.qcow2-to-raw "$IMG/sparse-8g.qcow2" "$IMG/sparse-8g.qcow2 $dst" \
  "qemu-img convert -m 16 -O raw $IMG/sparse-8g.qcow2 $dst"
row zlib.qcow2-to-raw "$IMG/sparse-8g-zlib.qcow2" "$IMG/sparse-8g-zlib.qcow2 $dst" \
  "qemu-img convert -m 16 -O raw $IMG/sparse-8g-zlib.qcow2 $dst"
row empty-1t.qcow2-to-raw "$IMG/empty-1t.qcow2" "$IMG/empty-1t.qcow2 $dst" \
  "qemu-img convert -O raw $IMG/empty-1t.qcow2 $dst"
row frag-4g.raw-to-raw "$IMG/frag-4g.raw" "$IMG/frag-4g.raw $dst" \
  "qemu-img convert -O raw $IMG/frag-4g.raw $dst"
row frag-4g.raw-to-stdout "$IMG/frag-4g.raw" "$IMG/frag-4g.raw - > /dev/null" \
  "cat $IMG/frag-4g.raw > /dev/null"
row qemu-nbd-qcow2-to-file "$IMG/sparse-8g.qcow2" "$(uri qcow2) $dst" "nbdcopy $(uri qcow2) $dst"
row qemu-nbd-frag-to-file "$IMG/frag-4g.raw" "$(uri frag) $dst" "nbdcopy $(uri frag) $dst"
row nbdkit-sparse-random-to-file "" "$(uri random) $dst" "nbdcopy $(uri random) $dst"

# one_run LABEL WARM COMMAND: a prepared run under GNU time; appends "wall rss_kib" to LABEL's file.
one_run() {
  local label="$1" warm="$2" command="$3"
  rm -f "$dst"
  [ -n "$warm" ] && $WARM "$warm"
  sleep "$SETTLE"
  if ! /usr/bin/time -f '%e %M' -o "$RESULTS/$label.last" bash -c "exec $command" >/dev/null 2>"$RESULTS/$label.err"; then
    echo "warning: $label failed: $(tail -n 1 "$RESULTS/$label.err")" >&2
    echo "failed" >> "$RESULTS/$label.runs"
    return 0
  fi
  cat "$RESULTS/$label.last" >> "$RESULTS/$label.runs"
}

while IFS=$'\t' read -r name warm args peer; do
  echo "== $name" >&2
  tools=(this peer)
  [ -n "${BASE:-}" ] && tools=(base this peer)
  for i in $(seq 0 "$RUNS"); do   # run 0 is the warm-up (it also trains a start-up cache), not kept
    for t in "${tools[@]}"; do
      label="$name.$t"
      [ "$i" = 0 ] && label="$name.$t.warm-up"
      case "$t" in
        this) one_run "$label" "$warm" "$EXTENTFLOW copy --no-progress $args" ;;
        base) one_run "$label" "$warm" "$BASE/extentflow copy --no-progress $args" ;;
        peer) one_run "$label" "$warm" "$peer" ;;
      esac
    done
  done
done < "$RESULTS/rows.tsv"
rm -f "$dst"

BASE="${BASE:-}" python3 - "$RESULTS" "$PERF_DIR/README.md" "$RUNS" "$ROOT" "$IMG" <<'PY'
import datetime, os, statistics, sys
results, readme, runs, root, img = sys.argv[1:6]
base = os.environ.get("BASE")
def cell(label):
    try:
        lines = open(os.path.join(results, label + ".runs")).read().split("\n")
    except OSError:
        return "", ""
    ok = [l.split() for l in lines if l and l != "failed"]
    if len(ok) < len([l for l in lines if l]):
        return "failed", ""
    return f"{statistics.median(float(w) for w, _ in ok):.2f}", f"{max(int(r) for _, r in ok) / 1024:.0f}"
load_start = open(os.path.join(results, "load-start")).read().strip()
load_end = open("/proc/loadavg").read().split()[0]
head = ["### Peak RSS at the default settings", "",
        f"`perf/memory.sh`, {datetime.datetime.now(datetime.timezone.utc):%Y-%m-%d %H:%M} UTC, {os.cpu_count()} CPUs, "
        f"{runs} runs per tool and row, alternated; median wall time, highest peak RSS (GNU time) of the runs. "
        f"Load average (1 min) at the start {load_start}, at the end {load_end}.", ""]
cols = (["base s", "base RSS MiB"] if base else []) + ["extentflow s", "extentflow RSS MiB", "peer s", "peer RSS MiB", "peer"]
rows = ["| row | " + " | ".join(cols) + " |", "|---|" + "---:|" * (len(cols) - 1) + "---|"]
for line in open(os.path.join(results, "rows.tsv")):
    name, _, _, peer = line.rstrip("\n").split("\t")
    cells = (list(cell(name + ".base")) if base else []) + list(cell(name + ".this")) + list(cell(name + ".peer"))
    peer = peer.replace(img + "/", "$IMG/").replace(root + "/", "./")
    rows.append(f"| {name} | " + " | ".join(cells) + f" | `{peer.split(' ')[0]}` |")
table = "\n".join(head + rows)
print(table)
sys.path.insert(0, os.path.dirname(readme))
from put_section import put
put(readme, "memory", table)
PY
