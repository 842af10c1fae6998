#!/usr/bin/env bash
# compare-nbd.sh - NBD copies in both modes (lib.sh): extentflow copy vs nbdcopy.
#   NBD → file: qemu-nbd serving sparse-8g.raw and frag-4g.raw (32,768 data extents of 64 KiB;
#               read-only, one connection each), nbdkit sparse-random 8G seed=42 (random data in
#               sparse runs, generated on the fly), and nbdkit sparse-random size=3G runlength=1000
#               percent=20 (tiny runs: about 160,000 extents of 4 KiB);
#               durable: extentflow copy (flushes) vs nbdcopy then sync of the target;
#               fast-return: extentflow copy --no-flush vs nbdcopy as it is, and --no-flush
#               --direct vs --no-flush (which write path wins here without a flush);
#   file → NBD: sparse-8g.raw into a fresh nbdkit memory 8G before every run (one mode: the target is
#               memory, a flush there is a no-op).
# Servers listen on Unix sockets in perf/out/; the script stops the ones it started.
# Results go to perf/README.md. Usage: [RUNS=5] [ONLY=REGEX] perf/compare-nbd.sh
source "$(dirname "$0")/lib.sh"

perf_init
require qemu-nbd nbdkit nbdcopy
make_images a,e

SOCKS="$PERF_DIR/out/nbd"
src="$IMG/sparse-8g.raw"
frag="$IMG/frag-4g.raw"
dst="$OUT/copy.raw"
start_nbd_sources "$SOCKS" "$src"
rm -f "$SOCKS/frag.sock" "$SOCKS/tiny.sock"
start_bg qemu-nbd -t -r -f raw -k "$SOCKS/frag.sock" "$frag"
start_bg nbdkit -f -U "$SOCKS/tiny.sock" sparse-random size=3G runlength=1000 percent=20 seed=42
wait_for test -S "$SOCKS/frag.sock"
wait_for test -S "$SOCKS/tiny.sock"

copy="$EXTENTFLOW copy --no-progress"
# nbd_to_file TAG URI [WARMED-FILE]: both modes of one NBD → file case (lib.sh), and which write path
# wins without a flush on this machine: page cache (the default) or direct
nbd_to_file() {
  nbd_to_file_modes "$@"
  local tag="$1" uri="$2" prep="rm -f $dst${3:+; $WARM $3}"
  perf_pair "extentflow-no-flush-cached-$tag" "$prep" "$copy --no-flush $uri $dst" \
    "extentflow-no-flush-direct-$tag" "$prep" "$copy --no-flush --direct $uri $dst"
}
nbd_to_file qemu-nbd-to-file "nbd+unix:///?socket=$SOCKS/qemu.sock" "$src"
nbd_to_file qemu-nbd-frag-to-file "nbd+unix:///?socket=$SOCKS/frag.sock" "$frag"
nbd_to_file nbdkit-sparse-random-to-file "nbd+unix:///?socket=$SOCKS/random.sock"
nbd_to_file nbdkit-sparse-random-runlength-1000-to-file "nbd+unix:///?socket=$SOCKS/tiny.sock"

memory_prep="$(memory_restarter "$SOCKS" "$src")"
memory_uri="nbd+unix:///?socket=$SOCKS/memory.sock"
perf_pair nbdcopy-file-to-nbdkit-memory "$memory_prep" "nbdcopy $src $memory_uri" \
  extentflow-file-to-nbdkit-memory "$memory_prep" "$copy --no-flush $src $memory_uri"
rm -f "$dst"

perf_report compare-nbd "NBD (qemu-nbd, nbdkit sparse-random and memory, Unix sockets), durable and fast-return" \
  "Durable: \`extentflow copy\` fdatasyncs the target file at the end; nbdcopy is followed by \`sync\` of it (perf/then-sync.sh). Fast-return: \`--no-flush\` against nbdcopy as it is (nbdcopy does not flush by default). Into nbdkit memory neither flushes. The two tools' runs alternate (\`perf_pair\` in lib.sh), so a drift of the VM's speed hits both. Times are the client's wall clock; servers run on the other CPU. extentflow times include JVM start-up."
