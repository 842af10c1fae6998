#!/usr/bin/env bash
# compare-nbd.sh - NBD copies: extentflow copy vs nbdcopy.
#   NBD → file: qemu-nbd serving sparse-8g.raw (read-only, one connection), and
#               nbdkit sparse-random 8G seed=42 (random data in sparse runs, generated on the fly)
#   file → NBD: sparse-8g.raw into a fresh nbdkit memory 8G before every run
# Servers listen on Unix sockets in perf/out/; the script stops the ones it started.
# Results go to perf/README.md. Usage: [RUNS=5] perf/compare-nbd.sh
source "$(dirname "$0")/lib.sh"

perf_init
require qemu-nbd nbdkit nbdcopy
make_images a

SOCKS="$PERF_DIR/out/nbd"
src="$IMG/sparse-8g.raw"
dst="$OUT/copy.raw"
start_nbd_sources "$SOCKS" "$src"

qemu_uri="nbd+unix:///?socket=$SOCKS/qemu.sock"
perf_pair nbdcopy-qemu-nbd-to-file "rm -f $dst; $WARM $src" "nbdcopy $qemu_uri $dst" \
  extentflow-qemu-nbd-to-file "rm -f $dst; $WARM $src" "$EXTENTFLOW copy --no-progress --no-flush $qemu_uri $dst"

random_uri="nbd+unix:///?socket=$SOCKS/random.sock"
perf_pair nbdcopy-nbdkit-sparse-random-to-file "rm -f $dst" "nbdcopy $random_uri $dst" \
  extentflow-nbdkit-sparse-random-to-file "rm -f $dst" "$EXTENTFLOW copy --no-progress --no-flush $random_uri $dst"

memory_prep="$(memory_restarter "$SOCKS" "$src")"
memory_uri="nbd+unix:///?socket=$SOCKS/memory.sock"
perf_pair nbdcopy-file-to-nbdkit-memory "$memory_prep" "nbdcopy $src $memory_uri" \
  extentflow-file-to-nbdkit-memory "$memory_prep" "$EXTENTFLOW copy --no-progress --no-flush $src $memory_uri"
rm -f "$dst"

perf_report compare-nbd "NBD (qemu-nbd, nbdkit sparse-random and memory, Unix sockets)" \
  "Neither tool flushes the destination (nbdcopy's default; extentflow with \`--no-flush\`). The two tools' runs alternate (nbdcopy, extentflow, nbdcopy, ...: \`perf_pair\` in lib.sh), so a drift of the VM's speed hits both. Times are the client's wall clock; servers run on the other CPU. extentflow times include JVM start-up."
