#!/usr/bin/env bash
# nbd-server-rss.sh - peak RSS of `extentflow nbd` against image size and client count.
#
# Every case starts a fresh server (as ./extentflow starts it, with its JVM settings for `nbd`), runs
# ROUNDS rounds of N concurrent nbdcopy clients against it (each client opens as many connections as
# nbdcopy chooses: 4 on a multi-conn export), checks every client exited 0, and reads the server's
# peak RSS (VmHWM) and its RSS after the last round. Cases:
#   read:   a 1 GiB and an 8 GiB qcow2 (the first GiB of sparse-8g.raw, and sparse-8g.qcow2) with
#           1 client; the 1 GiB one with 8 and 32 clients; sparse-8g.raw with 1 and 8 clients
#   write:  nbdcopy of the 1 GiB raw and of sparse-8g.raw into a writable raw export (1 client), and
#           of the 1 GiB raw by 8 clients at once (all into the same export)
# "Flat" means the peak is the same within the noise whatever the size and the number of clients.
#
# Usage: [IMG=/work/images] [ROUNDS=2] [ONLY=REGEX] [WORK=perf/out/nbd-server-rss] perf/nbd-server-rss.sh
# IMG must hold sparse-8g.raw and sparse-8g.qcow2 (perf/lib.sh's images; MAKE_IMAGES builds them).
# EXTENTFLOW_JAVA_OPTS is passed on to the server (e.g. to try other JVM settings). The table goes
# to perf/README.md between the nbd-server-rss markers and to stdout.
set -euo pipefail

PERF_DIR="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
ROOT="$(cd "$PERF_DIR/.." && pwd)"
EXTENTFLOW="$ROOT/extentflow"
IMG="${IMG:-$PERF_DIR/images}"
ROUNDS="${ROUNDS:-2}"
WORK="${WORK:-$PERF_DIR/out/nbd-server-rss}"

die() { echo "$(basename "$0"): $*" >&2; exit 2; }
for t in nbdcopy qemu-img; do
  command -v "$t" >/dev/null || die "needs $t"
done
for f in sparse-8g.raw sparse-8g.qcow2; do
  [ -f "$IMG/$f" ] || die "needs $IMG/$f (set IMG, or run MAKE_IMAGES=... perf/compare-nbd-server.sh once)"
