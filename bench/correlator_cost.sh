#!/usr/bin/env bash
# What the correlator costs the host, on the testbed:
#  - ns per program run (kernel.bpf_stats_enabled via --stats), for probe traffic (a subscribed
#    container flood-pinging; Paris traceroutes) and for traffic that is not probes (UDP; an unsubscribed
#    container's flood ping; the host's own flood ping);
#  - the same probe traffic with per-namespace histograms (--metrics) off and on, alternated
#    REPS times, per program (records complete, and are counted, in netif_rx); and, with the
#    integration tests' binary, the run that completes a record timed alone by the kernel
#    (BPF_PROG_TEST_RUN, 20000 records, histograms off/on/on/off);
#  - what run-time statistics themselves add to each program run (bench/lib/bpf_stats_cost.py);
#  - the host's RTT with and without the correlator (alternated, REPS replicates);
#  - flood packets per second with and without it, from the host and from a container.
#   usage: bench/correlator_cost.sh path/to/mtool [reps [path/to/mtool_integration_tests]]
set -euo pipefail
MTOOL=$(realpath "$1")
REPS=${2:-3}
INTEGRATION_TESTS=${3:-}
HERE=$(cd "$(dirname "$0")/.." && pwd)
TESTBED="$HERE/tests/testbed/testbed.sh"
export MTOOL_TESTBED_INDEX=${MTOOL_TESTBED_INDEX:-0}
PIN_DIR=/sys/fs/bpf/mtool-bench
SOCKET=/run/mtool-bench/correlator.sock
export MTOOL_BPF_PIN_DIR=$PIN_DIR MTOOL_CORRELATOR_SOCKET=$SOCKET
IPUTILS=(env PATH=/usr/bin:/bin ping)
FLOOD_COUNT=${FLOOD_COUNT:-100000}

[[ $(id -u) -eq 0 ]] || { echo "bench: needs root" >&2; exit 1; }
CORRELATOR=""
# The floods here are to be followed whole (this measures what following costs), so the
# per-namespace rate limit (10,000 probes/s by default) is lifted for them.
start_correlator() {  # [--stats]: run-time statistics cost a little per event: only for that table
  "$MTOOL" correlator --uplink "$TESTBED_UPLINK" --pin-dir "$PIN_DIR" --socket "$SOCKET" \
    --namespace-probe-rate 10000000 "$@" 2>/dev/null &
  CORRELATOR=$!
  for _ in $(seq 50); do "$MTOOL" correlator status --socket "$SOCKET" >/dev/null 2>&1 && return; sleep 0.1; done
  echo "bench: correlator did not start" >&2
  exit 1
}
stop_correlator() {
  if [[ -n $CORRELATOR ]]; then
    kill "$CORRELATOR" 2>/dev/null || true
    wait "$CORRELATOR" 2>/dev/null || true
  fi
  CORRELATOR=""
}
cleanup() {
  stop_correlator
  bash "$TESTBED" down
  rm -rf "$PIN_DIR" "$(dirname "$SOCKET")"
}
trap cleanup EXIT
eval "$(bash "$TESTBED" up --load 1)"
rm -rf "$PIN_DIR"

# Sum of run_time_ns and run_cnt over the correlator's three programs, or over those named
# like $1 (netif_rx: the receive hook where records complete).
prog_stats() {
  bpftool -j prog show | python3 -c '
import json, sys
t = c = 0
for p in json.load(sys.stdin):
    name = p.get("name", "")
    if name in ("btf_dev_queue", "btf_netif_rx", "btf_receive_skb", "raw_dev_queue", "raw_netif_rx", "raw_receive_skb") and sys.argv[1] in name:
        t += p.get("run_time_ns", 0); c += p.get("run_cnt", 0)
print(t, c)' "${1:-_}"
}
cost_of() {  # label command... -> "label: N ns per run (runs)"
  local label=$1
  shift
  read -r t0 c0 <<<"$(prog_stats)"
  "$@" >/dev/null 2>&1 || true
  read -r t1 c1 <<<"$(prog_stats)"
  awk -v l="$label" -v t=$((t1 - t0)) -v c=$((c1 - c0)) \
    'BEGIN { printf "| %s | %.0f | %d |\n", l, (c ? t / c : 0), c }'
}
udp_blast() {  # inside the container: datagrams that are not probes
  bash "$TESTBED" exec container python3 -c '
import socket, sys
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
for _ in range(100000): s.sendto(b"x" * 32, (sys.argv[1], 9))' "$TESTBED_TARGET"
}

