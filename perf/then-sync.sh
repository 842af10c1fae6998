#!/usr/bin/env bash
# then-sync.sh FILE COMMAND...: runs COMMAND, then makes FILE durable (coreutils `sync FILE`: fsync
# of that file only). The durable mode of a peer that does not flush its output itself (qemu-img
# convert, cp, nbdcopy), timed like extentflow's default copy, which fdatasyncs its target at the end.
set -euo pipefail
file="$1"
shift
"$@"
sync "$file"
