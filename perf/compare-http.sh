#!/usr/bin/env bash
# compare-http.sh - imageio HTTP copies through `extentflow serve`, side by side:
#   download sparse-8g.raw: extentflow copy (per-extent requests), extentflow copy --http-stream
#     (one sparse-stream request), curl fetching the same data ranges (one keep-alive connection,
#     to /dev/null), and nbdcopy from qemu-nbd on a Unix socket (the goal's reference);
#   upload sparse-8g.raw into a ticket on an existing 8 GiB file: extentflow copy, with and
#     without --http-stream;
#   upload sparse-8g.raw as a qcow2 image (--output-format qcow2: one PUT of the qcow2 file) into a
#     ticket on a file of the size `extentflow measure` gives.
# The server runs as a separate process on loopback; the script stops what it started.
# Results go to perf/README.md. Usage: [RUNS=5] perf/compare-http.sh
source "$(dirname "$0")/lib.sh"

perf_init
require curl qemu-nbd nbdcopy
make_images a

RUN="$PERF_DIR/out/http"
mkdir -p "$RUN"
src="$IMG/sparse-8g.raw"
dst="$OUT/copy.raw"
target="$OUT/upload-target.raw"
size=$(stat -Lc %s "$src")
port=${PORT:-54522}
ctl="$RUN/control.sock"
rm -f "$ctl"
start_bg "$EXTENTFLOW" serve --port "$port" --control-socket "$ctl" >"$RUN/serve.log" 2>&1
wait_for test -S "$ctl"
"$EXTENTFLOW" ticket add --control-socket "$ctl" --id src --url "file://$src" --size "$size" --ops read >/dev/null
truncate -s "$size" "$target"
"$EXTENTFLOW" ticket add --control-socket "$ctl" --id dst --url "file://$target" --size "$size" \
  --ops read,write --sparse >/dev/null
url="http://127.0.0.1:$port/images/src"
up="http://127.0.0.1:$port/images/dst"
wait_for curl -sf -X OPTIONS "$url"

# curl's config: every data range of the image, as the per-extent client asks for them
python3 - "$src" "$url" > "$RUN/ranges.curl" <<'PY'
import os, sys
path, url = sys.argv[1], sys.argv[2]
fd = os.open(path, os.O_RDONLY)
size, pos, chunk = os.fstat(fd).st_size, 0, 4 << 20
while pos < size:
    try:
        data = os.lseek(fd, pos, os.SEEK_DATA)
    except OSError:
        break
    hole = os.lseek(fd, data, os.SEEK_HOLE)
    for a in range(data, hole, chunk):
        b = min(hole, a + chunk) - 1
        print(f'url = "{url}"\nrange = "{a}-{b}"\noutput = "/dev/null"')
    pos = hole
PY

rm -f "$RUN/nbd.sock"
start_bg qemu-nbd -t -r -f raw -k "$RUN/nbd.sock" "$src"
wait_for test -S "$RUN/nbd.sock"

warm_server "$EXTENTFLOW" copy --no-progress --no-flush "$url" /dev/null
warm_server "$EXTENTFLOW" copy --no-progress --no-flush --http-stream "$url" /dev/null

perf_reference nbdcopy-qemu-nbd-to-file
perf_case nbdcopy-qemu-nbd-to-file "rm -f $dst; $WARM $src" "nbdcopy nbd+unix:///?socket=$RUN/nbd.sock $dst"
perf_case extentflow-http-download "rm -f $dst; $WARM $src" "$EXTENTFLOW copy --no-progress --no-flush $url $dst"
perf_case extentflow-http-download-stream "rm -f $dst; $WARM $src" \
  "$EXTENTFLOW copy --no-progress --no-flush --http-stream $url $dst"
perf_case curl-data-ranges "$WARM $src" "curl -s -K $RUN/ranges.curl"

warm_server "$EXTENTFLOW" copy --no-progress --no-flush "$src" "$up"
perf_reference extentflow-http-upload
perf_case extentflow-http-upload "$WARM $src" "$EXTENTFLOW copy --no-progress --no-flush $src $up"
perf_case extentflow-http-upload-stream "$WARM $src" \
  "$EXTENTFLOW copy --no-progress --no-flush --http-stream $src $up"

# a qcow2 image in one PUT, into a ticket's file of exactly the size measure says it needs
qtarget="$OUT/upload-target.qcow2"
need=$("$EXTENTFLOW" measure --output-format qcow2 --output=json "$src" \
  | python3 -c 'import json, sys; print(json.load(sys.stdin)["required"])')
rm -f "$qtarget"
truncate -s "$need" "$qtarget"
"$EXTENTFLOW" ticket add --control-socket "$ctl" --id dstq --url "file://$qtarget" --size "$need" \
  --ops read,write >/dev/null
upq="http://127.0.0.1:$port/images/dstq"
warm_server "$EXTENTFLOW" copy --no-progress --output-format qcow2 "$src" "$upq"
perf_case extentflow-http-upload-qcow2 "$WARM $src" \
  "$EXTENTFLOW copy --no-progress --output-format qcow2 $src $upq"
qemu-img check -q "$qtarget" || die "the uploaded qcow2 image fails qemu-img check"
rm -f "$dst" "$target" "$qtarget"

perf_report compare-http "imageio HTTP through extentflow serve (loopback), vs curl and nbdcopy" \
  "The server was warmed first (warm_server in lib.sh: 3 untimed downloads, stream downloads and uploads). Downloads are compared with nbdcopy from qemu-nbd on a Unix socket (goal: HTTP download within 1.5× of it). curl fetches every 4 MiB data range of the image over one keep-alive connection and discards it. The server's own work (reads, zero detection for streams) runs in the other process; its CPU is not in user+sys. extentflow times include JVM start-up. The qcow2 upload (one PUT, ?flush=y) ends with the server's flush, as the streamed upload does; the per-extent upload runs with --no-flush."
