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
# Routers (optional, --routers N, for traceroute): the target forwards and N more netns
# <p>-r1..<p>-rN are chained after it, each forwarding IPv4 and IPv6 with no ICMP rate limit:
#   target -> r1 on 198.19.<64+i>.0/30 (target .1, r1 .2); r_k -> r_k+1 on 198.19.<64+i>.<4k>/30
#   (r_k .4k+1, r_k+1 .4k+2); IPv6 link k (k=0: target -> r1) fd00:6d74:c<i>:<k>::/64 (near
#   side ::1, far side ::2). Each router: default routes toward the previous hop, the rest of the
#   chain (198.19.<64+i>.0/24, fd00:6d74:c<i>::/48) via the next one. The host routes the chain
#   via the target. From the container, hop 1 is the gateway (the host itself), hop 2 the
#   target, hop 2+k router k; the chain's end is rN's address toward r(N-1). While routers
#   exist the host's own ICMP rate limit is off (net.ipv4.icmp_ratelimit, net.ipv6.icmp.ratelimit;
#   restored by the last `down`), or hop 1 would go silent after a few traceroutes; and the
#   container (through `ip netns exec`) gets its own /etc/hosts naming every hop (<p>-gateway,
#   <p>-target, <p>-r<k>) and a resolv.conf pointing at its own loopback, so that traceroute
#   without -n resolves names without asking the host's resolver.
#
# Multipath (optional, --multipath, for Paris traceroute and multipath discovery; not with
# --routers, whose addresses it uses): behind the target, stages of routers <p>-m<stage><k>
# (stage a..e), every router of a stage linked to every router of the next, each forwarding
# over all its links to the next stage as equal-cost paths hashed on the header's fields
# (fib_multipath_hash_policy=3: addresses, protocol, ports, and the IPv6 flow label; never
# policy 1, which reuses the sending socket's own hash and balances per socket, not per
# header), with its own fixed hash seed (the same seed everywhere would send a flow the same
# way at every stage). Widths after the target: a 2 (a two-way ECMP hop), b 1 (they join),
# c 2 then d 3 (a diamond of uneven width), e 1 (the end, 198.19.<64+i>.254 and
# fd00:6d74:c<i>:ff::1 on its loopback). From the container: hop 1 the gateway, hop 2 the
# target, hops 3-7 the stages. Link L (stage order) is 198.19.<64+i>.<4L>/30 and
# fd00:6d74:c<i>:<L>::/64 (near side .4L+1 and ::1, far side .4L+2 and ::2). Router k of stage
# s answers from one address whatever link a probe came in on (IPv6 would otherwise answer
# from the inbound link's): 198.19.<64+i>.<100+10s+k> and fd00:6d74:c<i>:ee::<10s+k> on its
# loopback, the source of its default route, which goes back through the first router of the
# stage before (these names are for reading traces: nothing routes to them). `env` lists each
# hop's routers and namespaces.
#
# Targets (optional, --targets N, for campaigns): N more netns <p>-t1..<p>-tN behind the target
# (which forwards), on a bridge there: 198.19.<128+i>.<10+k>/24, gateway 198.19.<128+i>.1. The
# host routes 198.19.<128+i>.0/24 via the target, so their traffic crosses the uplink too.
#
# Remote-like target (optional, --remote): the netns target answers in this kernel, in the
# softirq of the probe's own transmission, so its latency depends on who sent the probe. A TAP
# device <p>rt (host 198.19.<192+i>.1/30, fd00:6d74:d<i>::1/64) leads instead to a user-space
# responder (mtool_tap_responder, from $MTOOL_TAP_RESPONDER or the PATH) that answers echo
# requests to 198.19.<192+i>.2 and fd00:6d74:d<i>::2 the same way whoever sent them: it
# busy-polls the device on a CPU of its own (--remote-cpu N, default the last one; pin the
# benchmark's processes elsewhere). The host reaches it through permanent neighbour entries
# (no ARP/NDP); the container through the bridge and MASQUERADE, as the netns target. The
# responder's pid file and log are under /run; its log ends with a summary of its stalls each
# time it stops. `responder stop|start` pauses and resumes it (it eats a whole CPU).
#
# usage: testbed.sh up [--load N] [--routers N | --multipath] [--targets N] [--remote [--remote-cpu N]]
#          | down | exec container|target|load<N>|r<k>|m<stage><k> CMD... | env | responder stop|start
#   MTOOL_TESTBED_INDEX (0..63) picks the instance, so several can coexist.
set -euo pipefail

