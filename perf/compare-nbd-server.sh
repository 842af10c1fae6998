#!/usr/bin/env bash
# compare-nbd-server.sh - extentflow's NBD server against qemu-nbd and nbdkit, nbdcopy as the client:
#   sparse-8g.qcow2 read:  extentflow nbd (read-only) vs qemu-nbd -r
#   sparse-8g.raw read:    extentflow nbd (read-only) vs nbdkit file
#   writes:                nbdcopy sparse-8g.raw into each server's writable raw export
#                          (extentflow nbd, by default and with --keep-cache, vs qemu-nbd, an
#                          emptied 8 GiB file before every run)
#   block status:          nbdinfo --map of empty-1t.qcow2, extentflow nbd vs qemu-nbd
# Every server is a long-lived process started once on a Unix socket in perf/out/ (warmed up before
# the timed runs: the JVM is measured as it runs in production) and stopped when the script exits.
# The servers' own peak RSS (VmHWM) is printed at the end and goes into the report's note, as does
# each server's CPU per client run (user+system from /proc/PID/stat around its pair): unlike wall
# time, that figure holds on a busy machine.
# Results go to perf/README.md. Usage: [RUNS=5] perf/compare-nbd-server.sh
source "$(dirname "$0")/lib.sh"

perf_init
require qemu-nbd nbdkit nbdcopy nbdinfo
make_images abd

