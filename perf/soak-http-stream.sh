#!/usr/bin/env bash
# soak-http-stream.sh - N consecutive streamed uploads (`extentflow copy --http-stream`, one
# PUT ?format=sparse per copy) of sparse-8g.raw into `extentflow serve`, each into a fresh write
# ticket on a new 8 GiB file, each target compared with the source byte for byte (cmp).
# Issue 20: such uploads exited 0 with a target that differed from the source; this repeats the
# case often enough to catch a loss that depends on timing.
#
# Prints one line per upload and a count of identical targets; exits non-zero if any target
# differs or any copy failed. Not a benchmark: nothing goes into perf/README.md.
#
# Usage: [N=50] [IMG=perf/images] [FLAGS=--no-flush] [PORT=54523] perf/soak-http-stream.sh
#   FLAGS: extra flags for every copy (default --no-flush, the issue's case; FLAGS= for none).
source "$(dirname "$0")/lib.sh"

N="${N:-50}"
FLAGS="${FLAGS---no-flush}"
case "$N" in '' | *[!0-9]*) die "N must be a number of uploads, not '$N'" ;; esac
require cmp curl

src="$IMG/sparse-8g.raw"
[ -f "$src" ] || make_images a
[ -f "$src" ] || die "no $src"
"$EXTENTFLOW" --version >/dev/null   # builds samples/target/extentflow.jar if needed
export EXTENTFLOW_NO_BUILD=1

RUN="$PERF_DIR/out/soak-http-stream"
mkdir -p "$RUN" "$OUT"
size=$(stat -c %s "$src")
target="$OUT/soak-http-stream-target.raw"
port=${PORT:-54523}
ctl="$RUN/control.sock"
rm -f "$ctl" "$RUN"/copy-*.log
start_bg "$EXTENTFLOW" serve --port "$port" --control-socket "$ctl" >"$RUN/serve.log" 2>&1
wait_for test -S "$ctl"
trap 'rm -f "$target"; stop_bg' EXIT

identical=0
failed=0
for i in $(seq "$N"); do
  id="soak-$i"
  rm -f "$target"
  truncate -s "$size" "$target"
  "$EXTENTFLOW" ticket add --control-socket "$ctl" --id "$id" --url "file://$target" --size "$size" \
    --ops read,write --sparse >/dev/null
  log="$RUN/copy-$i.log"
  # shellcheck disable=SC2086 # FLAGS is a list of flags
  if timeout 600 "$EXTENTFLOW" copy --no-progress $FLAGS --http-stream "$src" \
      "http://127.0.0.1:$port/images/$id" >"$log" 2>&1; then
    rc=0
  else
    rc=$?
  fi
  # compared at once: a copy that exited 0 must have left the whole image in place
  if diff=$(cmp "$src" "$target" 2>&1); then
    identical=$((identical + 1))
    same="identical"
  else
    same="DIFFERS (${diff##*: })"
  fi
  "$EXTENTFLOW" ticket delete --control-socket "$ctl" "$id" >/dev/null
  if [ "$rc" != 0 ] || [ "$same" != identical ]; then
    failed=$((failed + 1))
  fi
  echo "upload $i/$N: exit $rc, target $same; $(head -c 200 "$log" | head -1)"
done

echo "$identical of $N targets identical to the source; $failed upload(s) failed or differed (logs: $RUN)"
[ "$failed" = 0 ]
