#!/usr/bin/env bash
# mtool run at scale: 10,000 Atlas ping definitions (3 packets, 1 s apart, Atlas' defaults)
# over 50 target namespaces behind the testbed's uplink (tests/testbed/testbed.sh up --targets
# 50, instance 14), from the container, asking for PPS probes/s with up to 4000 measurements
# in progress. Alternates runs without and with the correlator on the host, REPS of each, and
# reports per run: the achieved rate (probes sent / wall time, start-up and the last 2 s of
# waiting included), peak RSS, results written, and replies accounted for (sent = received +
# lost) and corrected.
#   usage: bench/campaign_throughput.sh path/to/mtool [reps] [pps]
set -euo pipefail
MTOOL=$(realpath "$1")
REPS=${2:-2}
PPS=${3:-5000}
HERE=$(cd "$(dirname "$0")/.." && pwd)
TESTBED="$HERE/tests/testbed/testbed.sh"
export MTOOL_TESTBED_INDEX=14
TARGETS=50
DEFINITIONS=10000
WORK=$(mktemp -d)
PIN_DIR=/sys/fs/bpf/mtool-bench-run
SOCKET=/run/mtool-bench-run/correlator.sock

[[ $(id -u) -eq 0 ]] || { echo "bench: needs root" >&2; exit 1; }
# shellcheck source=bench/lib/correlator.sh
source "$HERE/bench/lib/correlator.sh"
cleanup() {
  stop_bench_correlator
  bash "$TESTBED" down
  rm -rf "$WORK"
}
trap cleanup EXIT
eval "$(bash "$TESTBED" up --targets "$TARGETS")"
prefix=${TESTBED_TARGETS_FIRST%.*}
for ((i = 0; i < DEFINITIONS; i++)); do
  printf '{"type": "ping", "af": 4, "target": "%s.%d"}\n' "$prefix" $((11 + i % TARGETS))
done >"$WORK/list.jsonl"

start_bench_correlator "$TESTBED_UPLINK"

# One campaign in the container; prints "seconds peak-rss-kib exit-code".
campaign() {  # off|on out-file
  local env=(env MTOOL_CORRELATOR=off)
  [[ $1 == on ]] && env=(env MTOOL_BPF_PIN_DIR="$PIN_DIR" MTOOL_CORRELATOR_SOCKET="$SOCKET")
  local rc=0
  ip netns exec "$TESTBED_CONTAINER_NS" /usr/bin/time -f '%e %M' -o "$WORK/time" \
    "${env[@]}" "$MTOOL" run --pps "$PPS" --concurrency 4000 --out "$2" "$WORK/list.jsonl" \
    2>"$WORK/stderr" || rc=$?
  echo "$(cat "$WORK/time") $rc"
}

echo "| run | correlator | probes/s | peak RSS | results | sent | received | lost | corrected |"
echo "|---|---|---|---|---|---|---|---|---|"
for ((rep = 1; rep <= REPS; rep++)); do
  for mode in off on; do
    read -r seconds rss rc < <(campaign "$mode" "$WORK/out.jsonl")
    ((rc == 0)) || { echo "bench: mtool run exited $rc:" >&2; cat "$WORK/stderr" >&2; exit 1; }
    python3 - "$WORK/out.jsonl" "$seconds" "$rss" "$rep" "$mode" <<'PY'
import json, sys
path, seconds, rss, rep, mode = sys.argv[1], float(sys.argv[2]), int(sys.argv[3]), sys.argv[4], sys.argv[5]
results = sent = rcvd = lost = corrected = 0
for line in open(path):
    r = json.loads(line)
    results += 1
    sent += r["sent"]
    rcvd += r["rcvd"]
    lost += sum(1 for p in r["result"] if p.get("x") == "*")
    corrected += sum(1 for p in r["result"] if "rtt_corrected" in p)
print(f"| {rep} | {mode} | {sent / seconds:.0f} | {rss / 1024:.1f} MiB | {results} | {sent} | {rcvd} | {lost} | {corrected} |")
PY
  done
done
echo
echo "asked: $PPS probes/s, $DEFINITIONS definitions x 3 packets over $TARGETS targets; $(nproc) CPUs"