done
"$EXTENTFLOW" --version >/dev/null   # builds samples/target/extentflow.jar if needed
export EXTENTFLOW_NO_BUILD=1
mkdir -p "$WORK"
rm -f "$WORK"/*.sock "$WORK"/target.raw
load_start="$(cut -d' ' -f1 /proc/loadavg)"

# The 1 GiB images: the first GiB of sparse-8g.raw (data and holes alike), and it as qcow2.
small_raw="$WORK/small-1g.raw"
small_qcow2="$WORK/small-1g.qcow2"
if [ ! -f "$small_qcow2" ] || [ "$IMG/sparse-8g.raw" -nt "$small_qcow2" ]; then
  dd if="$IMG/sparse-8g.raw" of="$small_raw" bs=1M count=1024 conv=sparse status=none
  qemu-img convert -f raw -O qcow2 "$small_raw" "$small_qcow2"
fi

SERVER_PID=""
stop_server() {
  if [ -n "$SERVER_PID" ]; then
    kill "$SERVER_PID" 2>/dev/null || true
    wait "$SERVER_PID" 2>/dev/null || true
    SERVER_PID=""
  fi
}
trap stop_server EXIT

ROWS=()
# measure NAME IMAGE_DESCRIPTION CLIENTS SERVER_ARGS... -- CLIENT_ARGS...: one case (see the header);
# each client runs `nbdcopy CLIENT_ARGS` with URI replaced by the export's URI.
measure() {
  local name="$1" what="$2" clients="$3"
  shift 3
  if [ -n "${ONLY:-}" ] && ! [[ "$name" =~ $ONLY ]]; then
    return 0
  fi
  local server_args=() client_args=()
  while [ "$1" != -- ]; do server_args+=("$1"); shift; done
  shift
  client_args=("$@")
  local sock="$WORK/$name.sock" uri
  uri="nbd+unix:///?socket=$sock"
  echo "== $name: $what, $clients client(s), $ROUNDS round(s)" >&2
  # room for every client's 4 connections: the bound under test is the byte budget, not --shared
  "$EXTENTFLOW" nbd "${server_args[@]}" --socket "$sock" --shared $((clients * 4 + 4)) \
      >"$WORK/$name.server.log" 2>&1 &
  SERVER_PID=$!
  local i
  for i in $(seq 300); do [ -S "$sock" ] && break; sleep 0.1; done
  [ -S "$sock" ] || die "$name: the server did not start (see $WORK/$name.server.log)"
  local start_kb
  start_kb="$(awk '/VmRSS/ {print $2}' "/proc/$SERVER_PID/status")"
  local began failed=0 round c pids
  began="$(date +%s.%N)"
  for round in $(seq "$ROUNDS"); do
    pids=()
    for c in $(seq "$clients"); do
      nbdcopy "${client_args[@]/URI/$uri}" >"$WORK/$name.client-$c.log" 2>&1 &
      pids+=($!)
    done
    for c in "${pids[@]}"; do wait "$c" || failed=1; done
  done
  local seconds hwm_kb end_kb
  seconds="$(echo "$(date +%s.%N) - $began" | bc)"
  hwm_kb="$(awk '/VmHWM/ {print $2}' "/proc/$SERVER_PID/status")"
  end_kb="$(awk '/VmRSS/ {print $2}' "/proc/$SERVER_PID/status")"
  stop_server
  [ "$failed" = 0 ] || die "$name: a client failed (see $WORK/$name.client-*.log)"
  ROWS+=("| $name | $what | $clients | $((start_kb / 1024)) | $((hwm_kb / 1024)) | $((end_kb / 1024)) | $(printf %.1f "$seconds") |")
  echo "   peak RSS $((hwm_kb / 1024)) MiB (start $((start_kb / 1024)), end $((end_kb / 1024))), ${seconds%.*} s" >&2
}

target="$WORK/target.raw"
writable() { rm -f "$target"; truncate -s "$1" "$target"; }

measure read-1g-1 "1 GiB qcow2, read" 1 "$small_qcow2" --read-only -- URI null:
measure read-8g-1 "8 GiB qcow2, read" 1 "$IMG/sparse-8g.qcow2" --read-only -- URI null:
measure read-1g-8 "1 GiB qcow2, read" 8 "$small_qcow2" --read-only -- URI null:
measure read-1g-32 "1 GiB qcow2, read" 32 "$small_qcow2" --read-only -- URI null:
measure raw-8g-1 "8 GiB raw, read" 1 "$IMG/sparse-8g.raw" --read-only -- URI null:
measure raw-8g-8 "8 GiB raw, read" 8 "$IMG/sparse-8g.raw" --read-only -- URI null:
writable 1G
measure write-1g-1 "1 GiB raw, write" 1 "$target" -- "$small_raw" URI
writable 8G
measure write-8g-1 "8 GiB raw, write" 1 "$target" -- "$IMG/sparse-8g.raw" URI
writable 1G
measure write-1g-8 "1 GiB raw, write" 8 "$target" -- "$small_raw" URI
rm -f "$target"

load_end="$(cut -d' ' -f1 /proc/loadavg)"
table="$(
  echo "### Peak RSS of \`extentflow nbd\` by image size and client count"
  echo
  echo "\`perf/nbd-server-rss.sh\`, $(date -u '+%Y-%m-%d %H:%M') UTC, $(nproc) CPUs, $ROUNDS rounds per case, a fresh"
  echo "server per case${EXTENTFLOW_JAVA_OPTS:+ (EXTENTFLOW_JAVA_OPTS=$EXTENTFLOW_JAVA_OPTS)}. Load average (1 min) at the start $load_start, at the end $load_end."
  echo "RSS in MiB: at start (listening), peak (VmHWM), after the last round; time for all rounds."
  echo
  echo "| case | image | clients | start | peak | end | s |"
  echo "|---|---|---:|---:|---:|---:|---:|"
  printf '%s\n' "${ROWS[@]}"
)"
echo "$table"

python3 - "$PERF_DIR/README.md" "$table" <<'PY'
import os, sys
readme, table = sys.argv[1], sys.argv[2]
sys.path.insert(0, os.path.dirname(readme))
from put_section import put
put(readme, "nbd-server-rss", table)
PY
