#!/usr/bin/env bash
# soak-nbd-faults.sh - NBD copies through nbdkit's error filter must never lose a request.
#
#   reads:  N copies of `nbdkit --filter=error sparse-random size=$SIZE seed=$SEED percent=30
#           error-pread-rate=$RATE` to a file, each compared with a reference copy nbdcopy made from
#           the same export without the error filter;
#   writes: N copies of that reference file into a fresh `nbdkit --filter=error memory $SIZE
#           error-pwrite-rate=$RATE error-zero-rate=$RATE`, each read back with nbdcopy (the filter
#           leaves reads alone) before the server stops, and compared with the file;
# both with the default number of connections and with --connections 1, and the default retries
# (the error filter's errors are EIO, which the NBD client retries on a fresh connection).
#
# Prints a line per copy that failed or differs and a count per case; exits 1 if any did.
# Usage: [N=50] [SIZE=1G] [SEED=7] [RATE=5%] perf/soak-nbd-faults.sh
# Work files go to $WORK (default perf/out/soak-nbd-faults): two files of $SIZE, sparse.
set -euo pipefail

PERF_DIR="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
ROOT="$(cd "$PERF_DIR/.." && pwd)"
EXTENTFLOW="$ROOT/extentflow"
N="${N:-50}"
SIZE="${SIZE:-1G}"
SEED="${SEED:-7}"
RATE="${RATE:-5%}"
WORK="${WORK:-$PERF_DIR/out/soak-nbd-faults}"

die() { echo "$(basename "$0"): $*" >&2; exit 2; }
for t in nbdkit nbdcopy cmp; do
  command -v "$t" >/dev/null || die "needs $t"
done
"$EXTENTFLOW" --version >/dev/null   # builds samples/target/extentflow.jar if needed
export EXTENTFLOW_NO_BUILD=1
mkdir -p "$WORK"
rm -f "$WORK"/*.raw "$WORK"/*.log

# Every server is captive (nbdkit --run): it starts, runs the command with $uri set to its Unix
# socket once it accepts connections, and exits with the command's status.
random=(sparse-random "size=$SIZE" "seed=$SEED" percent=30)
reference="$WORK/reference.raw"
nbdkit -U - "${random[@]}" --run "nbdcopy \"\$uri\" '$reference'" || die "nbdcopy of the reference failed"
export EXTENTFLOW reference

failures=0
# run_case LABEL KIND [extentflow copy flags...]: N copies of KIND (reads or writes)
run_case() {
  local label="$1" kind="$2"
  shift 2
  local ok=0 i log="$WORK/copy.log" out="$WORK/out.raw" start=$SECONDS
  for i in $(seq 1 "$N"); do
    rm -f "$out"
    if [ "$kind" = reads ]; then
      if ! nbdkit -U - --filter=error "${random[@]}" "error-pread-rate=$RATE" \
          --run "\"\$EXTENTFLOW\" copy --no-progress $* \"\$uri\" '$out'" >"$log" 2>&1; then
        echo "  $label run $i: the copy failed: $(tail -n 1 "$log")"
        continue
      fi
    else
      # the memory export lives only while its server runs: read it back before it stops
      if ! nbdkit -U - --filter=error memory "$SIZE" "error-pwrite-rate=$RATE" "error-zero-rate=$RATE" \
          --run "\"\$EXTENTFLOW\" copy --no-progress $* \"\$reference\" \"\$uri\" && nbdcopy \"\$uri\" '$out'" \
          >"$log" 2>&1; then
        echo "  $label run $i: the copy or reading it back failed: $(tail -n 1 "$log")"
        continue
      fi
    fi
    if cmp -s "$reference" "$out"; then
      ok=$((ok + 1))
    else
      echo "  $label run $i: the target differs from the reference: $(cmp "$reference" "$out" 2>&1 | head -n 1)"
    fi
  done
  failures=$((failures + N - ok))
  echo "$label: $ok of $N identical ($((SECONDS - start)) s)"
}

echo "NBD copies with $RATE injected EIO, $N runs per case, $SIZE sparse-random seed=$SEED percent=30"
run_case "reads, default connections" reads
run_case "reads, --connections 1" reads --connections 1
run_case "writes, default connections" writes
run_case "writes, --connections 1" writes --connections 1
rm -f "$WORK/out.raw"
if [ "$failures" -gt 0 ]; then
  echo "FAILED: $failures of $((4 * N)) copies"
  exit 1
fi
echo "all $((4 * N)) copies identical"
