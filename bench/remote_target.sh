#!/usr/bin/env bash
# The testbed's two targets side by side: the netns target (answers in this kernel, in the
# sender's softirq) and the remote-like one (testbed.sh up --remote: mtool_tap_responder
# spinning on the last CPU). For each target, idle, at 2 ms (1000 probes) and 200 ms (100
# probes), REPS replicates alternate a host run and a container run (tools pinned to CPU 0),
# with `mtool correlator --follow-host-probes` on both uplinks so that host runs get wire times
# too. Reported: the host's raw RTT percentiles, the wire-time medians of host and container
# (a fair target gives the same), coverage, and the responder's summary per cell (loop stalls,
# time per packet). The responder is paused while the netns target is measured.
#   usage: bench/remote_target.sh BUILD_DIR [reps]   (BUILD_DIR with tools/mtool and
#          tests/mtool_tap_responder, e.g. build)
set -euo pipefail
BUILD=$(realpath "$1")
REPS=${2:-3}
MTOOL=$BUILD/tools/mtool
export MTOOL_TAP_RESPONDER=$BUILD/tests/mtool_tap_responder
HERE=$(cd "$(dirname "$0")/.." && pwd)
TESTBED="$HERE/tests/testbed/testbed.sh"
export MTOOL_TESTBED_INDEX=${MTOOL_TESTBED_INDEX:-0}
CPU=0
WORK=$(mktemp -d)
PIN_DIR=/sys/fs/bpf/mtool-bench
SOCKET=/run/mtool-bench/correlator.sock
export MTOOL_BPF_PIN_DIR=$PIN_DIR MTOOL_CORRELATOR_SOCKET=$SOCKET
source "$HERE/bench/lib/correlator.sh"

[[ $(id -u) -eq 0 ]] || { echo "bench: needs root" >&2; exit 1; }
(($(nproc) >= 2)) || { echo "bench: needs 2 CPUs (the responder spins on one)" >&2; exit 1; }
[[ -x $MTOOL_TAP_RESPONDER ]] || { echo "bench: no $MTOOL_TAP_RESPONDER (build it)" >&2; exit 1; }
cleanup() {
  stop_bench_correlator
  bash "$TESTBED" down
  rm -rf "$WORK"
}
trap cleanup EXIT
eval "$(bash "$TESTBED" up --remote)"
((TESTBED_REMOTE_CPU != CPU)) || { echo "bench: the responder took CPU $CPU" >&2; exit 1; }
start_bench_correlator "$TESTBED_UPLINK" --uplink "$TESTBED_REMOTE_UPLINK" --follow-host-probes

run_cell() {  # label target interval count
  local label=$1 target=$2 interval=$3 count=$4 r
  for ((r = 1; r <= REPS; r++)); do
    taskset -c "$CPU" "$MTOOL" ping --json -c "$count" -i "$interval" "$target" >"$WORK/$label.host.$r"
    bash "$TESTBED" exec container taskset -c "$CPU" "$MTOOL" ping --json -c "$count" -i "$interval" \
      "$target" >"$WORK/$label.container.$r"
  done
}

bash "$TESTBED" responder stop
run_cell "netns, 2 ms" "$TESTBED_TARGET" 0.002 1000
run_cell "netns, 200 ms" "$TESTBED_TARGET" 0.2 100
for cell in "remote, 2 ms:0.002:1000" "remote, 200 ms:0.2:100"; do
  IFS=: read -r label interval count <<<"$cell"
  bash "$TESTBED" responder start
  run_cell "$label" "$TESTBED_REMOTE_TARGET" "$interval" "$count"
  bash "$TESTBED" responder stop
  echo "$label: $(grep 'answered' "$TESTBED_REMOTE_LOG" | tail -n 1)" >>"$WORK/responder"
done

python3 "$HERE/bench/remote_target_table.py" "$WORK" "$REPS"
echo
sed 's/mtool_tap_responder: //' "$WORK/responder"
echo
echo "command: bash bench/remote_target.sh $1 $REPS"
