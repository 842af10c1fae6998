#!/usr/bin/env bash
# rounds-nbd.sh - NBD copies in alternated rounds, for differences smaller than the VM's drift
# (between clients, or client settings): every run gets a freshly started server, and the variants
# take turns, so a drift of the VM's speed hits all of them alike. Prints one line per run and then
# the medians.
#
#   [ROUNDS=12] [SERVER=memory|qemu-nbd|sparse-random|qemu-nbd-read] perf/rounds-nbd.sh VARIANT...
#
# A VARIANT is NAME or NAME=ARGS: names starting with "nbdcopy" run nbdcopy with ARGS, the others
# `extentflow copy --no-progress --no-flush ARGS`. Example (perf/README.md, "Writing to NBD"):
#
#   perf/rounds-nbd.sh nbdcopy ef-512k='--request-size 512k' ef-1m ef-2conn='--connections 2'
#
# Writes (file → NBD) copy sparse-8g.raw (2 GiB of data): SERVER=memory into `nbdkit memory 8G`,
# SERVER=qemu-nbd into a new sparse 8 GiB file served by qemu-nbd. Reads (NBD → a new file):
# SERVER=sparse-random from `nbdkit sparse-random 8G seed=42`, SERVER=qemu-nbd-read from qemu-nbd serving
# sparse-8g.raw read-only, as in compare-nbd.sh. Before each run: stop the old server, delete the
# old output, start a new server, read sparse-8g.raw's data into the page cache, wait SETTLE
# seconds (see lib.sh). A first round is untimed (a warm-up, as hyperfine's: the first copy of a
# kind trains the launcher's cache). Each line: name, wall s, client user+sys s, client peak RSS
# KiB, server CPU s, server minor page faults (from /proc/PID/stat, before and after the run).
source "$(dirname "$0")/lib.sh"

ROUNDS="${ROUNDS:-12}"
SERVER="${SERVER:-memory}"
[ $# -gt 0 ] || die "usage: [ROUNDS=12] [SERVER=memory|qemu-nbd] $0 VARIANT..."

perf_init
require nbdkit nbdcopy qemu-nbd
make_images a

src="$IMG/sparse-8g.raw"
SOCKS="$PERF_DIR/out/rounds"
sock="$SOCKS/server.sock"
pidfile="$SOCKS/server.pid"
target="$OUT/rounds-target.raw"   # what qemu-nbd serves as a write target
copy="$OUT/rounds-copy.raw"       # where reads go
uri="nbd+unix:///?socket=$sock"
mkdir -p "$SOCKS"

stop_server() {
  if [ -f "$pidfile" ]; then
    local pid
    pid="$(cat "$pidfile")"
    kill "$pid" 2>/dev/null || true
    while kill -0 "$pid" 2>/dev/null; do sleep 0.05; done
  fi
  rm -f "$sock" "$pidfile" "$target" "$copy"
}
trap stop_server EXIT

start_server() {
  stop_server
  case "$SERVER" in
    memory) nbdkit -U "$sock" -P "$pidfile" memory 8G ;;
    qemu-nbd)
      truncate -s 8G "$target"
      qemu-nbd -t -f raw -k "$sock" --pid-file="$pidfile" "$target" &
      ;;
    # a fixed seed: nbdkit's default is the time, so every fresh server would serve another
    # amount of data (659 MiB to 1.03 GiB seen) and rounds would compare different copies
    sparse-random) nbdkit -U "$sock" -P "$pidfile" sparse-random 8G seed=42 ;;
    qemu-nbd-read) qemu-nbd -t -r -f raw -k "$sock" --pid-file="$pidfile" "$src" & ;;
    *) die "SERVER is memory, qemu-nbd, sparse-random or qemu-nbd-read, not $SERVER" ;;
  esac
  wait_for test -S "$sock"
  wait_for test -s "$pidfile"
  $WARM "$src"
  sleep "$SETTLE"
}

# utime+stime (clock ticks) and minor faults of a process
server_stat() { awk '{print $14 + $15, $10}' "/proc/$1/stat"; }

results="$RESULTS/rounds-$SERVER.txt"
ticks="$(getconf CLK_TCK)"   # /proc's CPU times are in clock ticks
: > "$results"
# round 0: the untimed warm-up
for round in $(seq 0 "$ROUNDS"); do
  for variant in "$@"; do
    name="${variant%%=*}"
    args=""
    [ "$name" != "$variant" ] && args="${variant#*=}"
    start_server
    pid="$(cat "$pidfile")"
    read -r cpu0 faults0 < <(server_stat "$pid")
    from="$src" to="$uri"
    case "$SERVER" in sparse-random|qemu-nbd-read) from="$uri" to="$copy" ;; esac
    if [[ "$name" == nbdcopy* ]]; then
      cmd=(nbdcopy $args "$from" "$to")
    else
      cmd=("$EXTENTFLOW" copy --no-progress --no-flush $args "$from" "$to")
    fi
    /usr/bin/time -f "%e %U %S %M" -o "$RESULTS/time" "${cmd[@]}" > /dev/null \
      || die "round $round, $name failed: ${cmd[*]}"
    read -r cpu1 faults1 < <(server_stat "$pid")
    read -r wall user sys rss < "$RESULTS/time"
    line="$(python3 -c "print('$name', $wall, round($user + $sys, 2), $rss, round(($cpu1 - $cpu0) / $ticks, 2), $faults1 - $faults0)")"
    if [ "$round" -gt 0 ]; then echo "$line" | tee -a "$results"; fi
  done
done

python3 - "$results" "${1%%=*}" <<'PY'
import statistics, sys
rows = [line.split() for line in open(sys.argv[1])]
reference = sys.argv[2]
runs = {}
for name, wall, cpu, rss, server_cpu, faults in rows:
    runs.setdefault(name, []).append((float(wall), float(cpu), float(server_cpu), int(faults)))
print(f"\nmedians over {len(runs[reference])} rounds; ratio = median of the per-round ratios to {reference}")
print("| variant | wall s | ratio | rounds faster | client CPU s | server CPU s | server faults |")
print("|---|---:|---:|---:|---:|---:|---:|")
for name, r in runs.items():
    ratios = [a[0] / b[0] for a, b in zip(r, runs[reference])]
    faster = "" if name == reference else f"{sum(1 for x in ratios if x < 1)} of {len(ratios)}"
    med = lambda i: statistics.median(x[i] for x in r)
    print(f"| {name} | {med(0):.2f} | {statistics.median(ratios):.3f} | {faster} "
          f"| {med(1):.2f} | {med(2):.2f} | {int(med(3))} |")
PY
