#!/usr/bin/env bash
# compare-local.sh - local raw file copies in both modes (lib.sh), on sparse-8g.raw (8 GiB, 2 GiB
# data), frag-4g.raw (32,768 data extents of 64 KiB) and a 1 TiB empty raw:
#   durable:      extentflow copy (flushes) vs qemu-img convert -O raw -W, then sync of the target,
#                 and vs cp --sparse=always, then sync; and --keep-cache (page cache, then fdatasync)
#                 against the default (direct writes), which tells which write path is faster here;
#   fast-return:  extentflow copy --no-flush (page cache, returns with the data there) vs the same
#                 peers as they are; and --no-flush --direct (direct writes) against --no-flush.
# Pairs alternate their runs (perf_pair). Baselines: the JVM's start, and a plain single-threaded
# JVM pread/pwrite loop (perf/src/.../PlainCopy.java).
# Results go to perf/README.md. Usage: [RUNS=5] [ONLY=REGEX] perf/compare-local.sh
source "$(dirname "$0")/lib.sh"

perf_init
perf_jar
require qemu-img cp
make_images a,e
empty_raw empty-1t.raw 1T

dst="$OUT/copy.raw"
copy="$EXTENTFLOW copy --no-progress --no-offload"
if [ -z "${ONLY:-}" ]; then
  perf_reference jvm-start
  perf_case jvm-start "true" "$EXTENTFLOW --version"
fi

for img in sparse-8g.raw frag-4g.raw empty-1t.raw; do
  src="$IMG/$img"
  tag="${img%.raw}"
  # before every run: drop the previous output, warm the source's data into page cache
  prep="rm -f $dst; $WARM $src"
  # durable
  perf_pair "qemu-img-convert-W-sync-$tag" "$prep" "$THEN_SYNC $dst qemu-img convert -f raw -O raw -W $src $dst" \
    "extentflow-copy-$tag" "$prep" "$copy $src $dst"
  perf_pair "cp-sparse-sync-$tag" "$prep" "$THEN_SYNC $dst cp --sparse=always $src $dst" \
    "extentflow-copy-vs-cp-$tag" "$prep" "$copy $src $dst"
  perf_pair "extentflow-copy-direct-$tag" "$prep" "$copy $src $dst" \
    "extentflow-copy-keep-cache-$tag" "$prep" "$copy --keep-cache $src $dst"
  # fast return
  perf_pair "qemu-img-convert-W-$tag" "$prep" "qemu-img convert -f raw -O raw -W $src $dst" \
    "extentflow-copy-no-flush-$tag" "$prep" "$copy --no-flush $src $dst"
  perf_pair "cp-sparse-$tag" "$prep" "cp --sparse=always $src $dst" \
    "extentflow-copy-no-flush-vs-cp-$tag" "$prep" "$copy --no-flush $src $dst"
  perf_pair "extentflow-copy-no-flush-cached-$tag" "$prep" "$copy --no-flush $src $dst" \
    "extentflow-copy-no-flush-direct-$tag" "$prep" "$copy --no-flush --direct $src $dst"
  if [ -z "${ONLY:-}" ]; then
    # the same system calls as qemu-img from one JVM thread: engine cost vs. JVM/machine cost
    perf_reference "qemu-img-convert-W-$tag"
    perf_case "plain-java-loop-$tag" "$prep" "$PLAIN_COPY $src $dst"
  fi
done
rm -f "$dst"

perf_report compare-local "Local raw → raw (sparse-8g.raw, frag-4g.raw, empty-1t.raw), durable and fast-return" \
  "Durable: \`extentflow copy\` fdatasyncs its target at the end; qemu-img convert and cp are followed by \`sync\` of the target (perf/then-sync.sh). Fast-return: \`--no-flush\` against the peers as they are (data left in the page cache). \`--no-offload\`: this table measures the copy's own write path (offload: perf/compare-offload.sh). extentflow times include JVM start-up (see \`jvm-start\`)."
