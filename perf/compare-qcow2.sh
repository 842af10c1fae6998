#!/usr/bin/env bash
# compare-qcow2.sh - qcow2 → raw in both modes (lib.sh), on sparse-8g.qcow2, sparse-8g-zlib.qcow2
# (compressed: CPU-bound) and empty-1t.qcow2:
#   durable:      extentflow copy (flushes) vs qemu-img convert -O raw -W -m 16 -t none (direct
#                 writes, flushed at the end), and vs qemu-img convert -W -m 16 then sync of the target;
#   fast-return:  extentflow copy --no-flush vs qemu-img convert -W -m 16 as it is (page cache).
# Pairs alternate their runs (perf_pair).
# Results go to perf/README.md. Usage: [RUNS=5] [ONLY=REGEX] perf/compare-qcow2.sh
source "$(dirname "$0")/lib.sh"

perf_init
require qemu-img
make_images a,b,c,d

dst="$OUT/copy.raw"
copy="$EXTENTFLOW copy --no-progress"
for img in sparse-8g.qcow2 sparse-8g-zlib.qcow2 empty-1t.qcow2; do
  src="$IMG/$img"
  tag="${img%.qcow2}"
  prep="rm -f $dst; $WARM $src"
  qemu="qemu-img convert -f qcow2 -O raw -W -m 16"
  # durable
  perf_pair "qemu-img-convert-W-m16-t-none-$tag" "$prep" "$qemu -t none $src $dst" \
    "extentflow-copy-$tag" "$prep" "$copy $src $dst"
  perf_pair "qemu-img-convert-W-m16-sync-$tag" "$prep" "$THEN_SYNC $dst $qemu $src $dst" \
    "extentflow-copy-vs-sync-$tag" "$prep" "$copy $src $dst"
  # fast return
  perf_pair "qemu-img-convert-W-m16-$tag" "$prep" "$qemu $src $dst" \
    "extentflow-copy-no-flush-$tag" "$prep" "$copy --no-flush $src $dst"
done
rm -f "$dst"

perf_report compare-qcow2 "qcow2 → raw (sparse-8g.qcow2, sparse-8g-zlib.qcow2, empty-1t.qcow2), durable and fast-return" \
  "Durable: \`extentflow copy\` fdatasyncs its target at the end; qemu-img convert with \`-t none\` (O_DIRECT, flushed at the end), or followed by \`sync\` of the target (perf/then-sync.sh). Fast-return: \`--no-flush\` against qemu-img convert as it is (data left in the page cache). extentflow times include JVM start-up."
