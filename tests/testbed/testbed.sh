#!/usr/bin/env bash
# A Docker-equivalent container path built from network namespaces, for tests, demos and
# benchmarks. Everything is addressed in 198.18.0.0/15 and torn down by `down` (and by `up`
# itself if it fails half way).
#
#   container netns (eth0 198.18.<16+i>.2/24, default via .1)
#     -> veth -> bridge <p>br (198.18.<16+i>.1/24, the gateway, in the host namespace)
#     -> forwarding + MASQUERADE (conntrack) -> uplink veth <p>up (198.19.<i>.1/30)
#     -> target netns (198.19.<i>.2/30)
#   load containers (optional): more netns on the same bridge, 198.18.<16+i>.<10+n>
# IPv6 the same way: bridge fd00:6d74:b<i>::/64 (gateway ::1, container ::2, load ::<10+n>),
# ip6tables MASQUERADE, uplink fd00:6d74:a<i>::/64 (host ::1, target ::2).
#
# usage: testbed.sh up [--load N] | down | exec container|target|load<N> CMD... | env
#   MTOOL_TESTBED_INDEX (0..63) picks the instance, so several can coexist.
set -euo pipefail

INDEX=${MTOOL_TESTBED_INDEX:-0}
P="mtb${INDEX}"
BRIDGE_NET="198.18.$((16 + INDEX))"  # clear of Docker (198.18.0/24, 198.18.128/17) and the tests (198.18.100+)
UPLINK_NET="198.19.${INDEX}"
BRIDGE_NET6="fd00:6d74:b${INDEX}:"
UPLINK_NET6="fd00:6d74:a${INDEX}:"
FORWARDING6_SAVED=/run/mtool-testbed-${INDEX}.forwarding6
NS_CONTAINER="${P}-container"
NS_TARGET="${P}-target"
BRIDGE="${P}br"
UPLINK="${P}up"
CONTAINER_IF="${P}c0"

log() { printf 'testbed: %s\n' "$*" >&2; }

load_namespaces() { ip netns list | awk '{print $1}' | grep -E "^${P}-load[0-9]+$" || true; }

down() {
  for ns in $(load_namespaces); do ip netns pids "$ns" 2>/dev/null | xargs -r kill 2>/dev/null || true; done
  for ns in "$NS_CONTAINER" "$NS_TARGET" $(load_namespaces); do ip netns del "$ns" 2>/dev/null || true; done
  ip link del "$BRIDGE" 2>/dev/null || true
  ip link del "$UPLINK" 2>/dev/null || true
  ip link del "$CONTAINER_IF" 2>/dev/null || true
  for n in $(ip -o link show | awk -F': ' '{print $2}' | sed 's/@.*//' | grep -E "^${P}l[0-9]+$" || true); do
    ip link del "$n" 2>/dev/null || true
  done
  iptables -t nat -D POSTROUTING -s "${BRIDGE_NET}.0/24" ! -o "$BRIDGE" -j MASQUERADE 2>/dev/null || true
  iptables -D FORWARD -i "$BRIDGE" -j ACCEPT 2>/dev/null || true
  iptables -D FORWARD -o "$BRIDGE" -m conntrack --ctstate RELATED,ESTABLISHED -j ACCEPT 2>/dev/null || true
  ip6tables -t nat -D POSTROUTING -s "${BRIDGE_NET6}:/64" ! -o "$BRIDGE" -j MASQUERADE 2>/dev/null || true
  ip6tables -D FORWARD -i "$BRIDGE" -j ACCEPT 2>/dev/null || true
  ip6tables -D FORWARD -o "$BRIDGE" -m conntrack --ctstate RELATED,ESTABLISHED -j ACCEPT 2>/dev/null || true
  # IPv6 forwarding back to what it was before this instance turned it on.
  if [[ -f $FORWARDING6_SAVED ]]; then
    sysctl -qw net.ipv6.conf.all.forwarding="$(cat "$FORWARDING6_SAVED")" || true
    rm -f "$FORWARDING6_SAVED"
  fi
}

add_container() {  # name, host-side veth name, address, IPv6 address
  local ns=$1 hostif=$2 addr=$3 addr6=$4
  ip netns add "$ns"
  ip link add "$hostif" type veth peer name eth0 netns "$ns"
  ip link set "$hostif" master "$BRIDGE" up
  ip netns exec "$ns" ip link set lo up
  ip netns exec "$ns" ip addr add "$addr/24" dev eth0
  ip netns exec "$ns" ip link set eth0 up
  ip netns exec "$ns" ip route add default via "${BRIDGE_NET}.1"
  ip netns exec "$ns" ip -6 addr add "$addr6/64" dev eth0 nodad
  ip netns exec "$ns" ip -6 route add default via "${BRIDGE_NET6}:1"
  # As Docker does: unprivileged ICMP sockets for everyone inside the container.
  ip netns exec "$ns" sysctl -qw net.ipv4.ping_group_range="0 2147483647"
}

