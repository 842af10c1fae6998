#!/usr/bin/env bash
# compare-offload.sh - copy offload (copy_file_range) for local raw file -> new raw file, durable:
# extentflow copy --offload (the kernel copies; the default only where the file system shares blocks) vs the
# default (ext4: no offload) vs --no-offload vs `cp --sparse=always` then `sync` of the
# file, and the fixed cost (a copy of an empty file); the five alternated in every round (hyperfine, one run of each per round), medians.
# Usage: [ROUNDS=5] perf/compare-offload.sh SRC.raw OUTDIR
# SRC is read only; OUTDIR is on the file system to measure (ext4, or a loop-mounted XFS with
# reflink=1). The source's data is warmed into the page cache before every run.
set -euo pipefail
ROOT="$(cd "$(dirname "$0")/.." && pwd)"
SRC=${1:?source raw image}
OUT=${2:?output directory}
ROUNDS=${ROUNDS:-5}
export EXTENTFLOW_NO_BUILD=1
EF="$ROOT/extentflow"
dst="$OUT/offload-copy.raw"
warm="python3 $ROOT/perf/warm.py $SRC"
json="$OUT/offload-rounds"
mkdir -p "$json"
# the fixed cost (JVM start-up, opening both files): a copy of an empty 1 MiB file
empty="$OUT/empty-1m.raw"
empty_dst="$OUT/empty-copy.raw"
rm -f "$empty" && truncate -s 1M "$empty"
"$EF" copy --no-progress "$SRC" "$dst" >/dev/null # trains the start-up cache once, untimed
for i in $(seq 1 "$ROUNDS"); do
  prep="sh -c 'rm -f $dst $empty_dst; $warm'"
  hyperfine -N --runs 1 --prepare "$prep" --prepare "$prep" --prepare "$prep" --prepare "$prep" --prepare "$prep" \
    --export-json "$json/round-$i.json" \
    -n start-up "$EF copy --no-progress $empty $empty_dst" \
    -n offload "$EF copy --no-progress --offload $SRC $dst" \
    -n default "$EF copy --no-progress $SRC $dst" \
    -n no-offload "$EF copy --no-progress --no-offload $SRC $dst" \
    -n cp-sparse-sync "sh -c 'cp --sparse=always $SRC $dst && sync $dst'" >/dev/null
done
# each of our paths once more, untimed, compared whole with the source (the rounds end with cp's copy)
for flag in --offload "" --no-offload; do
  rm -f "$dst"
  "$EF" copy --no-progress $flag "$SRC" "$dst" >/dev/null
  cmp "$SRC" "$dst"
done
rm -f "$dst" "$empty" "$empty_dst"
python3 - "$json" "$ROUNDS" <<'PY'
import json, statistics, sys, glob
d, n = sys.argv[1], int(sys.argv[2])
times = {}
for f in sorted(glob.glob(d + "/round-*.json")):
    for r in json.load(open(f))["results"]:
        times.setdefault(r["command"], []).append(r["times"][0])
cp = statistics.median(times["cp-sparse-sync"])
print("| case | median s | min s | max s | vs cp |")
print("|---|---:|---:|---:|---:|")
for name, t in times.items():
    m = statistics.median(t)
    print(f"| {name} | {m:.2f} | {min(t):.2f} | {max(t):.2f} | {m / cp:.2f}x |")
PY
