#!/usr/bin/env bash
# The demo: a Docker-like container path on this machine (tests/testbed), and the same target
# pinged from the host and from the container, idle and with two co-located flooders.
#   usage: scripts/demo.sh path/to/mtool
set -euo pipefail
MTOOL=$(realpath "$1")
HERE=$(cd "$(dirname "$0")/.." && pwd)
TESTBED="$HERE/tests/testbed/testbed.sh"
COUNT=${DEMO_COUNT:-300}
INTERVAL=${DEMO_INTERVAL:-0.01}

[[ $(id -u) -eq 0 ]] || { echo "demo: needs root (builds network namespaces)" >&2; exit 1; }
trap 'bash "$TESTBED" down' EXIT
eval "$(bash "$TESTBED" up --load 2)"

measure() {  # where: host|container -> "p50 p90 p99" in microseconds
  local prefix=()
  [[ $1 == container ]] && prefix=(ip netns exec "$TESTBED_CONTAINER_NS")
  "${prefix[@]}" "$MTOOL" ping -q -c "$COUNT" -i "$INTERVAL" --percentiles "$TESTBED_TARGET" |
    awk -F'= ' '/^rtt p50/ {split($2, v, "/"); printf "%.0f %.0f %.0f\n", v[1] * 1000, v[2] * 1000, v[3] * 1000}'
}

row() {
  local label=$1
  read -r h50 h90 h99 <<<"$(measure host)"
  read -r c50 c90 c99 <<<"$(measure container)"
  printf "| %-28s | %4s / %4s / %4s | %4s / %4s / %4s | %+4d / %+4d / %+4d |\n" "$label" \
    "$h50" "$h90" "$h99" "$c50" "$c90" "$c99" $((c50 - h50)) $((c90 - h90)) $((c99 - h99))
}

echo
echo "mtool demo: container $TESTBED_CONTAINER_ADDR -> bridge $TESTBED_BRIDGE -> NAT -> $TESTBED_UPLINK -> target $TESTBED_TARGET"
echo "$COUNT probes every ${INTERVAL}s per cell; RTT p50 / p90 / p99 in microseconds"
echo
echo "| case                         | host RTT           | container raw RTT  | container bias     |"
echo "|------------------------------|--------------------|--------------------|--------------------|"
row "idle"
for n in 1 2; do bash "$TESTBED" exec "load$n" ping -f -q "$TESTBED_TARGET" >/dev/null 2>&1 & done
sleep 0.5
row "2 co-located flood pings"
kill $(jobs -p) 2>/dev/null || true
wait 2>/dev/null || true
echo
echo "The bias is what the container's virtual path adds. Per-probe correction (the host eBPF"
echo "correlator) is not built yet: see the README's roadmap."
