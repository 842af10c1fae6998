#!/usr/bin/env bash
# bounded-memory-nbd.sh - map, copy and checksum of an NBD export with about a million extents
# (nbdkit sparse-random size=$SIZE runlength=1000 percent=20: runs of about 1000 bytes, so an extent
# every 4 KiB) in a heap of $HEAP: their extents must stream in bounded windows, never be collected.
#
# Checks that each command exits 0 and that the map (--output=json) is the text nbdinfo --map
# --json prints; prints each command's time and peak RSS; exits 1 if any failed.
# Usage: [HEAP=64m] [SIZE=4G] [SEED=3] perf/bounded-memory-nbd.sh
# Work files go to $WORK (default perf/out/bounded-memory-nbd): the copy's target ($SIZE, sparse)
# and the two maps (about 20 bytes of JSON per 1 KiB of $SIZE).
set -euo pipefail

PERF_DIR="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
ROOT="$(cd "$PERF_DIR/.." && pwd)"
EXTENTFLOW="$ROOT/extentflow"
HEAP="${HEAP:-64m}"
SIZE="${SIZE:-4G}"
SEED="${SEED:-3}"
WORK="${WORK:-$PERF_DIR/out/bounded-memory-nbd}"

die() { echo "$(basename "$0"): $*" >&2; exit 2; }
for t in nbdkit nbdinfo cmp; do
  command -v "$t" >/dev/null || die "needs $t"
done
[ -x /usr/bin/time ] || die "needs GNU time (apt-get install -y time)"
"$EXTENTFLOW" --version >/dev/null   # builds samples/target/extentflow.jar if needed
export EXTENTFLOW_NO_BUILD=1 EXTENTFLOW_JAVA_OPTS="-Xmx$HEAP" EXTENTFLOW WORK
mkdir -p "$WORK"
rm -f "$WORK"/*

# One captive server (nbdkit --run: $uri is its socket) runs every command in turn.
nbdkit -U - sparse-random "size=$SIZE" runlength=1000 percent=20 "seed=$SEED" --run '
  failed=0
  run() { # LABEL COMMAND...
    local label="$1"
    shift
    if /usr/bin/time -f "%e s, peak RSS %M KiB" -o "$WORK/time" "$@" >"$WORK/out" 2>"$WORK/err"; then
      echo "$label: ok, $(cat "$WORK/time")"
    else
      echo "$label: FAILED: $(tail -n 1 "$WORK/err")"
      failed=1
    fi
  }
  run "map --output=json" "$EXTENTFLOW" map --output=json "$uri"
  mv "$WORK/out" "$WORK/map.json"
  nbdinfo --map --json "$uri" >"$WORK/nbdinfo.json"
  if cmp -s "$WORK/map.json" "$WORK/nbdinfo.json"; then
    echo "  the map is the text nbdinfo prints ($(($(wc -l <"$WORK/map.json") - 2)) entries)"
  else
    echo "  the map differs from nbdinfo'"'"'s"
    failed=1
  fi
  run "map --output=extents" "$EXTENTFLOW" map --output=extents "$uri"
  run "checksum" "$EXTENTFLOW" checksum "$uri"
  run "copy to a file" "$EXTENTFLOW" copy --no-progress "$uri" "$WORK/copy.raw"
  exit $failed
' || { echo "FAILED (heap $HEAP, $SIZE)"; rm -f "$WORK/copy.raw"; exit 1; }
rm -f "$WORK/copy.raw"
echo "all ran in a $HEAP heap"
