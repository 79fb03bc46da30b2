#!/usr/bin/env bash
# Issue 14: is a container's send path (user-space send stamp -> kernel transmit stamp on its
# own eth0) slower than the host's own (send stamp -> uplink transmit stamp), and is that what
# is left in the corrected RTT? Every side runs the same `mtool ping --json` (ICMP datagram
# socket, non-root uid 10001, pinned to CPU $CPU) to the testbed target behind the uplink:
#   host          host netns, host cgroup, no seccomp (the reference)
#   netns         the testbed's container netns (no netfilter in it), `ip netns exec`
#   netns-off     a twin netns (testbed load namespace 3) without the correlator (never
#                 subscribed: the correlator's program leaves early at its net_dev_queue)
#   docker        (docker exec into a container run with) --network $NET (user-defined: Docker's DNS nat rules in its netns)
#   docker-unconf the same with --security-opt seccomp=unconfined
#   docker-bridge docker run on the default bridge (no nat rules in the container's netns)
#   docker-hostnet docker run --network host (seccomp + the container's cgroup, host netns)
#   nsenter       the host binary, host cgroup, no seccomp, inside a $NET container's netns
# under three loads (idle; two flood pings from testbed load namespaces; two CPU spinners, one
# per CPU), pinned to CPU $CPU (default 0), 2 ms x COUNT2 probes (all sides) and 200 ms x COUNT200 (host, netns, docker),
# REPS rounds, the order of sides reversed every other round. Per run: p50/p90 of time=,
# kernel_rtt, send_stack, corrected, kernel_rtt - overhead (bench/send_path/stats.py).
#   usage: bench/send_path/compare.sh [reps] [outdir]       (root; testbed 23, Docker 198.18.223.0/24)
set -euo pipefail
REPS=${1:-3}
OUT=${2:-$(mktemp -d /tmp/send_path.XXXX)}
COUNT2=${COUNT2:-1000}
COUNT200=${COUNT200:-60}
CASES=${CASES:-"idle floods busy"}
SIDES2=${SIDES2:-"host netns docker docker-unconf docker-bridge docker-hostnet nsenter"}
SIDES200=${SIDES200:-"host netns docker"}
CPU=${CPU:-0}
IMAGE=${IMAGE:-mtool:sendpath}  # docker tag <the image id> mtool:sendpath: a build elsewhere may move :latest
HERE=$(cd "$(dirname "$0")/../.." && pwd)
MTOOL=/tmp/mtool-sendpath
PIN=/sys/fs/bpf/mtool-sendpath
SOCKDIR=/run/mtool-sendpath
# shellcheck source=bench/send_path/bed.sh
source "$HERE/bench/send_path/bed.sh"
mkdir -p "$OUT"
[[ $(id -u) -eq 0 ]] || { echo "needs root" >&2; exit 1; }

LOADPIDS=()
stop_load() { for p in "${LOADPIDS[@]}"; do kill "$p" 2>/dev/null || true; done; LOADPIDS=(); }
cleanup() {
  stop_load
  docker rm -f sp-docker sp-docker-unconf sp-docker-bridge sp-docker-hostnet >/dev/null 2>&1 || true
  bed_down
}
trap cleanup EXIT
bash "$HERE/scripts/docker-env.sh" 2>/dev/null
docker image inspect "$IMAGE" >/dev/null
bed_up
# Long-lived measuring containers (docker exec: the container's netns, cgroup, seccomp and
# user, without docker run's start-up under load); their own process pings loopback every 30 s.
KEEP=(ping -q -i 30 127.0.0.1)
docker run -d --name sp-docker --network "$NET" --cpuset-cpus "$CPU" "$IMAGE" "${KEEP[@]}" >/dev/null
docker run -d --name sp-docker-unconf --network "$NET" --security-opt seccomp=unconfined --cpuset-cpus "$CPU" "$IMAGE" "${KEEP[@]}" >/dev/null
docker run -d --name sp-docker-bridge --network bridge --cpuset-cpus "$CPU" "$IMAGE" "${KEEP[@]}" >/dev/null
docker run -d --name sp-docker-hostnet --network host --cpuset-cpus "$CPU" -e MTOOL_CORRELATOR=off "$IMAGE" "${KEEP[@]}" >/dev/null
sleep 2
TGT=$TESTBED_TARGET
SOCKENV="MTOOL_CORRELATOR_SOCKET=$SOCKDIR/correlator.sock"

run_side() {  # side interval count outfile
  local side=$1 f=$4
  local args=(--json -c "$3" -i "$2" "$TGT")
  case $side in
    host) MTOOL_CORRELATOR=off taskset -c "$CPU" "${U[@]}" "$MTOOL" ping "${args[@]}" ;;
    netns-off) ip netns exec mtb23-load3 taskset -c "$CPU" env MTOOL_CORRELATOR=off "${U[@]}" "$MTOOL" ping "${args[@]}" ;;
    netns) ip netns exec "$TESTBED_CONTAINER_NS" taskset -c "$CPU" env "$SOCKENV" "${U[@]}" "$MTOOL" ping "${args[@]}" ;;
    docker | docker-unconf | docker-bridge) docker exec "sp-$side" ping "${args[@]}" ;;
    docker-hostnet) docker exec -e MTOOL_CORRELATOR=off "sp-$side" ping "${args[@]}" ;;
    nsenter) nsenter -t "$HOLDER" -n taskset -c "$CPU" env "$SOCKENV" "${U[@]}" "$MTOOL" ping "${args[@]}" ;;
  esac >"$f" 2>"$f.err"
  echo "$(date +%T) $side load $(cut -d' ' -f1-3 /proc/loadavg); top: $(ps -eo ni,psr,pcpu,comm --sort=-pcpu --no-headers | head -3 | tr -s ' ' | paste -sd';')" >>"$OUT/load.log"
}

start_load() {
  case $1 in
    idle) ;;
    floods)
      for n in 1 2; do
        ip netns exec "${TESTBED_CONTAINER_NS%-container}-load$n" env MTOOL_CORRELATOR=off "$MTOOL" ping -f -q "$TGT" >/dev/null 2>&1 &
        LOADPIDS+=("$!")
      done ;;
    busy)
      for c in 0 1; do
        taskset -c "$c" sh -c 'while :; do :; done' &
        LOADPIDS+=("$!")
      done ;;
  esac
  sleep 0.5
}

for case in $CASES; do
  start_load "$case"
  for spec in "0.002 $COUNT2 $SIDES2" "0.2 $COUNT200 $SIDES200"; do
    read -ra words <<<"$spec"
    interval=${words[0]} count=${words[1]}
    sides=("${words[@]:2}")
    label="$case-${interval/0./}"
    [[ $interval == 0.002 ]] && label="$case-2ms" || label="$case-200ms"
    for ((r = 1; r <= REPS; r++)); do
      order=("${sides[@]}")
      ((r % 2 == 0)) && mapfile -t order < <(printf '%s\n' "${sides[@]}" | tac)
      for side in "${order[@]}"; do
        run_side "$side" "$interval" "$count" "$OUT/$label.$side.$r"
      done
    done
  done
  stop_load
done
python3 "$HERE/bench/send_path/stats.py" --pairs "$OUT" | tee "$OUT/summary.txt"
echo "runs in $OUT"