up() {
  local load=0
  while (($#)); do
    case $1 in
      --load) load=$2; shift 2 ;;
      *) log "unknown option $1"; exit 2 ;;
    esac
  done
  [[ $(id -u) -eq 0 ]] || { log "needs root"; exit 1; }
  down
  trap 'log "setup failed; tearing down"; down' ERR

  ip link add "$BRIDGE" type bridge
  ip addr add "${BRIDGE_NET}.1/24" dev "$BRIDGE"
  ip -6 addr add "${BRIDGE_NET6}:1/64" dev "$BRIDGE" nodad
  ip link set "$BRIDGE" up
  add_container "$NS_CONTAINER" "$CONTAINER_IF" "${BRIDGE_NET}.2" "${BRIDGE_NET6}:2"
  for ((n = 1; n <= load; n++)); do
    add_container "${P}-load${n}" "${P}l${n}" "${BRIDGE_NET}.$((10 + n))" "${BRIDGE_NET6}:$((10 + n))"
  done

  ip netns add "$NS_TARGET"
  ip link add "$UPLINK" type veth peer name eth0 netns "$NS_TARGET"
  ip addr add "${UPLINK_NET}.1/30" dev "$UPLINK"
  ip -6 addr add "${UPLINK_NET6}:1/64" dev "$UPLINK" nodad
  ip link set "$UPLINK" up
  ip netns exec "$NS_TARGET" ip link set lo up
  ip netns exec "$NS_TARGET" ip addr add "${UPLINK_NET}.2/30" dev eth0
  ip netns exec "$NS_TARGET" ip -6 addr add "${UPLINK_NET6}:2/64" dev eth0 nodad
  ip netns exec "$NS_TARGET" ip link set eth0 up
  ip netns exec "$NS_TARGET" sysctl -qw net.ipv4.icmp_ratelimit=0
  ip netns exec "$NS_TARGET" sysctl -qw net.ipv6.icmp.ratelimit=0

  sysctl -qw net.ipv4.ip_forward=1
  iptables -t nat -A POSTROUTING -s "${BRIDGE_NET}.0/24" ! -o "$BRIDGE" -j MASQUERADE
  iptables -I FORWARD -i "$BRIDGE" -j ACCEPT
  iptables -I FORWARD -o "$BRIDGE" -m conntrack --ctstate RELATED,ESTABLISHED -j ACCEPT
  [[ -f $FORWARDING6_SAVED ]] || sysctl -n net.ipv6.conf.all.forwarding >"$FORWARDING6_SAVED"
  sysctl -qw net.ipv6.conf.all.forwarding=1
  ip6tables -t nat -A POSTROUTING -s "${BRIDGE_NET6}:/64" ! -o "$BRIDGE" -j MASQUERADE
  ip6tables -I FORWARD -i "$BRIDGE" -j ACCEPT
  ip6tables -I FORWARD -o "$BRIDGE" -m conntrack --ctstate RELATED,ESTABLISHED -j ACCEPT
  trap - ERR
  env
}

env() {
  cat <<VARS
TESTBED_CONTAINER_NS=$NS_CONTAINER
TESTBED_TARGET_NS=$NS_TARGET
TESTBED_CONTAINER_ADDR=${BRIDGE_NET}.2
TESTBED_GATEWAY=${BRIDGE_NET}.1
TESTBED_BRIDGE=$BRIDGE
TESTBED_CONTAINER_VETH=$CONTAINER_IF
TESTBED_UPLINK=$UPLINK
TESTBED_UPLINK_ADDR=${UPLINK_NET}.1
TESTBED_TARGET=${UPLINK_NET}.2
TESTBED_CONTAINER_ADDR6=${BRIDGE_NET6}:2
TESTBED_UPLINK_ADDR6=${UPLINK_NET6}:1
TESTBED_TARGET6=${UPLINK_NET6}:2
VARS
}

run_in() {
  local where=$1
  shift
  case $where in
    container) ip netns exec "$NS_CONTAINER" "$@" ;;
    target) ip netns exec "$NS_TARGET" "$@" ;;
    load*) ip netns exec "${P}-${where}" "$@" ;;
    *) log "exec: container, target or loadN"; exit 2 ;;
  esac
}

cmd=${1:-}
shift || true
case $cmd in
  up) up "$@" ;;
  down) down ;;
  env) env ;;
  exec) run_in "$@" ;;
  *) echo "usage: $0 up [--load N] | down | exec container|target|loadN CMD... | env" >&2; exit 2 ;;
esac