INDEX=${MTOOL_TESTBED_INDEX:-0}
P="mtb${INDEX}"
BRIDGE_NET="198.18.$((16 + INDEX))"  # clear of Docker (198.18.0/24, 198.18.128/17) and the tests (198.18.100+)
UPLINK_NET="198.19.${INDEX}"
BRIDGE_NET6="fd00:6d74:b${INDEX}:"
UPLINK_NET6="fd00:6d74:a${INDEX}:"
CHAIN_NET="198.19.$((64 + INDEX))"
CHAIN_NET6="fd00:6d74:c${INDEX}"
TARGETS_NET="198.19.$((128 + INDEX))"
FORWARDING6_SAVED=/run/mtool-testbed-${INDEX}.forwarding6
RATELIMIT_SAVED=/run/mtool-testbed.icmp-ratelimit  # shared by the instances with routers
REMOTE_TAP="${P}rt"
REMOTE_NET="198.19.$((192 + INDEX))"
REMOTE_NET6="fd00:6d74:d${INDEX}:"
REMOTE_MAC="02:6d:74:72:74:$(printf %02x "$INDEX")"  # locally administered, the responder's
REMOTE_STATE=/run/mtool-testbed-${INDEX}.remote      # the responder's path and CPU
REMOTE_PID=/run/mtool-testbed-${INDEX}.responder.pid
REMOTE_LOG=/run/mtool-testbed-${INDEX}.responder.log
NS_CONTAINER="${P}-container"
NS_TARGET="${P}-target"
BRIDGE="${P}br"
UPLINK="${P}up"
CONTAINER_IF="${P}c0"

log() { printf 'testbed: %s\n' "$*" >&2; }

load_namespaces() { ip netns list | awk '{print $1}' | grep -E "^${P}-load[0-9]+$" || true; }
router_namespaces() { ip netns list | awk '{print $1}' | grep -E "^${P}-r[0-9]+$" || true; }
router_count() { router_namespaces | wc -l; }
target_namespaces() { ip netns list | awk '{print $1}' | grep -E "^${P}-t[0-9]+$" || true; }
multipath_namespaces() { ip netns list | awk '{print $1}' | grep -E "^${P}-m[a-e][0-9]+$" || true; }

# The multipath stages after the target (see the header): their widths and letters.
MULTIPATH_WIDTHS=(2 1 2 3 1)
MULTIPATH_LETTERS=(a b c d e)
MULTIPATH_END="${CHAIN_NET}.254"
MULTIPATH_END6="${CHAIN_NET6}:ff::1"

