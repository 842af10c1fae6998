#!/usr/bin/env bash
# compare-stream.sh - sparse streams (docs/sparse-stream.md):
#   frag-4g.raw (32,768 data extents of 64 KiB) downloaded through `extentflow serve` as one sparse
#   stream (--http-stream) vs the per-extent path;
#   `extentflow copy IMAGE - > /dev/null` (the stream writer alone) on sparse-8g.raw and frag-4g.raw,
#   against the page-cache read limit (reading the same data extents with python's pread, warm).
# Results go to perf/README.md. Usage: [RUNS=5] perf/compare-stream.sh
source "$(dirname "$0")/lib.sh"

perf_init
require curl
make_images a,e

RUN="$PERF_DIR/out/stream"
mkdir -p "$RUN"

frag="$IMG/frag-4g.raw"
sparse="$IMG/sparse-8g.raw"
dst="$OUT/copy.raw"
serve_read_ticket "$RUN" "${PORT:-54523}" frag "$frag"
url="$URL"

perf_reference extentflow-http-frag-per-extent
perf_case extentflow-http-frag-per-extent "rm -f $dst; $WARM $frag" \
  "$EXTENTFLOW copy --no-progress --no-flush $url $dst"
perf_case extentflow-http-frag-stream "rm -f $dst; $WARM $frag" \
  "$EXTENTFLOW copy --no-progress --no-flush --http-stream $url $dst"

cat > "$RUN/to-null.sh" <<SH
#!/usr/bin/env bash
exec "$EXTENTFLOW" copy --no-progress "\$1" - > /dev/null
SH
chmod +x "$RUN/to-null.sh"
for img in sparse-8g.raw frag-4g.raw; do
  tag="${img%.raw}"
  perf_reference "page-cache-read-$tag"
  perf_case "page-cache-read-$tag" "$WARM $IMG/$img" "$WARM $IMG/$img"
  perf_case "extentflow-copy-to-stdout-$tag" "$WARM $IMG/$img" "$RUN/to-null.sh $IMG/$img"
done
rm -f "$dst"

perf_report compare-stream "Sparse streams: one HTTP request vs one per extent; the stream writer vs the page-cache read limit" \
  "The server was warmed first (warm_server in lib.sh: 3 untimed downloads each way). The page-cache read limit reads the same data extents (warm) with pread in python, without writing them anywhere. extentflow times include JVM start-up."
