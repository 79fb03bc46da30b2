#!/usr/bin/env bash
# Issue 14, attribution: the same Docker container on a user-defined network, its send path
# (send_stack_us) with Docker's nat rules in its netns (embedded DNS: DOCKER_OUTPUT /
# DOCKER_POSTROUTING, which make the netns run conntrack + nat on every packet it sends) and
# with that table deleted (no netfilter hook left in the netns), alternated, next to the host
# (non-root, ICMP datagram socket, same CPU). No correlator (MTOOL_CORRELATOR=off everywhere):
# only the send path is compared. Testbed 23, Docker network 198.18.223.0/24.
#   usage: bench/send_path/nat_ab.sh [reps]        (root; needs nft)
set -euo pipefail
REPS=${1:-6}
CPU=${CPU:-0}
IMAGE=${IMAGE:-mtool:sendpath}
HERE=$(cd "$(dirname "$0")/../.." && pwd)
export MTOOL_TESTBED_INDEX=23
T="$HERE/tests/testbed/testbed.sh"
OUT=${2:-$(mktemp -d /tmp/send_path_nat.XXXX)}
mkdir -p "$OUT"
MTOOL=/tmp/mtool-sendpath-nat
U=(setpriv --reuid 10001 --regid 10001 --clear-groups)
cleanup() {
  docker rm -f sp-nat >/dev/null 2>&1 || true
  docker network rm sp-net >/dev/null 2>&1 || true
  bash "$T" down >/dev/null 2>&1 || true
  [[ -n ${PGR:-} ]] && sysctl -qw net.ipv4.ping_group_range="$PGR"
  rm -f "$MTOOL"
}
trap cleanup EXIT
install -m 755 "${MTOOL_BIN:-$HERE/build-release/tools/mtool}" "$MTOOL"
eval "$(bash "$T" up)"
PGR=$(sysctl -n net.ipv4.ping_group_range | tr '\t' ' ')
sysctl -qw net.ipv4.ping_group_range="10001 10001"
docker network create --subnet 198.18.223.0/24 sp-net >/dev/null
docker run -d --name sp-nat --network sp-net --cpuset-cpus "$CPU" -e MTOOL_CORRELATOR=off "$IMAGE" ping -q -i 30 127.0.0.1 >/dev/null
PID=$(docker inspect -f '{{.State.Pid}}' sp-nat)
RULES=$(nsenter -t "$PID" -n iptables-save -t nat)
nat_on() { nsenter -t "$PID" -n iptables-restore <<<"$RULES"; }
nat_off() { nsenter -t "$PID" -n nft delete table ip nat; }
TGT=$TESTBED_TARGET
for ((r = 1; r <= REPS; r++)); do
  order=(host nat nonat)
  ((r % 2 == 0)) && order=(nonat nat host)
  for spec in "0.002 500 2ms" "0.2 40 200ms"; do
    read -r interval count label <<<"$spec"
    for side in "${order[@]}"; do
      f="$OUT/idle-$label.$side.$r"
      case $side in
        host) MTOOL_CORRELATOR=off taskset -c "$CPU" "${U[@]}" "$MTOOL" ping --json -c "$count" -i "$interval" "$TGT" >"$f" ;;
        nat) nat_on; docker exec sp-nat ping --json -c "$count" -i "$interval" "$TGT" >"$f" ;;
        nonat) nat_off; docker exec sp-nat ping --json -c "$count" -i "$interval" "$TGT" >"$f" ;;
      esac
    done
    nat_on
  done
done
nsenter -t "$PID" -n nft list tables
python3 "$HERE/bench/send_path/stats.py" --pairs "$OUT"