paris_traces() {  # inside the container: UDP probes keyed by their checksums
  bash "$TESTBED" exec container bash -c 'for _ in $(seq 200); do "$1" traceroute -n --paris=1 "$2"; done' \
    paris "$MTOOL" "$TESTBED_TARGET"
}

echo "## Per-event cost (correlator with --stats)"
echo
echo "| traffic | ns per program run | runs |"
echo "|---|---|---|"
start_correlator --stats
cost_of "probes: subscribed container, mtool ping -f -c 20000" \
  bash "$TESTBED" exec container "$MTOOL" ping -q -f -c 20000 "$TESTBED_TARGET"
cost_of "probes: subscribed container, 200 mtool traceroute --paris (UDP) to the target" \
  paris_traces
cost_of "not probes: UDP from a container (100000 datagrams)" udp_blast
cost_of "not probes: unsubscribed container, iputils ping -f -c 20000" \
  bash "$TESTBED" exec load1 "${IPUTILS[@]}" -q -f -c 20000 "$TESTBED_TARGET"
cost_of "not probes: host iputils ping -f -c 20000" "${IPUTILS[@]}" -q -f -c 20000 "$TESTBED_TARGET"
stop_correlator

# --metrics needs a free port: whatever the system gives on loopback.
METRICS_PORT=$(python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
histogram_run() {  # off|on -> "all_ns_per_run netif_rx_ns_per_run runs"
  local extra=()
  [[ $1 == on ]] && extra=(--metrics "127.0.0.1:$METRICS_PORT")
  start_correlator --stats "${extra[@]}"
  read -r t0 c0 <<<"$(prog_stats)"
  read -r r0 n0 <<<"$(prog_stats netif_rx)"
  bash "$TESTBED" exec container "$MTOOL" ping -q -f -c 20000 "$TESTBED_TARGET" >/dev/null 2>&1 || true
  read -r t1 c1 <<<"$(prog_stats)"
  read -r r1 n1 <<<"$(prog_stats netif_rx)"
  stop_correlator
  awk -v t=$((t1 - t0)) -v c=$((c1 - c0)) -v r=$((r1 - r0)) -v n=$((n1 - n0)) \
    'BEGIN { printf "%.1f %.1f %d\n", (c ? t / c : 0), (n ? r / n : 0), c }'
}
declare -A hist
for ((r = 1; r <= REPS; r++)); do
  for state in off on; do
    read -r all rx _ <<<"$(histogram_run $state)"
    hist[$state.all]+="$all "
    hist[$state.rx]+="$rx "
  done
done
echo
echo "## Per-namespace histograms (--metrics) off and on ($REPS alternated replicates; mtool ping -f -c 20000 from a subscribed container)"
echo
python3 - "${hist[off.all]}" "${hist[on.all]}" "${hist[off.rx]}" "${hist[on.rx]}" <<'PY'
import statistics as st, sys
a = [list(map(float, x.split())) for x in sys.argv[1:]]
print("| ns per program run | histograms off | histograms on | on - off (median) |")
print("|---|---|---|---|")
for label, off, on in (("all three programs", a[0], a[1]), ("netif_rx (records complete here)", a[2], a[3])):
    print(f"| {label} | {' '.join(f'{x:g}' for x in off)} | {' '.join(f'{x:g}' for x in on)} | {st.median(on) - st.median(off):+.1f} |")
PY
if [[ -n $INTEGRATION_TESTS ]]; then
  # "histograms: ns per run completing a record (median of N), off A B, on C D"
  line=$(MTOOL_HISTOGRAM_ROUNDS=20000 "$INTEGRATION_TESTS" \
    --gtest_filter=BpfStateMachine.HistogramsCountEveryRecordOfALongRun | grep '^histograms:')
  echo "$line" | sed -E 's/.*median of ([0-9]+)\), off ([0-9]+) ([0-9]+), on ([0-9]+) ([0-9]+)/\1 \2 \3 \4 \5/' |
    awk '{ printf "| the run completing a record, timed alone (BPF_PROG_TEST_RUN, median of %s) | %s %s | %s %s | %+.1f |\n", $1, $2, $3, $4, $5, ($4 + $5 - $2 - $3) / 2 }'
fi

echo
echo "## What run-time statistics (--stats) add to every program run"
echo
echo "| round | empty program, statistics off (ns per run) | on | on - off |"
echo "|---|---|---|---|"
python3 "$HERE/bench/lib/bpf_stats_cost.py" "$REPS" | awk '{ printf "| %s | %s | %s | %+d |\n", $1, $2, $3, $3 - $2 }'

host_rtt() {  # -> trimmed mean and median of 2000 host RTTs at 2 ms, in us
  "$MTOOL" ping --json -c 2000 -i 0.002 "$TESTBED_TARGET" | python3 -c '
import json, sys
v = sorted(json.loads(l)["rtt_ms"] * 1e3 for l in sys.stdin if "\"reply\"" in l)
k = len(v) // 10
t = v[k:len(v) - k]
print(f"{sum(t) / len(t):.2f} {v[len(v) // 2]:.2f}")'
}
flood_pps() {  # where(host|container) -> packets per second of an iputils flood
  local prefix=()
  [[ $1 == container ]] && prefix=(bash "$TESTBED" exec load1)
  "${prefix[@]}" "${IPUTILS[@]}" -q -f -c "$FLOOD_COUNT" "$TESTBED_TARGET" |
    awk -v n="$FLOOD_COUNT" '/packets transmitted/ { for (i = 1; i <= NF; i++) if ($i == "time") { sub("ms", "", $(i+1)); printf "%.0f\n", n / ($(i+1) / 1000) } }'
}
mtool_flood_pps() {  # a subscribed container's flood (every echo followed, read from the pinned maps)
  # nsenter keeps the host's mounts (bpffs), as a privileged container with it mounted would.
  nsenter --net="/run/netns/$TESTBED_CONTAINER_NS" "$MTOOL" ping -q -f -c "$FLOOD_COUNT" "$TESTBED_TARGET" 2>/dev/null |
    awk -v n="$FLOOD_COUNT" '/packets transmitted/ { for (i = 1; i <= NF; i++) if ($i == "time") { sub("ms", "", $(i+1)); printf "%.0f\n", n / ($(i+1) / 1000) } }'
}

declare -A sum
for ((r = 1; r <= REPS; r++)); do
  for state in without with; do
    [[ $state == with ]] && start_correlator
    read -r tmean median <<<"$(host_rtt)"
    sum[$state.tmean]+="$tmean "
    sum[$state.median]+="$median "
    sum[$state.host_pps]+="$(flood_pps host) "
    sum[$state.cont_pps]+="$(flood_pps container) "
    sum[$state.mtool_pps]+="$(mtool_flood_pps) "
    [[ $state == with ]] && stop_correlator
  done
done

echo
echo "## With and without the correlator ($REPS alternated replicates; values per replicate)"
echo
python3 - "${sum[without.tmean]}" "${sum[with.tmean]}" "${sum[without.median]}" "${sum[with.median]}" \
  "${sum[without.host_pps]}" "${sum[with.host_pps]}" "${sum[without.cont_pps]}" "${sum[with.cont_pps]}" \
  "${sum[without.mtool_pps]}" "${sum[with.mtool_pps]}" <<'PY'
import statistics as st, sys
a = [list(map(float, x.split())) for x in sys.argv[1:]]
def row(label, wo, w, unit, ratio):
    m_wo, m_w = st.median(wo), st.median(w)
    rel = f"{m_w / m_wo:.3f}" if ratio else f"{m_w - m_wo:+.2f} us"
    print(f"| {label} | {' '.join(f'{x:g}' for x in wo)} | {' '.join(f'{x:g}' for x in w)} | {rel} |")
print("| metric | without | with | with vs without (median) |")
print("|---|---|---|---|")
row("host RTT, 10%-trimmed mean (us)", a[0], a[1], "us", False)
row("host RTT, median (us)", a[2], a[3], "us", False)
row("host iputils flood (pps)", a[4], a[5], "pps", True)
row("unsubscribed container iputils flood (pps)", a[6], a[7], "pps", True)
row("subscribed container mtool flood, every echo followed and corrected (pps)", a[8], a[9], "pps", True)
PY
echo
echo "command: make bench (bench/correlator_cost.sh build-release/tools/mtool $REPS)"
