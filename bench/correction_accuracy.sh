#!/usr/bin/env bash
# How close the corrected container RTT comes to the host's own RTT, on the testbed.
#
# Four cases (idle / two co-located flood pings, x 2 ms / 200 ms intervals). In each, REPS
# replicates alternate a host run and a container run to the same target; each run's p50/p90/p99
# RTT is compared with the host run next to it. Reported: ranges across replicates of raw bias
# (container raw - host), corrected bias (container corrected - host), the same for plain
# subtraction (raw - egress - ingress, without the local-target term), and coverage.
#   usage: bench/correction_accuracy.sh path/to/mtool [reps]
set -euo pipefail
MTOOL=$(realpath "$1")
REPS=${2:-3}
# Host and container runs on the same CPU: a like-for-like pair (unpinned, the host run alone
# moved between CPUs with 2x different sparse RTTs).
CPU=$(($(nproc) - 1))
HERE=$(cd "$(dirname "$0")/.." && pwd)
TESTBED="$HERE/tests/testbed/testbed.sh"
export MTOOL_TESTBED_INDEX=${MTOOL_TESTBED_INDEX:-0}
WORK=$(mktemp -d)
PIN_DIR=/sys/fs/bpf/mtool-bench
SOCKET=/run/mtool-bench/correlator.sock
export MTOOL_BPF_PIN_DIR=$PIN_DIR MTOOL_CORRELATOR_SOCKET=$SOCKET

[[ $(id -u) -eq 0 ]] || { echo "bench: needs root" >&2; exit 1; }
cleanup() {
  [[ -n ${FLOODS:-} ]] && kill $FLOODS 2>/dev/null
  [[ -n ${CORRELATOR:-} ]] && kill "$CORRELATOR" 2>/dev/null && wait "$CORRELATOR" 2>/dev/null
  bash "$TESTBED" down
  rm -rf "$PIN_DIR" "$(dirname "$SOCKET")" "$WORK"
}
trap cleanup EXIT
eval "$(bash "$TESTBED" up --load 2)"
rm -rf "$PIN_DIR"
"$MTOOL" correlator --uplink "$TESTBED_UPLINK" --pin-dir "$PIN_DIR" --socket "$SOCKET" 2>"$WORK/correlator.log" &
CORRELATOR=$!
for _ in $(seq 50); do "$MTOOL" correlator status --socket "$SOCKET" >/dev/null 2>&1 && break; sleep 0.1; done

run_case() {  # label interval count
  local label=$1 interval=$2 count=$3
  for ((r = 1; r <= REPS; r++)); do
    taskset -c "$CPU" "$MTOOL" ping --json -c "$count" -i "$interval" "$TESTBED_TARGET" >"$WORK/$label.host.$r"
    bash "$TESTBED" exec container taskset -c "$CPU" "$MTOOL" ping --json -c "$count" -i "$interval" "$TESTBED_TARGET" \
      >"$WORK/$label.container.$r"
  done
}

start_floods() {
  FLOODS=""
  for n in 1 2; do
    bash "$TESTBED" exec "load$n" env MTOOL_CORRELATOR=off "$MTOOL" ping -f -q "$TESTBED_TARGET" >/dev/null 2>&1 &
    FLOODS="$FLOODS $!"
  done
  sleep 0.5
}

run_case "idle, 2 ms" 0.002 1000
run_case "idle, 200 ms" 0.2 100
start_floods
run_case "2 floods, 2 ms" 0.002 1000
run_case "2 floods, 200 ms" 0.2 100
kill $FLOODS 2>/dev/null || true
FLOODS=""

python3 "$HERE/bench/correction_table.py" "$WORK" "$REPS"
echo
echo "command: make bench (bench/correction_accuracy.sh build-release/tools/mtool $REPS)"
