#!/usr/bin/env bash
# compare-qcow2-out.sh - raw/qcow2 → qcow2: extentflow's qcow2 writers vs qemu-img convert -O qcow2,
# side by side in one run, on sparse-8g.raw and empty-1t.qcow2:
#   - the random-access writer (a target named *.qcow2) and the one-pass writer (standard output
#     redirected to the file, --output-format qcow2), each durable (its final flush) and fast-return
#     (--no-flush), against qemu-img convert followed by `sync FILE` (durable: qemu-img writes its
#     target with cache=unsafe and never syncs it) and qemu-img convert as it is (fast-return);
#   - the random-access and the one-pass writer alone, durable, runs alternated (perf_pair);
#   - peak RSS of every case (/usr/bin/time -v): an 8 GiB image with 2 GiB of data and an empty
#     1 TiB one, so that memory growing with the image size would show.
#   - sparse-8g.raw → compressed qcow2 (random-access writer only: a compressed image is not written in
#     one pass), zstd vs `qemu-img convert -c -o compression_type=zstd` and zlib vs `qemu-img convert -c`,
#     both durable (`sync FILE` after qemu-img, extentflow with its flush).
# Results go to perf/README.md. Usage: [RUNS=5] IMG=... MAKE_IMAGES=... perf/compare-qcow2-out.sh
source "$(dirname "$0")/lib.sh"

perf_init
require qemu-img
make_images a,d

RUN="$PERF_DIR/out/qcow2-out"
mkdir -p "$RUN"
dst="$OUT/copy.qcow2"

# qemu-img convert, then the target file made durable: the like-for-like of a copy with its flush
cat > "$RUN/qemu-sync.sh" <<'SH'
#!/usr/bin/env bash
set -e
n=$#
dst="${!n}"
qemu-img convert -O qcow2 "$@"
sync "$dst"
SH
# the one-pass writer, as a user runs it: extentflow copy SRC - --output-format qcow2 > DST
cat > "$RUN/one-pass.sh" <<SH
#!/usr/bin/env bash
# one-pass.sh [FLAGS...] SRC DST
n=\$#
dst="\${!n}"
set -- "\${@:1:\$((n - 1))}"
exec "$EXTENTFLOW" copy --no-progress "\$@" - --output-format qcow2 > "\$dst"
SH
chmod +x "$RUN/qemu-sync.sh" "$RUN/one-pass.sh"

for img in sparse-8g.raw empty-1t.qcow2; do
  src="$IMG/$img"
  tag="${img%.*}"
  prep="rm -f $dst; $WARM $src"
  # durable: every byte on disk when the command returns
  perf_reference "qemu-img-convert-sync-$tag"
  perf_case "qemu-img-convert-sync-$tag" "$prep" "$RUN/qemu-sync.sh $src $dst"
  perf_case "extentflow-copy-$tag" "$prep" "$EXTENTFLOW copy --no-progress $src $dst"
  perf_case "extentflow-one-pass-$tag" "$prep" "$RUN/one-pass.sh $src $dst"
  # fast-return: qemu-img as it is, extentflow without its final flush
  perf_reference "qemu-img-convert-$tag"
  perf_case "qemu-img-convert-$tag" "$prep" "qemu-img convert -O qcow2 $src $dst"
  perf_case "extentflow-copy-no-flush-$tag" "$prep" "$EXTENTFLOW copy --no-progress --no-flush $src $dst"
  perf_case "extentflow-one-pass-no-flush-$tag" "$prep" "$RUN/one-pass.sh --no-flush $src $dst"
done
# compressed, durable: extentflow compresses clusters on its I/O threads, in parallel
src="$IMG/sparse-8g.raw"
prep="rm -f $dst; $WARM $src"
perf_reference qemu-img-convert-zstd-sync-sparse-8g
perf_case qemu-img-convert-zstd-sync-sparse-8g "$prep" "$RUN/qemu-sync.sh -c -o compression_type=zstd $src $dst"
perf_case extentflow-copy-zstd-sparse-8g "$prep" "$EXTENTFLOW copy --no-progress --compress=zstd $src $dst"
perf_reference qemu-img-convert-zlib-sync-sparse-8g
perf_case qemu-img-convert-zlib-sync-sparse-8g "$prep" "$RUN/qemu-sync.sh -c $src $dst"
perf_case extentflow-copy-zlib-sparse-8g "$prep" "$EXTENTFLOW copy --no-progress --compress=zlib $src $dst"

# the two writers alone, runs alternated (perf_pair): which one a file target should take
src="$IMG/sparse-8g.raw"
perf_pair "pair-random-access-sparse-8g" "rm -f $dst; $WARM $src" "$EXTENTFLOW copy --no-progress $src $dst" \
  "pair-one-pass-sparse-8g" "rm -f $dst; $WARM $src" "$RUN/one-pass.sh $src $dst"
rm -f "$dst"

perf_report compare-qcow2-out "raw/qcow2 → qcow2 (sparse-8g.raw, empty-1t.qcow2), plain and compressed: extentflow's writers vs qemu-img convert" \
  "Durable cases: extentflow with its final flush vs \`qemu-img convert -O qcow2\` followed by \`sync FILE\` (qemu-img writes its target with cache=unsafe and does not sync it). Fast-return cases: \`--no-flush\` vs qemu-img as it is; both extentflow writers still sync the file once before they write the magic (crash safety), so --no-flush only drops the final flush. one-pass = \`extentflow copy SRC - --output-format qcow2 > DST\` (through bash, a few ms). extentflow times include JVM start-up."
