#!/usr/bin/env bash
# compare-builds.sh - this checkout's extentflow against another build of it, side by side: the
# copies of compare-nbd.sh (qemu-nbd → file, nbdkit sparse-random → file, file → nbdkit memory),
# of compare-http.sh and compare-stream.sh (imageio HTTP download and upload, per extent and as one
# sparse stream, each build against its own `serve`; the stream writer to stdout), of
# compare-qcow2.sh (qcow2 and zlib qcow2 → raw), a local raw → raw copy and a checksum, each case
# alternating the two builds run by run. It answers "did this change cost speed?" with both builds
# measured in the same minutes.
#
# Usage: BASE=/path/to/other/checkout/extentflow [RUNS=5] [IMG=...] perf/compare-builds.sh
#   BASE is the other checkout's launcher (e.g. a `git worktree add ../base main` of the previous
#   main); it builds its own jar once, before the timed runs.
source "$(dirname "$0")/lib.sh"

[ -n "${BASE:-}" ] && [ -x "$BASE" ] || die "set BASE to the other checkout's extentflow launcher"
perf_init
EXTENTFLOW_NO_BUILD= "$BASE" --version >/dev/null   # builds the other jar now, not inside a timed run
require qemu-nbd nbdkit curl
make_images a,b,c,e

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

for img in sparse-8g.qcow2 sparse-8g-zlib.qcow2; do
  pair "${img%.qcow2}-to-raw" "rm -f $dst; $WARM $IMG/$img" copy --no-progress --no-flush "$IMG/$img" "$dst"
done

# imageio HTTP: each build's client against its own server (base-* on port+1)
frag="$IMG/frag-4g.raw"
upload="$OUT/builds-upload.raw"
truncate -s "$(stat -c %s "$src")" "$upload"
port=${PORT:-54530}
serve_build() {   # serve_build LAUNCHER PORT: a server with tickets src (sparse-8g), frag and dst (upload)
  local launcher="$1" p="$2" ctl="$SOCKS/control-$2.sock"
  rm -f "$ctl"
  start_bg "$launcher" serve --port "$p" --control-socket "$ctl" >"$SOCKS/serve-$p.log" 2>&1
  wait_for test -S "$ctl"
  "$launcher" ticket add --control-socket "$ctl" --id src --url "file://$src" --size "$(stat -c %s "$src")" --ops read >/dev/null
  "$launcher" ticket add --control-socket "$ctl" --id frag --url "file://$frag" --size "$(stat -c %s "$frag")" --ops read >/dev/null
  "$launcher" ticket add --control-socket "$ctl" --id dst --url "file://$upload" --size "$(stat -c %s "$upload")" \
    --ops read,write --sparse >/dev/null
  wait_for curl -sf -X OPTIONS "http://127.0.0.1:$p/images/src"
  warm_server "$launcher" copy --no-progress --no-flush "http://127.0.0.1:$p/images/frag" /dev/null
  warm_server "$launcher" copy --no-progress --no-flush --http-stream "http://127.0.0.1:$p/images/frag" /dev/null
}
serve_build "$EXTENTFLOW" "$port"
serve_build "$BASE" "$((port + 1))"
http_pair() {   # http_pair NAME PREPARE ARGS... with @URL@ standing for the build's server
  local name="$1" prepare="$2"
  shift 2
  local this=("$@") base=("$@")
  this=("${this[@]//@URL@/http://127.0.0.1:$port/images}")
  base=("${base[@]//@URL@/http://127.0.0.1:$((port + 1))/images}")
  perf_pair "base-$name" "$prepare" "$BASE ${base[*]}" "this-$name" "$prepare" "$EXTENTFLOW ${this[*]}"
}
http_pair http-download "rm -f $dst; $WARM $src" copy --no-progress --no-flush @URL@/src "$dst"
http_pair http-download-stream "rm -f $dst; $WARM $src" copy --no-progress --no-flush --http-stream @URL@/src "$dst"
http_pair http-upload "$WARM $src" copy --no-progress --no-flush "$src" @URL@/dst
# flushed: the previous main's streamed upload lost its end with --no-flush (fixed since: #20)
http_pair http-upload-stream "$WARM $src" copy --no-progress --http-stream "$src" @URL@/dst
http_pair http-frag-per-extent "rm -f $dst; $WARM $frag" copy --no-progress --no-flush @URL@/frag "$dst"
http_pair http-frag-stream "rm -f $dst; $WARM $frag" copy --no-progress --no-flush --http-stream @URL@/frag "$dst"

for b in base this; do   # the stream writer alone
  launcher="$EXTENTFLOW"; [ "$b" = base ] && launcher="$BASE"
  printf '#!/usr/bin/env bash\nexec "%s" copy --no-progress "$1" - > /dev/null\n' "$launcher" > "$SOCKS/$b-to-null.sh"
  chmod +x "$SOCKS/$b-to-null.sh"
done
perf_pair base-frag-to-stdout "$WARM $frag" "$SOCKS/base-to-null.sh $frag" \
  this-frag-to-stdout "$WARM $frag" "$SOCKS/this-to-null.sh $frag"
rm -f "$dst" "$upload"

perf_report compare-builds "This build against another (BASE), the same copies alternated" \
  "Each pair runs the other build (base-*) and this one (this-*) alternately; ratio = this / base. NBD copies as in compare-nbd.sh (no flush), the file copy with its final flush, the checksum of a warm sparse-8g.raw, qcow2 → raw and HTTP copies without flush (the streamed upload with it), each build's HTTP client against a warmed server of the same build; frag-to-stdout is \`copy frag-4g.raw - > /dev/null\`."