down() {
  for ns in $(load_namespaces) $(router_namespaces) $(multipath_namespaces); do
    ip netns pids "$ns" 2>/dev/null | xargs -r kill 2>/dev/null || true
  done
  ip route del "${CHAIN_NET}.0/24" 2>/dev/null || true
  ip route del "${TARGETS_NET}.0/24" 2>/dev/null || true
  ip -6 route del "${CHAIN_NET6}::/48" 2>/dev/null || true
  for ns in "$NS_CONTAINER" "$NS_TARGET" $(load_namespaces) $(router_namespaces) $(target_namespaces) \
    $(multipath_namespaces); do
    ip netns del "$ns" 2>/dev/null || true
  done
  rm -rf "/etc/netns/${NS_CONTAINER}"
  ip link del "$BRIDGE" 2>/dev/null || true
  ip link del "$UPLINK" 2>/dev/null || true
  ip link del "$CONTAINER_IF" 2>/dev/null || true
  responder_stop
  ip link del "$REMOTE_TAP" 2>/dev/null || true
  rm -f "$REMOTE_STATE" "$REMOTE_LOG"
  for n in $(ip -o link show | awk -F': ' '{print $2}' | sed 's/@.*//' | grep -E "^${P}l[0-9]+$" || true); do
    ip link del "$n" 2>/dev/null || true
  done
  iptables -t nat -D POSTROUTING -s "${BRIDGE_NET}.0/24" ! -o "$BRIDGE" -j MASQUERADE 2>/dev/null || true
  iptables -D FORWARD -i "$BRIDGE" -j ACCEPT 2>/dev/null || true
  iptables -D FORWARD -o "$BRIDGE" -m conntrack --ctstate RELATED,ESTABLISHED -j ACCEPT 2>/dev/null || true
  ip6tables -t nat -D POSTROUTING -s "${BRIDGE_NET6}:/64" ! -o "$BRIDGE" -j MASQUERADE 2>/dev/null || true
  ip6tables -D FORWARD -i "$BRIDGE" -j ACCEPT 2>/dev/null || true
  ip6tables -D FORWARD -o "$BRIDGE" -m conntrack --ctstate RELATED,ESTABLISHED -j ACCEPT 2>/dev/null || true
  host_ratelimit_restore
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

# Router k's address toward the previous hop, v4 and v6 (v6 as inet_ntop writes it).
router_addr() { echo "${CHAIN_NET}.$((4 * ($1 - 1) + 2))"; }
router_addr6() { if (($1 == 1)); then echo "${CHAIN_NET6}::2"; else echo "${CHAIN_NET6}:$(($1 - 1))::2"; fi; }

# The target becomes a router; r1..rN follow it (see the header).
add_routers() {
  local n=$1 k prev ns
  forwarding_on "$NS_TARGET"
  for ((k = 1; k <= n; k++)); do
    ns="${P}-r${k}"
    ip netns add "$ns"
    forwarding_on "$ns"
    ip netns exec "$ns" ip link set lo up
    # Link k-1: previous hop (the target for k = 1) -> this router.
    prev=$NS_TARGET
    ((k == 1)) || prev="${P}-r$((k - 1))"
    ip -n "$prev" link add next type veth peer name prev netns "$ns"
    ip -n "$prev" addr add "${CHAIN_NET}.$((4 * (k - 1) + 1))/30" dev next
    ip -n "$prev" -6 addr add "${CHAIN_NET6}:$((k - 1))::1/64" dev next nodad
    ip -n "$prev" link set next up
    ip -n "$ns" addr add "$(router_addr "$k")/30" dev prev
    ip -n "$ns" -6 addr add "$(router_addr6 "$k")/64" dev prev nodad
    ip -n "$ns" link set prev up
    ip -n "$ns" route add default via "${CHAIN_NET}.$((4 * (k - 1) + 1))"
    ip -n "$ns" -6 route add default via "${CHAIN_NET6}:$((k - 1))::1"
    # The rest of the chain, from the previous hop, via this router.
    ip -n "$prev" route add "${CHAIN_NET}.0/24" via "$(router_addr "$k")"
    ip -n "$prev" -6 route add "${CHAIN_NET6}::/48" via "$(router_addr6 "$k")"
  done
  ((n > 0)) || return 0
  host_ratelimit_off
  ip route add "${CHAIN_NET}.0/24" via "${UPLINK_NET}.2"
  ip -6 route add "${CHAIN_NET6}::/48" via "${UPLINK_NET6}:2"
}

# The target becomes a router with a bridge of N more targets behind it (see the header).
add_targets() {
  local n=$1 k ns
  forwarding_on "$NS_TARGET"
  ip -n "$NS_TARGET" link add tg type bridge
  ip -n "$NS_TARGET" addr add "${TARGETS_NET}.1/24" dev tg
  ip -n "$NS_TARGET" link set tg up
  for ((k = 1; k <= n; k++)); do
    ns="${P}-t${k}"
    ip netns add "$ns"
    ip -n "$NS_TARGET" link add "t${k}" type veth peer name eth0 netns "$ns"
    ip -n "$NS_TARGET" link set "t${k}" master tg up
    ip -n "$ns" link set lo up
    ip -n "$ns" addr add "${TARGETS_NET}.$((10 + k))/24" dev eth0
    ip -n "$ns" link set eth0 up
    ip -n "$ns" route add default via "${TARGETS_NET}.1"
    ip netns exec "$ns" sysctl -qw net.ipv4.icmp_ratelimit=0
  done
  ip route add "${TARGETS_NET}.0/24" via "${UPLINK_NET}.2"
}

# Stage s (0: the target) router k's namespace, and a stage's width.
multipath_node() { if (($1 == 0)); then echo "$NS_TARGET"; else echo "${P}-m${MULTIPATH_LETTERS[$1 - 1]}$2"; fi; }
multipath_width() { if (($1 == 0)); then echo 1; else echo "${MULTIPATH_WIDTHS[$1 - 1]}"; fi; }

# Every link, "stage near far link": router `near` of stage s to router `far` of stage s+1.
multipath_links() {
  local s x y link=0
  for ((s = 0; s < ${#MULTIPATH_WIDTHS[@]}; s++)); do
    for ((x = 1; x <= $(multipath_width "$s"); x++)); do
      for ((y = 1; y <= MULTIPATH_WIDTHS[s]; y++)); do
        echo "$s $x $y $link"
        link=$((link + 1))
      done
    done
  done
}

# Equal-cost paths hashed on the header's fields: addresses, protocol, ports (0x37), and the
# IPv6 flow label (0x3f); a seed of the router's own; no global ICMP budget to run out of.
multipath_hashing() {
  ip netns exec "$1" sysctl -qw net.ipv4.fib_multipath_hash_policy=3 \
    net.ipv4.fib_multipath_hash_fields=0x37 net.ipv6.fib_multipath_hash_policy=3 \
    net.ipv6.fib_multipath_hash_fields=0x3f net.ipv4.fib_multipath_hash_seed="$2" \
    net.ipv4.icmp_msgs_per_sec=1000000 net.ipv4.icmp_msgs_burst=1000000 \
    net.ipv4.conf.all.rp_filter=0 net.ipv4.conf.default.rp_filter=0
}

# The target and the stages behind it (see the header).
add_multipath() {
  local s k x y link near far ns hops hops6
  forwarding_on "$NS_TARGET"
  multipath_hashing "$NS_TARGET" 1
  for ((s = 1; s <= ${#MULTIPATH_WIDTHS[@]}; s++)); do
    for ((k = 1; k <= $(multipath_width "$s"); k++)); do
      ns=$(multipath_node "$s" "$k")
      ip netns add "$ns"
      forwarding_on "$ns"
      multipath_hashing "$ns" $((16 * s + k))
      ip -n "$ns" link set lo up
      ip -n "$ns" addr add "$(multipath_router_addr 0 "$s" "$k")/32" dev lo
      ip -n "$ns" -6 addr add "$(multipath_router_addr 1 "$s" "$k")/128" dev lo
    done
  done
  while read -r s x y link; do
    near=$(multipath_node "$s" "$x")
    far=$(multipath_node $((s + 1)) "$y")
    ip -n "$near" link add "dn${link}" type veth peer name "up${link}" netns "$far"
    ip -n "$near" addr add "${CHAIN_NET}.$((4 * link + 1))/30" dev "dn${link}"
    ip -n "$near" -6 addr add "${CHAIN_NET6}:${link}::1/64" dev "dn${link}" nodad
    ip -n "$far" addr add "${CHAIN_NET}.$((4 * link + 2))/30" dev "up${link}"
    ip -n "$far" -6 addr add "${CHAIN_NET6}:${link}::2/64" dev "up${link}" nodad
    ip -n "$near" link set "dn${link}" up
    ip -n "$far" link set "up${link}" up
    static_neighbours "$near" "dn${link}" "$far" "up${link}" "${CHAIN_NET}.$((4 * link + 1))" \
      "${CHAIN_NET}.$((4 * link + 2))" "${CHAIN_NET6}:${link}::1" "${CHAIN_NET6}:${link}::2"
    if ((x == 1)); then
      ip -n "$far" route add default via "${CHAIN_NET}.$((4 * link + 1))" \
        src "$(multipath_router_addr 0 $((s + 1)) "$y")"
      ip -n "$far" -6 route add default via "${CHAIN_NET6}:${link}::1" \
        src "$(multipath_router_addr 1 $((s + 1)) "$y")"
    fi
  done < <(multipath_links)
  # Forward: every router over all its links to the next stage.
  for ((s = 0; s < ${#MULTIPATH_WIDTHS[@]}; s++)); do
    for ((x = 1; x <= $(multipath_width "$s"); x++)); do
      hops=() hops6=()
      while read -r _ _ y link; do
        hops+=(nexthop via "${CHAIN_NET}.$((4 * link + 2))")
        hops6+=(nexthop via "${CHAIN_NET6}:${link}::2")
      done < <(multipath_links | awk -v s="$s" -v x="$x" '$1 == s && $2 == x')
      near=$(multipath_node "$s" "$x")
      ip -n "$near" route add "${CHAIN_NET}.0/24" "${hops[@]}"
      ip -n "$near" -6 route add "${CHAIN_NET6}::/48" "${hops6[@]}"
    done
  done
  ns=$(multipath_node ${#MULTIPATH_WIDTHS[@]} 1)
  ip -n "$ns" addr add "${MULTIPATH_END}/32" dev lo
  ip -n "$ns" -6 addr add "${MULTIPATH_END6}/128" dev lo
  host_ratelimit_off
  ip route add "${CHAIN_NET}.0/24" via "${UPLINK_NET}.2"
  ip -6 route add "${CHAIN_NET6}::/48" via "${UPLINK_NET6}:2"
}

# Both ends of a link know each other for good (v4 and v6): a trace whose flows take a branch
# for the first time would otherwise wait for neighbour resolution there, and a lost first
# solicitation costs a second (RetransTimer): every hop behind it answered in ~1024 ms.
#   static_neighbours NEAR_NS NEAR_DEV FAR_NS FAR_DEV NEAR_V4 FAR_V4 NEAR_V6 FAR_V6
static_neighbours() {
  local near_mac far_mac
  near_mac=$(ip netns exec "$1" cat "/sys/class/net/$2/address")
  far_mac=$(ip netns exec "$3" cat "/sys/class/net/$4/address")
  ip -n "$1" neigh replace "$6" lladdr "$far_mac" dev "$2" nud permanent
  ip -n "$1" -6 neigh replace "$8" lladdr "$far_mac" dev "$2" nud permanent
  ip -n "$3" neigh replace "$5" lladdr "$near_mac" dev "$4" nud permanent
  ip -n "$3" -6 neigh replace "$7" lladdr "$near_mac" dev "$4" nud permanent
}

# Router k of stage s: the address it answers from, v4 (0) or v6 (1).
multipath_router_addr() {
  if (($1)); then echo "${CHAIN_NET6}:ee::$((10 * $2 + $3))"; else echo "${CHAIN_NET}.$((100 + 10 * $2 + $3))"; fi
}

# Stage s's routers as traceroute sees them, v4 (0) or v6 (1), comma-separated (`eval "$(testbed.sh env)"` takes them as they are).
multipath_hop_addresses() {
  local k
  for ((k = 1; k <= $(multipath_width "$2"); k++)); do multipath_router_addr "$1" "$2" "$k"; done | paste -sd,
}

# A tool run without -n in the container names every hop from a hosts file and never reaches
# a real resolver (the host's is not ours to query): `ip netns exec` mounts these over /etc.
container_names() {
  local n=$1 multipath=$2 k s dir="/etc/netns/${NS_CONTAINER}"
  mkdir -p "$dir"
  echo "nameserver 127.0.0.1" >"$dir/resolv.conf"
  {
    printf '127.0.0.1 localhost\n::1 localhost\n'
    printf '%s %s\n' "${BRIDGE_NET}.1" "${P}-gateway" "${BRIDGE_NET6}:1" "${P}-gateway" \
      "${UPLINK_NET}.2" "${P}-target" "${UPLINK_NET6}:2" "${P}-target"
    for ((k = 1; k <= n; k++)); do
      printf '%s %s\n' "$(router_addr "$k")" "${P}-r${k}" "$(router_addr6 "$k")" "${P}-r${k}"
    done
    if ((multipath)); then
      for ((s = 1; s <= ${#MULTIPATH_WIDTHS[@]}; s++)); do
        for ((k = 1; k <= $(multipath_width "$s"); k++)); do
          printf '%s %s\n' "$(multipath_router_addr 0 "$s" "$k")" "$(multipath_node "$s" "$k")" \
            "$(multipath_router_addr 1 "$s" "$k")" "$(multipath_node "$s" "$k")"
        done
      done
      printf '%s %s\n' "$MULTIPATH_END" "${P}-end" "$MULTIPATH_END6" "${P}-end"
    fi
  } >"$dir/hosts"
}

# netns: forwards IPv4 and IPv6 and answers every probe (no ICMP rate limit). Its new links skip
# DAD: with a tentative link-local address a router cannot solicit a neighbour for a packet it
# forwards, and the first probes through it would wait a second.
forwarding_on() {
  ip netns exec "$1" sysctl -qw net.ipv4.ip_forward=1 \
    net.ipv6.conf.all.forwarding=1 net.ipv6.conf.default.forwarding=1 \
    net.ipv6.conf.default.accept_dad=0 net.ipv4.icmp_ratelimit=0 net.ipv6.icmp.ratelimit=0
}

# The host answers hop 1 (the gateway) itself; its per-destination ICMP rate limit (a burst of
# 6, then one a second) would blank that hop after two traceroutes. Off while any instance has
# routers; the values from before go back when the last such instance goes down.
host_ratelimit_off() {
  [[ -f $RATELIMIT_SAVED ]] ||
    sysctl -n net.ipv4.icmp_ratelimit net.ipv6.icmp.ratelimit | paste -sd' ' >"$RATELIMIT_SAVED"
  sysctl -qw net.ipv4.icmp_ratelimit=0 net.ipv6.icmp.ratelimit=0
}
host_ratelimit_restore() {
  [[ -f $RATELIMIT_SAVED ]] || return 0
  ip netns list | awk '{print $1}' | grep -qE '^mtb[0-9]+-(r1|ma1)$' && return 0
  local v4 v6
  read -r v4 v6 <"$RATELIMIT_SAVED" || true
  sysctl -qw net.ipv4.icmp_ratelimit="$v4" net.ipv6.icmp.ratelimit="$v6" || true
  rm -f "$RATELIMIT_SAVED"
}

# The remote-like target (see the header): the TAP, its neighbours, the responder.
add_remote() {
  local responder=$1 cpu=$2
  ip tuntap add dev "$REMOTE_TAP" mode tap
  ip addr add "${REMOTE_NET}.1/30" dev "$REMOTE_TAP"
  ip -6 addr add "${REMOTE_NET6}:1/64" dev "$REMOTE_TAP" nodad
  ip link set "$REMOTE_TAP" up
  ip neigh replace "${REMOTE_NET}.2" lladdr "$REMOTE_MAC" dev "$REMOTE_TAP" nud permanent
  ip -6 neigh replace "${REMOTE_NET6}:2" lladdr "$REMOTE_MAC" dev "$REMOTE_TAP" nud permanent
  printf 'RESPONDER=%q\nCPU=%q\n' "$responder" "$cpu" >"$REMOTE_STATE"
  : >"$REMOTE_LOG"
  responder_start
}

# The responder's pid, if it runs (the pid file's process, and it is the responder). Nothing
# here may fail inside a command substitution: up's ERR trap would run in that subshell.
responder_pid() {
  local pid
  pid=$(cat "$REMOTE_PID" 2>/dev/null || true)
  [[ $pid =~ ^[0-9]+$ && $(cat "/proc/$pid/comm" 2>/dev/null || true) == mtool_tap_respo* ]] || return 1
  echo "$pid"
}
responder_starts() { grep -c 'answering on' "$REMOTE_LOG" 2>/dev/null || true; }

# In a session of its own, so that it outlives this script and no signal to the caller's
# process group reaches it; ready once it says it answers (the TAP has a carrier by then).
responder_start() {
  local RESPONDER CPU before child
  [[ -f $REMOTE_STATE ]] || { log "responder: no remote target (up --remote)"; return 2; }
  # shellcheck source=/dev/null  # written by `up --remote`: RESPONDER, CPU
  source "$REMOTE_STATE"
  if responder_pid >/dev/null; then return 0; fi
  local other
  for other in $(pgrep -x mtool_tap_respo || true); do
    [[ $(taskset -pc "$other" 2>/dev/null | awk '{print $NF}' || true) != "$CPU" ]] ||
      log "responder: another one (pid $other) spins on CPU $CPU: they will stall each other"
  done
  before=$(responder_starts)
  # Not a process group leader (no job control here), so setsid does not fork: $! is the
  # responder once bash has exec'd it.
  # shellcheck disable=SC2016  # $$ and $1 are the inner shell's
  setsid bash -c 'echo $$ >"$1"; shift; exec "$@"' _ "$REMOTE_PID" "$RESPONDER" --tap "$REMOTE_TAP" \
    --cpu "$CPU" --ipv4 "${REMOTE_NET}.2" --ipv6 "${REMOTE_NET6}:2" </dev/null >>"$REMOTE_LOG" 2>&1 &
  child=$!
  for _ in $(seq 100); do
    (($(responder_starts) <= before)) || return 0
    kill -0 "$child" 2>/dev/null || break
    sleep 0.05
  done
  log "responder did not start: $(tail -n 1 "$REMOTE_LOG" || true)"
  return 1
}

# SIGTERM: it ends its loop and writes its summary to the log.
responder_stop() {
  local pid
  pid=$(responder_pid || true)
  if [[ -n $pid ]]; then
    kill -TERM "$pid" 2>/dev/null || true
    for _ in $(seq 100); do
      kill -0 "$pid" 2>/dev/null || break
      sleep 0.05
    done
    ! kill -0 "$pid" 2>/dev/null || kill -KILL "$pid" 2>/dev/null || true
  fi
  rm -f "$REMOTE_PID"
}

up() {
  local load=0 routers=0 multipath=0 targets=0 remote=0 remote_cpu=$(($(nproc) - 1)) responder
  while (($#)); do
    case $1 in
      --load) load=$2; shift 2 ;;
      --targets)
        targets=${2:-}
        if ! [[ $targets =~ ^(0|[1-9][0-9]{0,2})$ ]] || ((targets > 200)); then log "--targets: 0..200"; exit 2; fi
        shift 2 ;;
      --routers)
        routers=${2:-}
        if ! [[ $routers =~ ^(0|[1-9][0-9]?)$ ]] || ((routers > 30)); then log "--routers: 0..30"; exit 2; fi
        shift 2 ;;
      --multipath) multipath=1; shift ;;
      --remote) remote=1; shift ;;
      --remote-cpu)
        remote_cpu=${2:-}
        [[ $remote_cpu =~ ^(0|[1-9][0-9]{0,3})$ ]] || { log "--remote-cpu: a CPU number"; exit 2; }
        shift 2 ;;
      *) log "unknown option $1"; exit 2 ;;
    esac
  done
  if ((multipath && routers)); then log "--multipath and --routers: one or the other"; exit 2; fi
  [[ $(id -u) -eq 0 ]] || { log "needs root"; exit 1; }
  if ((remote)); then
    responder=${MTOOL_TAP_RESPONDER:-$(command -v mtool_tap_responder || true)}
    [[ -x $responder ]] || {
      log "--remote: set MTOOL_TAP_RESPONDER to mtool_tap_responder (cmake --build B --target mtool_tap_responder)"
      exit 2
    }
  fi
  down
  # errtrace: a failure inside a function (add_container, add_routers) tears down too.
  set -E
  trap 'trap - ERR; log "setup failed; tearing down"; down; exit 1' ERR

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
  ((routers == 0)) || add_routers "$routers"
  ((multipath == 0)) || add_multipath
  ((targets == 0)) || add_targets "$targets"
  ((remote == 0)) || add_remote "$(realpath "$responder")" "$remote_cpu"
  # Always: a tool run without -n in the container (ping, traceroute) must never reach the
  # host's resolver.
  container_names "$routers" "$multipath"
  trap - ERR
  set +E
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
  local n k
  if [[ -f $REMOTE_STATE ]]; then
    echo "TESTBED_REMOTE_UPLINK=$REMOTE_TAP"
    echo "TESTBED_REMOTE_TARGET=${REMOTE_NET}.2"
    echo "TESTBED_REMOTE_TARGET6=${REMOTE_NET6}:2"
    # shellcheck source=/dev/null  # written by `up --remote`
    echo "TESTBED_REMOTE_CPU=$(source "$REMOTE_STATE" && echo "$CPU")"
    [[ -f $REMOTE_LOG ]] && echo "TESTBED_REMOTE_LOG=$REMOTE_LOG"
  fi
  n=$(target_namespaces | wc -l)
  if ((n > 0)); then
    echo "TESTBED_TARGETS=$n"
    echo "TESTBED_TARGETS_FIRST=${TARGETS_NET}.11"
    echo "TESTBED_TARGETS_LAST=${TARGETS_NET}.$((10 + n))"
  fi
  if [[ -n $(multipath_namespaces) ]]; then
    local s
    for ((s = 1; s < ${#MULTIPATH_WIDTHS[@]}; s++)); do
      echo "TESTBED_MULTIPATH_HOP_$((s + 2))=$(multipath_hop_addresses 0 "$s")"
      echo "TESTBED_MULTIPATH_HOP6_$((s + 2))=$(multipath_hop_addresses 1 "$s")"
      echo "TESTBED_MULTIPATH_NS_$((s + 2))=$(for ((k = 1; k <= MULTIPATH_WIDTHS[s - 1]; k++)); do
        multipath_node "$s" "$k"
      done | paste -sd,)"
    done
    echo "TESTBED_MULTIPATH_HOPS=$((${#MULTIPATH_WIDTHS[@]} + 2))"
    echo "TESTBED_MULTIPATH_END=$MULTIPATH_END"
    echo "TESTBED_MULTIPATH_END6=$MULTIPATH_END6"
  fi
  n=$(router_count)
  ((n > 0)) || return 0
  echo "TESTBED_ROUTERS=$n"
  for ((k = 1; k <= n; k++)); do
    echo "TESTBED_ROUTER_NS_${k}=${P}-r${k}"
    echo "TESTBED_ROUTER_ADDR_${k}=$(router_addr "$k")"
    echo "TESTBED_ROUTER_ADDR6_${k}=$(router_addr6 "$k")"
  done
  echo "TESTBED_CHAIN_END=$(router_addr "$n")"
  echo "TESTBED_CHAIN_END6=$(router_addr6 "$n")"
}

run_in() {
  local where=$1
  shift
  case $where in
    container) ip netns exec "$NS_CONTAINER" "$@" ;;
    target) ip netns exec "$NS_TARGET" "$@" ;;
    load[0-9]* | r[0-9]* | m[a-e][0-9]*) ip netns exec "${P}-${where}" "$@" ;;
    *) log "exec: container, target, loadN, rK or m<stage>K"; exit 2 ;;
  esac
}

cmd=${1:-}
shift || true
case $cmd in
  up) up "$@" ;;
  down) down ;;
  env) env ;;
  exec) run_in "$@" ;;
  responder)
    case ${1:-} in
      start) responder_start ;;
      stop) responder_stop ;;
      *) log "responder: start or stop"; exit 2 ;;
    esac ;;
  *)
    echo "usage: $0 up [--load N] [--routers N | --multipath] [--targets N] [--remote [--remote-cpu N]]" \
      "| down | exec container|target|loadN|rK|m<stage>K CMD... | env | responder stop|start" >&2
    exit 2 ;;
esac
