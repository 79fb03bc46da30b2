#!/usr/bin/env bash
# The README's `mtool report` sample: a campaign from two vantage points on the testbed
# (instance 27, two routers behind the target), one idle (the container) and one beside a
# co-located flood ping (load1, while load2 floods the target), both through the correlator;
# then `mtool report` over both, and its picture. Root; everything is removed at the end.
#   usage: scripts/report_sample.sh path/to/mtool OUT_DIR
set -euo pipefail
MTOOL=$(realpath "$1")
OUT=$(realpath "$2")
HERE=$(cd "$(dirname "$0")/.." && pwd)
TESTBED="$HERE/tests/testbed/testbed.sh"
export MTOOL_TESTBED_INDEX=27
WORK=$(mktemp -d)
PIN_DIR=/sys/fs/bpf/mtool-report-sample
SOCKET=/run/mtool-report-sample/correlator.sock
[[ $(id -u) -eq 0 ]] || { echo "report_sample: needs root" >&2; exit 1; }
# shellcheck source=bench/lib/correlator.sh
source "$HERE/bench/lib/correlator.sh"
FLOOD=""
cleanup() {
  [[ -z $FLOOD ]] || kill "$FLOOD" 2>/dev/null || true
  stop_bench_correlator
  bash "$TESTBED" down
  rm -rf "$WORK"
}
trap cleanup EXIT
eval "$(bash "$TESTBED" up --load 2 --routers 2)"
start_bench_correlator "$TESTBED_UPLINK"
mkdir -p "$OUT"
for ((i = 0; i < 20; i++)); do
  printf '{"type": "ping", "target": "%s", "packets": 10, "packet_interval": 100}\n' "$TESTBED_TARGET"
done >"$WORK/list.jsonl"
for ((i = 0; i < 3; i++)); do
  printf '{"type": "traceroute", "target": "%s", "protocol": "ICMP", "packets": 3}\n' "$TESTBED_CHAIN_END"
done >>"$WORK/list.jsonl"

campaign() {  # netns prb_id out
  ip netns exec "$1" env MTOOL_BPF_PIN_DIR="$PIN_DIR" MTOOL_CORRELATOR_SOCKET="$SOCKET" \
    "$MTOOL" run --breakdown --concurrency 4 --prb-id "$2" --out "$3" "$WORK/list.jsonl"
}
campaign "$TESTBED_CONTAINER_NS" 1 "$OUT/idle.jsonl"
ip netns exec "${TESTBED_CONTAINER_NS%-*}-load2" ping -f -q -w 30 "$TESTBED_TARGET" >/dev/null &
FLOOD=$!
campaign "${TESTBED_CONTAINER_NS%-*}-load1" 2 "$OUT/beside-a-flood.jsonl"
kill "$FLOOD"
wait "$FLOOD" 2>/dev/null || true
FLOOD=""
cd "$OUT"
"$MTOOL" report --plot report-sample.png idle.jsonl beside-a-flood.jsonl