SOCKS="$PERF_DIR/out/nbd-server"
mkdir -p "$SOCKS"
rm -f "$SOCKS"/*.sock
raw="$IMG/sparse-8g.raw"
qcow2="$IMG/sparse-8g.qcow2"
empty="$IMG/empty-1t.qcow2"
dst="$OUT/nbd-server-copy.raw"
target="$OUT/nbd-server-target.raw"
# the same writes with --keep-cache (qemu-nbd's way: no writeback window) into a file of their own
target_kept="$OUT/nbd-server-target-kept.raw"
rm -f "$target" "$target_kept"
truncate -s 8G "$target"
truncate -s 8G "$target_kept"

# serve_ours NAME ARGS...: extentflow nbd on $SOCKS/NAME.sock, its pid in OURS[NAME]
declare -A OURS
serve_ours() {
  local name="$1"
  shift
  start_bg "$EXTENTFLOW" nbd "$@" --socket "$SOCKS/$name.sock"
  OURS[$name]=$!
  wait_for test -S "$SOCKS/$name.sock"
}
serve_ours qcow2 "$qcow2" --read-only
serve_ours raw "$raw" --read-only
serve_ours empty "$empty" --read-only
serve_ours writable "$target"
serve_ours writable-kept "$target_kept" --keep-cache
declare -A THEIRS
start_bg qemu-nbd -t -r -e 8 -f qcow2 -k "$SOCKS/qemu-qcow2.sock" "$qcow2"
THEIRS[qemu-qcow2]=$!
start_bg qemu-nbd -t -e 8 -f raw -k "$SOCKS/qemu-writable.sock" "$target"
THEIRS[qemu-writable]=$!
start_bg qemu-nbd -t -r -e 8 -f qcow2 -k "$SOCKS/qemu-empty.sock" "$empty"
THEIRS[qemu-empty]=$!
start_bg nbdkit -f -U "$SOCKS/nbdkit-raw.sock" file "$raw"
THEIRS[nbdkit-raw]=$!
for s in qemu-qcow2 qemu-writable qemu-empty nbdkit-raw; do wait_for test -S "$SOCKS/$s.sock"; done
uri() { echo "nbd+unix:///?socket=$SOCKS/$1.sock"; }

# A map is some 257 small requests: 3 of them leave the server's block-status path interpreted or
# lightly compiled (its CPU per map fell from 25 ms to 5 ms over the first 30 maps), so maps get 100
# untimed runs: a long-lived server answers many.
for s in qcow2 raw; do warm_server nbdinfo --map "$(uri "$s")"; done
WARMUP=100 warm_server nbdinfo --map "$(uri empty)"
WARMUP=100 warm_server nbdinfo --map "$(uri qemu-empty)"
# A map is also one connection, and the server's per-connection code (accept, the channel's set-up in
# Netty and Reactor Netty, the handshake) runs once per connection: after the 100 maps above it was
# still interpreted (no JIT code for it), about 1 ms of every map. A long-lived server has served
# many connections: 1000 more, untimed, to each map server (some 5 s each).
WARMUP=1000 warm_server nbdinfo --size "$(uri empty)"
WARMUP=1000 warm_server nbdinfo --size "$(uri qemu-empty)"
warm_server nbdcopy "$(uri qcow2)" null:
warm_server nbdcopy "$(uri raw)" null:
warm_server nbdcopy "$raw" "$(uri writable)"
warm_server nbdcopy "$raw" "$(uri writable-kept)"

# server_cpu PID: its user+system seconds so far
TICKS="$(getconf CLK_TCK)"
server_cpu() { awk -v t="$TICKS" '{printf "%.3f", ($14 + $15) / t}' "/proc/$1/stat"; }
# cpu_pair PID_A PID_B PAIR...: perf_pair PAIR, then each server's CPU per client run into CPU_NOTE
# (a pair runs each case RUNS times, plus a warm-up and the peak-RSS run)
CPU_NOTE=""
cpu_pair() {
  local a="$1" b="$2"
  shift 2
  cpu_group "$a $b" "$@"
}
# cpu_group "PID..." NAME PREPARE COMMAND...: perf_group of the cases (one server PID per case, in
# order), run when ONLY matches the second name as perf_pair does, and each server's CPU per client run
cpu_group() {
  local pids=($1) before=() i=0 k
  shift
  if [ -n "${ONLY:-}" ] && ! [[ "$4" =~ $ONLY ]]; then
    return 0
  fi
  for k in "${pids[@]}"; do before+=("$(server_cpu "$k")"); done
  perf_group "$@"
  for k in "${pids[@]}"; do
    CPU_NOTE="$CPU_NOTE $(awk -v x="${before[i]}" -v y="$(server_cpu "$k")" -v n="$((RUNS + 2))" \
      -v c="${@:$((3 * i + 1)):1}" 'BEGIN {printf "%s %.2f s,", c, (y - x) / n}')"
    i=$((i + 1))
  done
  CPU_NOTE="${CPU_NOTE%,};"
}

cpu_pair "${THEIRS[qemu-qcow2]}" "${OURS[qcow2]}" \
  qemu-nbd-qcow2-to-file "rm -f $dst; $WARM $qcow2" "nbdcopy $(uri qemu-qcow2) $dst" \
  extentflow-nbd-qcow2-to-file "rm -f $dst; $WARM $qcow2" "nbdcopy $(uri qcow2) $dst"
cpu_pair "${THEIRS[nbdkit-raw]}" "${OURS[raw]}" \
  nbdkit-file-raw-to-file "rm -f $dst; $WARM $raw" "nbdcopy $(uri nbdkit-raw) $dst" \
  extentflow-nbd-raw-to-file "rm -f $dst; $WARM $raw" "nbdcopy $(uri raw) $dst"
# the target keeps its size (the servers hold it open); punching it empty drops the last run's data
empty_target="fallocate -p -o 0 -l 8G $target; $WARM $raw"
cpu_group "${THEIRS[qemu-writable]} ${OURS[writable]} ${OURS[writable-kept]}" \
  qemu-nbd-raw-writes "$empty_target" "nbdcopy $raw $(uri qemu-writable)" \
  extentflow-nbd-raw-writes "$empty_target" "nbdcopy $raw $(uri writable)" \
  extentflow-nbd-raw-writes-keep-cache "fallocate -p -o 0 -l 8G $target_kept; $WARM $raw" \
  "nbdcopy $raw $(uri writable-kept)"
cpu_pair "${THEIRS[qemu-empty]}" "${OURS[empty]}" \
  qemu-nbd-map-empty-1t "true" "nbdinfo --map $(uri qemu-empty)" \
  extentflow-nbd-map-empty-1t "true" "nbdinfo --map $(uri empty)"
rm -f "$dst"

rss=""
for s in qcow2 raw empty writable writable-kept; do
  kb="$(awk '/VmHWM/ {print $2}' "/proc/${OURS[$s]}/status" 2>/dev/null || echo '?')"
  rss="$rss $s: $((kb / 1024)) MiB;"
done
echo "extentflow nbd servers' peak RSS:$rss" >&2
echo "servers' CPU per client run:$CPU_NOTE" >&2

perf_report compare-nbd-server "extentflow nbd against qemu-nbd and nbdkit (nbdcopy and nbdinfo as clients, Unix sockets)" \
  "Servers run for the whole script (warmed up with 3 untimed runs each; the map servers with 100 maps and 1000 connections); times are the client's wall clock, peak RSS the client's. The extentflow servers' own peak RSS (VmHWM) after all runs:$rss Reads go to a new file (nbdcopy's default: no flush); writes go into an 8 GiB raw file emptied (holes punched) before every run, by extentflow through its writeback window (at most 32 MiB dirty, written back as it goes; the default) and with --keep-cache left in the page cache, as qemu-nbd leaves them. Each server's CPU (user+system) per client run:$CPU_NOTE"
