#!/usr/bin/env bash
# compare-local.sh - local raw file copies: extentflow copy vs qemu-img convert -O raw -W vs
# cp --sparse=always, on sparse-8g.raw (8 GiB, 2 GiB data) and a 1 TiB empty raw, plus a baseline:
# a plain single-threaded JVM pread/pwrite loop (perf/src/.../PlainCopy.java).
# Results go to perf/README.md. Usage: [RUNS=5] perf/compare-local.sh
source "$(dirname "$0")/lib.sh"

perf_init
perf_jar
require qemu-img cp
make_images a
empty_raw empty-1t.raw 1T

dst="$OUT/copy.raw"
perf_reference jvm-start
perf_case jvm-start "true" "$EXTENTFLOW --version"

for img in sparse-8g.raw empty-1t.raw; do
  src="$IMG/$img"
  tag="${img%.raw}"
  # before every run: drop the previous output, warm the source's data into page cache
  prep="rm -f $dst; $WARM $src"
  perf_reference "qemu-img-convert-W-$tag"
  perf_case "qemu-img-convert-W-$tag" "$prep" "qemu-img convert -f raw -O raw -W $src $dst"
  perf_case "extentflow-copy-no-flush-$tag" "$prep" "$EXTENTFLOW copy --no-progress --no-flush $src $dst"
  perf_case "extentflow-copy-$tag" "$prep" "$EXTENTFLOW copy --no-progress $src $dst"
  perf_case "cp-sparse-$tag" "$prep" "cp --sparse=always $src $dst"
  # the same system calls as qemu-img from one JVM thread: engine cost vs. JVM/machine cost
  perf_case "plain-java-loop-$tag" "$prep" "$PLAIN_COPY $src $dst"
done
rm -f "$dst"

perf_report compare-local "Local raw → raw (sparse-8g.raw, empty-1t.raw)" \
  "qemu-img convert and cp do not fsync their output; \`extentflow copy\` flushes (fdatasync) at the end by default, so \`--no-flush\` is the like-for-like case. extentflow times include JVM start-up (see \`jvm-start\`)."
