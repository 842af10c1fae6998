#!/usr/bin/env bash
# compare-frag.sh - the fragmented-image goals of issue 27 side by side in one run, each pair
# alternated (perf_pair in lib.sh), plus the fast-return raw → raw row:
#   qemu-nbd (frag-4g.raw) → file:                 durable (extentflow vs nbdcopy + sync of the file)
#                                                   and fast-return (--no-flush vs nbdcopy); goal ≤ 0.7×
#   nbdkit sparse-random size=3G runlength=1000 percent=20 seed=42 → file:  the same two modes; goal ≤ 0.7×
#   frag-4g.raw through `extentflow serve` → file:  --http-stream vs one request per gathered range;
#                                                   goal: the stream ≥ 3× faster (ratio ≤ 0.33)
#   `extentflow copy frag-4g.raw - > /dev/null`     vs the page-cache read of its data (warm.py); goal ≤ 1.5×
#   sparse-8g.raw → new raw:                         --no-flush vs qemu-img convert -W; goal ≤ 1.0×
# Results go to perf/README.md. Usage: [RUNS=5] [ONLY=REGEX] [OUT=DIR] perf/compare-frag.sh
source "$(dirname "$0")/lib.sh"

perf_init
require qemu-nbd nbdkit nbdcopy qemu-img curl
make_images a,e

RUN="$PERF_DIR/out/frag"
mkdir -p "$RUN"
frag="$IMG/frag-4g.raw"
sparse="$IMG/sparse-8g.raw"
dst="$OUT/frag-copy.raw"
copy="$EXTENTFLOW copy --no-progress"

# NBD sources: read-only qemu-nbd of frag-4g.raw, and nbdkit's tiny runs (about 160,000 4 KiB extents)
rm -f "$RUN/frag.sock" "$RUN/tiny.sock"
start_bg qemu-nbd -t -r -f raw -k "$RUN/frag.sock" "$frag"
start_bg nbdkit -f -U "$RUN/tiny.sock" sparse-random size=3G runlength=1000 percent=20 seed=42
wait_for test -S "$RUN/frag.sock"
wait_for test -S "$RUN/tiny.sock"

nbd_to_file_modes qemu-nbd-frag "nbd+unix:///?socket=$RUN/frag.sock" "$frag"
nbd_to_file_modes nbdkit-runlength-1000 "nbd+unix:///?socket=$RUN/tiny.sock"

# HTTP: one sparse stream against one request per (gathered) range, from a warmed `extentflow serve`
if [ -z "${ONLY:-}" ] || [[ "http-frag-stream" =~ $ONLY ]]; then
  serve_read_ticket "$RUN" "${PORT:-54527}" frag "$frag"
  url="$URL"
  perf_pair extentflow-http-frag-per-extent "rm -f $dst; $WARM $frag" "$copy --no-flush $url $dst" \
    extentflow-http-frag-stream "rm -f $dst; $WARM $frag" "$copy --no-flush --http-stream $url $dst"
fi

# the stream writer alone: frag-4g.raw to stdout (/dev/null), against reading its data from the page cache
cat > "$RUN/to-null.sh" <<SH
#!/usr/bin/env bash
exec $copy "\$1" - > /dev/null
SH
chmod +x "$RUN/to-null.sh"
perf_pair page-cache-read-frag "$WARM $frag" "$WARM $frag" \
  extentflow-copy-frag-to-stdout "$WARM $frag" "$RUN/to-null.sh $frag"

# item 1's fast-return row: sparse-8g.raw → new raw
perf_pair qemu-img-W-sparse-8g "rm -f $dst; $WARM $sparse" "qemu-img convert -W -O raw $sparse $dst" \
  extentflow-no-flush-sparse-8g "rm -f $dst; $WARM $sparse" "$copy --no-flush $sparse $dst"
rm -f "$dst"

perf_report compare-frag "Fragmented images (issue 27, item 2) and the fast-return raw → raw row, alternated pairs" \
  "Durable: \`extentflow copy\` fdatasyncs the target at the end; nbdcopy is followed by \`sync\` of the file (perf/then-sync.sh). Fast-return: \`--no-flush\` against the peer as it is. The HTTP pair reads from a warmed \`extentflow serve\` on the same machine. The page-cache read is python's pread of the data extents (warm.py), warm. extentflow times include JVM start-up. Goals: ≤ 0.7 × nbdcopy on the NBD rows, stream ≤ 0.33 × per-extent, stdout ≤ 1.5 × the page-cache read, sparse-8g --no-flush ≤ 1.0 × qemu-img -W."
