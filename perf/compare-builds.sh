#!/usr/bin/env bash
# compare-builds.sh - this checkout's extentflow against another build of it, side by side: the
# copies of compare-nbd.sh (qemu-nbd → file, nbdkit sparse-random → file, file → nbdkit memory),
# a local raw → raw copy and a checksum, each case alternating the two builds run by run. It answers
# "did this change cost speed?" with both builds measured in the same minutes.
#
# Usage: BASE=/path/to/other/checkout/extentflow [RUNS=5] [IMG=...] perf/compare-builds.sh
#   BASE is the other checkout's launcher (e.g. a `git worktree add ../base main` of the previous
#   main); it builds its own jar once, before the timed runs.
source "$(dirname "$0")/lib.sh"

[ -n "${BASE:-}" ] && [ -x "$BASE" ] || die "set BASE to the other checkout's extentflow launcher"
perf_init
EXTENTFLOW_NO_BUILD= "$BASE" --version >/dev/null   # builds the other jar now, not inside a timed run
require qemu-nbd nbdkit
make_images a

SOCKS="$PERF_DIR/out/builds"
src="$IMG/sparse-8g.raw"
dst="$OUT/builds.raw"
start_nbd_sources "$SOCKS" "$src"

# both builds' cases of one copy, alternated: pair NAME PREPARE ARGS...
pair() {
  local name="$1" prepare="$2"
  shift 2
  perf_pair "base-$name" "$prepare" "$BASE $*" "this-$name" "$prepare" "$EXTENTFLOW $*"
}

qemu_uri="nbd+unix:///?socket=$SOCKS/qemu.sock"
pair qemu-nbd-to-file "rm -f $dst; $WARM $src" copy --no-progress --no-flush "$qemu_uri" "$dst"
random_uri="nbd+unix:///?socket=$SOCKS/random.sock"
pair nbdkit-sparse-random-to-file "rm -f $dst" copy --no-progress --no-flush "$random_uri" "$dst"

memory_prep="$(memory_restarter "$SOCKS" "$src")"
pair file-to-nbdkit-memory "$memory_prep" copy --no-progress --no-flush "$src" \
  "nbd+unix:///?socket=$SOCKS/memory.sock"
pair file-to-file "rm -f $dst; $WARM $src" copy --no-progress "$src" "$dst"
pair checksum "$WARM $src" checksum "$src"
rm -f "$dst"

perf_report compare-builds "This build against another (BASE), the same copies alternated" \
  "Each pair runs the other build (base-*) and this one (this-*) alternately; ratio = this / base. NBD copies as in compare-nbd.sh (no flush), the file copy with its final flush, the checksum of a warm sparse-8g.raw."
