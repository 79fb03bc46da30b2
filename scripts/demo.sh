#!/usr/bin/env bash
# The demo: a Docker-like container path on this machine (tests/testbed), the host correlator,
# and the same target pinged from the host and from the container: the container's raw RTT,
# its corrected RTT, and the host's own, idle and with two co-located flood pings. Then a
# traceroute from the container through two more routers: corrected hops, the host's own hop
# marked [virtual].
#   usage: scripts/demo.sh path/to/mtool
set -euo pipefail
MTOOL=$(realpath "$1")
HERE=$(cd "$(dirname "$0")/.." && pwd)
TESTBED="$HERE/tests/testbed/testbed.sh"
COUNT=${DEMO_COUNT:-300}
INTERVAL=${DEMO_INTERVAL:-0.01}
PIN_DIR=/sys/fs/bpf/mtool-demo
SOCKET=/run/mtool-demo/correlator.sock
export MTOOL_BPF_PIN_DIR=$PIN_DIR MTOOL_CORRELATOR_SOCKET=$SOCKET

[[ $(id -u) -eq 0 ]] || { echo "demo: needs root (builds network namespaces, loads BPF)" >&2; exit 1; }
CORRELATOR=""
FLOODS=()
cleanup() {
  ((${#FLOODS[@]})) && kill "${FLOODS[@]}" 2>/dev/null
  [[ -n $CORRELATOR ]] && kill "$CORRELATOR" 2>/dev/null && wait "$CORRELATOR" 2>/dev/null
  bash "$TESTBED" down
  rm -rf "$PIN_DIR" "$(dirname "$SOCKET")"
}
trap cleanup EXIT
eval "$(bash "$TESTBED" up --load 2 --routers 2)"

rm -rf "$PIN_DIR"
"$MTOOL" correlator --uplink "$TESTBED_UPLINK" --pin-dir "$PIN_DIR" --socket "$SOCKET" &
CORRELATOR=$!
for _ in $(seq 50); do "$MTOOL" correlator status --socket "$SOCKET" >/dev/null 2>&1 && break; sleep 0.1; done

# p50 p90 p99 in microseconds from a `--percentiles` summary line starting with $1.
percentiles() {
  awk -v label="$1" -F'= ' 'index($0, label " p50/p90/p99/p99.9") == 1 {
    split($2, v, "/"); printf "%.0f %.0f %.0f\n", v[1] * 1000, v[2] * 1000, v[3] * 1000 }'
}

row() {
  local label=$1 host container
  host=$("$MTOOL" ping -q -c "$COUNT" -i "$INTERVAL" --percentiles "$TESTBED_TARGET")
  # The container pings as an unprivileged user, as in a default Docker container: its
  # corrections come through the correlator's socket.
  container=$(bash "$TESTBED" exec container setpriv --reuid=65534 --regid=65534 --clear-groups \
    env MTOOL_CORRELATOR_SOCKET="$SOCKET" "$MTOOL" ping -q -c "$COUNT" -i "$INTERVAL" --percentiles "$TESTBED_TARGET")
  read -r h50 h90 h99 <<<"$(percentiles rtt <<<"$host")"
  read -r r50 r90 r99 <<<"$(percentiles rtt <<<"$container")"
  read -r c50 c90 c99 <<<"$(percentiles "corrected rtt" <<<"$container")"
  local covered
  covered=$(awk '/replies corrected/ { print $(NF - 2) }' <<<"$container")
  printf "| %-22s | %3s / %3s / %3s | %3s / %3s / %3s | %3s / %3s / %3s | %+4d / %+4d | %+4d / %+4d | %9s |\n" "$label" \
    "$h50" "$h90" "$h99" "$r50" "$r90" "$r99" "$c50" "$c90" "$c99" \
    $((r50 - h50)) $((r90 - h90)) $((c50 - h50)) $((c90 - h90)) "$covered"
}

echo
echo "mtool demo: container $TESTBED_CONTAINER_ADDR -> veth -> bridge $TESTBED_BRIDGE -> NAT -> $TESTBED_UPLINK -> target $TESTBED_TARGET"
echo "$COUNT probes every ${INTERVAL}s per cell; RTT p50 / p90 / p99 in microseconds"
echo
echo "| case                   | host RTT        | container raw   | corrected       | raw bias    | corr. bias  | corrected |"
echo "|------------------------|-----------------|-----------------|-----------------|-------------|-------------|-----------|"
row "idle"
for n in 1 2; do
  bash "$TESTBED" exec "load$n" env MTOOL_CORRELATOR=off "$MTOOL" ping -f -q "$TESTBED_TARGET" >/dev/null 2>&1 &
  FLOODS+=("$!")
done
sleep 0.5
row "2 co-located floods"
kill "${FLOODS[@]}" 2>/dev/null || true
FLOODS=()
echo
echo "bias = container minus host (p50 / p90). The correlator measured each probe's own trip"
echo "through the host's virtual network; corrected = raw minus that (README: Corrected RTT)."
echo
echo "traceroute from the container (unprivileged, UDP), then the same from the host:"
bash "$TESTBED" exec container setpriv --reuid=65534 --regid=65534 --clear-groups \
  env MTOOL_CORRELATOR_SOCKET="$SOCKET" "$MTOOL" traceroute -n "$TESTBED_CHAIN_END"
"$MTOOL" traceroute -n "$TESTBED_CHAIN_END"
echo
"$MTOOL" correlator status --socket "$SOCKET"
