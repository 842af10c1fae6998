#!/usr/bin/env bash
# compare-qcow2.sh - qcow2 → raw: extentflow copy vs qemu-img convert -O raw -W -m 16 on
# sparse-8g.qcow2, sparse-8g-zlib.qcow2 (compressed: CPU-bound) and empty-1t.qcow2.
# Results go to perf/README.md. Usage: [RUNS=5] perf/compare-qcow2.sh
source "$(dirname "$0")/lib.sh"

perf_init
require qemu-img
make_images a,b,c,d

dst="$OUT/copy.raw"
for img in sparse-8g.qcow2 sparse-8g-zlib.qcow2 empty-1t.qcow2; do
  src="$IMG/$img"
  tag="${img%.qcow2}"
  prep="rm -f $dst; $WARM $src"
  perf_reference "qemu-img-convert-W-m16-$tag"
  perf_case "qemu-img-convert-W-m16-$tag" "$prep" "qemu-img convert -f qcow2 -O raw -W -m 16 $src $dst"
  perf_case "extentflow-copy-no-flush-$tag" "$prep" "$EXTENTFLOW copy --no-progress --no-flush $src $dst"
  perf_case "extentflow-copy-$tag" "$prep" "$EXTENTFLOW copy --no-progress $src $dst"
done
rm -f "$dst"

perf_report compare-qcow2 "qcow2 → raw (sparse-8g.qcow2, sparse-8g-zlib.qcow2, empty-1t.qcow2)" \
  "qemu-img convert does not fsync its output; \`--no-flush\` is the like-for-like extentflow case. extentflow times include JVM start-up."
