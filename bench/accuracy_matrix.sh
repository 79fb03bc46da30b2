#!/usr/bin/env bash
# How close the corrected container RTT comes to the host's own RTT, over the cells users meet
# (issue 14):
#
#   {local target, remote-like target} x {idle, CPU-busy, co-located floods} x {2 ms, 200 ms}
#
# on two paths: the netns testbed (tests/testbed/testbed.sh, the correlator as a host process)
# and the real Docker path (`docker run --rm --network NET mtool:latest ping ...`, nothing
# mounted, the correlator as a container as README "Run it on Docker" runs it).
#
# The reference is the same tool on the host with the same socket: mtool ping as uid 10001 on
# an unprivileged ICMP datagram socket, as the image's user runs it in a container (root on the
# host would get a raw socket), with MTOOL_CORRELATOR=off. When the correlator can follow host
# probes (--follow-host-probes), it runs with it and a short followed host run after each
# replicate gives the host's wire RTT: the fairness column (container wire p50 - host wire p50)
# shows whether both met the same target. The reference runs are not followed (following puts
# the correlator's program before the host probe's transmit stamp: README).
#
#   local target   the testbed's target namespace behind the uplink veth (the shared/local-target
#                  term of the correction is at work)
#   remote-like    testbed.sh up --remote: a TAP device answered by a busy-polling user-space
#                  responder on its own CPU (TESTBED_REMOTE_CPU; $MTOOL_TAP_RESPONDER, else
#                  build/tests/mtool_tap_responder, built if absent); skipped while testbed.sh
#                  lacks --remote
#   idle / busy / floods
#                  nothing else; one spinning process per probe CPU; two co-located neighbours
#                  (testbed: --load 2 namespaces; Docker: two containers on the same network)
#                  flood-pinging the LOCAL target (mtool ping -f -q, MTOOL_CORRELATOR=off)
#
# Every probe, spinner, flood, correlator and container is pinned to the CPUs other than the
# responder's (the last CPU when there is no responder yet), in every cell, so cells compare.
# Replicates alternate a host run and a container run; with --sparse-mode concurrent (the
# default) a 200 ms host run is started half an interval after the container's, so the two
# run side by side under the same conditions (the achieved offset is reported; probes sent
# within 5 ms of one of the other side's are dropped from both, and counted).
#
# usage: bench/accuracy_matrix.sh [path/to/mtool] [options]
#   --only testbed|docker      one half (default: both)
#   --reps N                   replicates of the 2 ms cells (default 3)
#   --sparse-reps N            replicates of the 200 ms cells (default: --reps)
#   --dense-probes N           probes per 2 ms run (default 500)
#   --sparse-probes N          probes per 200 ms run (default 40)
#   --sparse-mode concurrent|sequential
#   --targets "local remote"   --loads "idle busy floods"   --intervals "dense sparse"
#   --no-image                 use mtool:latest as it is (default: make image first)
#   --keep DIR                 keep the raw --json runs and the manifest in DIR
# default mtool: build-release/tools/mtool (make bench builds it).
set -euo pipefail
HERE=$(cd "$(dirname "$0")/.." && pwd)
STARTED=$(date +%s)
IMAGE_SECONDS=0
ARGS=("$@")

MTOOL=$HERE/build-release/tools/mtool
HALVES="testbed docker"
REPS=3
SPARSE_REPS=""
DENSE_PROBES=500
SPARSE_PROBES=40
SPARSE_MODE=concurrent
TARGETS="local remote"
LOADS="idle busy floods"
INTERVALS="dense sparse"
BUILD_IMAGE=1
KEEP=""
die() { echo "accuracy_matrix: $*" >&2; exit 2; }
while (($#)); do
  case $1 in
    --only) HALVES=$2; shift 2 ;;
    --reps) REPS=$2; shift 2 ;;
    --sparse-reps) SPARSE_REPS=$2; shift 2 ;;
    --dense-probes) DENSE_PROBES=$2; shift 2 ;;
    --sparse-probes) SPARSE_PROBES=$2; shift 2 ;;
    --sparse-mode) SPARSE_MODE=$2; shift 2 ;;
    --targets) TARGETS=$2; shift 2 ;;
    --loads) LOADS=$2; shift 2 ;;
    --intervals) INTERVALS=$2; shift 2 ;;
    --no-image) BUILD_IMAGE=0; shift ;;
    --keep) KEEP=$2; shift 2 ;;
    -h | --help) sed -n '2,/^set -euo/p' "$0" | sed '$d; s/^# \{0,1\}//'; exit 0 ;;
    -*) die "unknown option $1 (--help)" ;;
    *) MTOOL=$1; shift ;;
  esac
done
SPARSE_REPS=${SPARSE_REPS:-$REPS}
for h in $HALVES; do [[ $h == testbed || $h == docker ]] || die "--only: testbed or docker"; done
[[ $SPARSE_MODE == concurrent || $SPARSE_MODE == sequential ]] || die "--sparse-mode: concurrent or sequential"
[[ $(id -u) -eq 0 ]] || { echo "bench: needs root" >&2; exit 1; }
MTOOL=$(realpath "$MTOOL")
[[ -x $MTOOL ]] || die "no mtool at $MTOOL (make bench builds build-release/tools/mtool)"

TESTBED="$HERE/tests/testbed/testbed.sh"
export MTOOL_TESTBED_INDEX=19          # clear of the other benches (13..18) and the tests
DOCKER_NET=mtool-matrix
DOCKER_SUBNET=198.18.219.0/24          # inside dockerd's pool, 198.18.128.0/17
DOCKER_CORRELATOR_NAME=mtool-matrix-correlator
FLOOD_NAMES=(mtool-matrix-flood1 mtool-matrix-flood2)
USER_ID=10001                          # the image's user
PYTHON=${PYTHON:-/usr/bin/python3}
WORK=$(mktemp -d /tmp/mtool-matrix.XXXXXX)
chmod 0755 "$WORK"
PIN_DIR=/sys/fs/bpf/mtool-matrix
SOCKET=/run/mtool-matrix/correlator.sock
# shellcheck source=bench/lib/correlator.sh
source "$HERE/bench/lib/correlator.sh"

SPINNERS=()
FLOOD_PIDS=()
PING_GROUP_SAVED=""
log() { printf 'accuracy_matrix: %s\n' "$*" >&2; }
# shellcheck disable=SC2317  # called through cleanup; redefined once the testbed is up
load_ns() { echo "mtool-matrix-no-such-netns"; }

stop_spinners() {
  local p
  for p in ${SPINNERS[@]+"${SPINNERS[@]}"}; do kill "$p" 2>/dev/null || true; done
  for p in ${SPINNERS[@]+"${SPINNERS[@]}"}; do wait "$p" 2>/dev/null || true; done
  SPINNERS=()
}
stop_floods() {
  local n p
  for n in 1 2; do
    ip netns pids "$(load_ns "$n")" 2>/dev/null | xargs -r kill 2>/dev/null || true
  done
  for p in ${FLOOD_PIDS[@]+"${FLOOD_PIDS[@]}"}; do wait "$p" 2>/dev/null || true; done
  FLOOD_PIDS=()
  if command -v docker >/dev/null && docker info >/dev/null 2>&1; then
    docker rm -f "${FLOOD_NAMES[@]}" >/dev/null 2>&1 || true
  fi
}
cleanup() {
  set +eu
  stop_spinners
  stop_floods
  stop_bench_correlator
  stop_docker_correlator
  if command -v docker >/dev/null && docker info >/dev/null 2>&1; then
    docker rm -f "$DOCKER_CORRELATOR_NAME" >/dev/null 2>&1
    docker network rm "$DOCKER_NET" >/dev/null 2>&1
  fi
  bash "$TESTBED" down
  [[ -n $PING_GROUP_SAVED ]] && sysctl -qw net.ipv4.ping_group_range="$PING_GROUP_SAVED"
  if [[ -n $KEEP ]]; then mkdir -p "$KEEP" && cp -r "$WORK"/. "$KEEP"/; fi
  rm -rf "$WORK"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

# --- the host side: uid 10001 on an ICMP datagram socket, like the container's user ---------
# Others on this host set and restore the same sysctl: checked again before every replicate.
PING_GROUP_FIXES=0
ensure_ping_group() {
  local g0 g1
  read -r g0 g1 < <(sysctl -n net.ipv4.ping_group_range)
  ((g0 <= USER_ID && USER_ID <= g1)) && return 0
  [[ -n $PING_GROUP_SAVED ]] || PING_GROUP_SAVED="$g0 $g1"
  sysctl -qw net.ipv4.ping_group_range="$USER_ID $USER_ID"  # root (gid 0) keeps its raw socket
  PING_GROUP_FIXES=$((PING_GROUP_FIXES + 1))
}
ensure_ping_group
PING_GROUP_FIXES=0
mkdir -p "$WORK/bin"
cp "$MTOOL" "$WORK/bin/mtool"          # readable by uid 10001 wherever the build tree is
BIN=$WORK/bin/mtool
AS_USER=(setpriv --reuid "$USER_ID" --regid "$USER_ID" --clear-groups)

# --- the testbed, and the CPUs ----------------------------------------------------------------
REMOTE=0
UP=(up --load 2)
if grep -q -- '--remote' "$TESTBED" && [[ " $TARGETS " == *" remote "* ]]; then
  REMOTE=1
  UP+=(--remote)
  # The responder (tests/testbed/tap_responder.cpp): the test build's, built if absent.
  if [[ -z ${MTOOL_TAP_RESPONDER:-} ]]; then
    export MTOOL_TAP_RESPONDER=$HERE/build/tests/mtool_tap_responder
    if [[ ! -x $MTOOL_TAP_RESPONDER ]]; then
      cmake -S "$HERE" -B "$HERE/build" -DCMAKE_BUILD_TYPE=RelWithDebInfo >/dev/null
      cmake --build "$HERE/build" -j 2 --target mtool_tap_responder >/dev/null
    fi
  fi
fi
eval "$(bash "$TESTBED" "${UP[@]}")"
load_ns() { echo "${TESTBED_CONTAINER_NS%-container}-load$1"; }
mapfile -t ALL_CPUS < <("$PYTHON" -c 'import os; print("\n".join(map(str, sorted(os.sched_getaffinity(0)))))')
RESPONDER_CPU=${TESTBED_REMOTE_CPU:-${ALL_CPUS[-1]}}
PROBE_CPU_LIST=()
for c in "${ALL_CPUS[@]}"; do [[ $c == "$RESPONDER_CPU" ]] || PROBE_CPU_LIST+=("$c"); done
((${#PROBE_CPU_LIST[@]})) || PROBE_CPU_LIST=("${ALL_CPUS[@]}")
CPUS=$(IFS=,; echo "${PROBE_CPU_LIST[*]}")
CORRELATOR_CPUS=$CPUS
PIN=(taskset -c "$CPUS")
if ((!REMOTE)) && [[ " $TARGETS " == *" remote "* ]]; then
  log "testbed.sh has no --remote yet: remote-like cells skipped; CPU $RESPONDER_CPU kept free as for the responder"
  TARGETS=$(tr ' ' '\n' <<<"$TARGETS" | grep -vx remote | paste -sd' ' || true)
fi
[[ -n $TARGETS ]] || die "no cells to run"
responder() { ((REMOTE)) && bash "$TESTBED" responder "$1" >/dev/null; return 0; }
target_addr() { if [[ $1 == local ]]; then echo "$TESTBED_TARGET"; else echo "$TESTBED_REMOTE_TARGET"; fi; }
UPLINK_ARGS=("$TESTBED_UPLINK")           # and the options that follow it
((REMOTE)) && UPLINK_ARGS+=(--uplink "$TESTBED_REMOTE_UPLINK")

MANIFEST=$WORK/manifest.tsv
: >"$MANIFEST"
echo "probe_cpus	$CPUS	responder_cpu	$RESPONDER_CPU	remote	$REMOTE" >"$WORK/layout.tsv"

# --- one run of each side --------------------------------------------------------------------
# The host reference is never followed: following a host probe runs the correlator's program
# before the probe's transmit stamp, 3-4 us on its time= (README). When the correlator can follow
# host probes, a short followed host run after each replicate gives the host's wire RTT
# (fairness column).
FOLLOW_HOST=0
WIRE_PROBES_DENSE=200
WIRE_PROBES_SPARSE=15
host_cmd() {  # interval count target [followed] -> CMD
  local env=(MTOOL_CORRELATOR=off)
  [[ ${4:-} == followed ]] && env=(MTOOL_CORRELATOR_SOCKET="$SOCKET")
  CMD=("${PIN[@]}" "${AS_USER[@]}" env "${env[@]}" "$BIN" ping --json -c "$2" -i "$1" "$3")
}
container_cmd() {  # half interval count target -> CMD
  case $1 in
    testbed)
      CMD=(ip netns exec "$TESTBED_CONTAINER_NS" "${PIN[@]}" "${AS_USER[@]}" env MTOOL_CORRELATOR_SOCKET="$SOCKET"
        "$BIN" ping --json -c "$3" -i "$2" "$4") ;;
    docker)
      CMD=(docker run --rm --network "$DOCKER_NET" --cpuset-cpus "$CPUS" "$IMAGE" ping --json -c "$3" -i "$2" "$4") ;;
  esac
}
run_to() {  # out command...
  local out=$1
  shift
  "$@" >"$out" 2>"$out.err" || true
}

run_cell() {  # half target load interval_name
  local half=$1 target=$2 load=$3 iname=$4 interval count reps mode r base addr
  if [[ $iname == dense ]]; then interval=0.002 count=$DENSE_PROBES reps=$REPS mode=sequential
  else interval=0.2 count=$SPARSE_PROBES reps=$SPARSE_REPS mode=$SPARSE_MODE; fi
  addr=$(target_addr "$target")
  for ((r = 1; r <= reps; r++)); do
    ensure_ping_group
    base="$WORK/$half.$target.$load.$iname.$r"
    host_cmd "$interval" "$count" "$addr"
    local host=("${CMD[@]}")
    container_cmd "$half" "$interval" "$count" "$addr"
    local container=("${CMD[@]}")
    if [[ $mode == concurrent ]]; then
      # The container first (docker run starts late and unevenly), the host half an interval
      # after its sends (bench/lib/offset_pair.py).
      "$PYTHON" "$HERE/bench/lib/offset_pair.py" "$interval" "$base.container.json" "$base.host.json" \
        "${container[@]}" --- "${host[@]}"
    elif ((r % 2)); then  # alternate which side goes first
      run_to "$base.host.json" "${host[@]}"
      run_to "$base.container.json" "${container[@]}"
    else
      run_to "$base.container.json" "${container[@]}"
      run_to "$base.host.json" "${host[@]}"
    fi
    if ((FOLLOW_HOST)); then
      host_cmd "$interval" "$([[ $iname == dense ]] && echo $WIRE_PROBES_DENSE || echo $WIRE_PROBES_SPARSE)" "$addr" followed
      run_to "$base.hostwire.json" "${CMD[@]}"
    fi
    printf '%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\n' "$half" "$target" "$load" "$iname" "$interval" "$r" "$mode" "${base#"$WORK"/}" >>"$MANIFEST"
  done
}

start_load() {  # half load
  local c n
  case $2 in
    busy)
      for c in "${PROBE_CPU_LIST[@]}"; do
        taskset -c "$c" bash -c 'while :; do :; done' &
        SPINNERS+=($!)
      done ;;
    floods)
      if [[ $1 == testbed ]]; then
        for n in 1 2; do
          ip netns exec "$(load_ns "$n")" "${PIN[@]}" env MTOOL_CORRELATOR=off "$BIN" ping -f -q "$TESTBED_TARGET" >/dev/null 2>&1 &
          FLOOD_PIDS+=($!)
        done
      else
        # root in the neighbours: an unprivileged user may not flood (iputils' rule)
        for n in "${FLOOD_NAMES[@]}"; do
          docker run -d --rm --name "$n" --user 0 --network "$DOCKER_NET" --cpuset-cpus "$CPUS" \
            -e MTOOL_CORRELATOR=off "$IMAGE" ping -f -q "$TESTBED_TARGET" >/dev/null
        done
      fi ;;
  esac
  [[ $2 == idle ]] || sleep 1
}
stop_load() { stop_spinners; stop_floods; }

run_half() {  # half
  local half=$1 target load iname t0
  [[ -n ${TESTBED_REMOTE_LOG:-} ]] && : >"$TESTBED_REMOTE_LOG"
  for target in $TARGETS; do
    if [[ $target == remote ]]; then responder start; else responder stop; fi
    for load in $LOADS; do
      start_load "$half" "$load"
      for iname in $INTERVALS; do
        sample_others "$target"
        t0=$(date +%s)
        run_cell "$half" "$target" "$load" "$iname"
        log "$half $target $load $iname: $(($(date +%s) - t0)) s"
      done
      stop_load
    done
  done
  responder stop  # it eats its CPU: only while a remote-like cell runs
  # Its summary (answered, loop gaps, per-packet time) is written when it stops.
  if ((REMOTE)) && [[ -n ${TESTBED_REMOTE_LOG:-} ]]; then
    grep 'answered' "$TESTBED_REMOTE_LOG" | tail -n 1 >"$WORK/responder.$half.log" || true
  fi
}

# Other correlators on this host (other people's tests and benches) also run their programs on
# every packet, and one may take the listener name in a new container's namespace first (its
# tools then ask it, not ours): said under the tables.
# Sampled at each cell: the most seen at once. Another TAP responder on the same CPU stalls ours.
OWN_CORRELATOR_PID=0
OTHERS=0
OTHER_RESPONDERS=0
sample_others() {  # target of the cell (ours spins only in remote cells)
  local n
  n=$(ps -eo pid=,args= | awk -v own="$OWN_CORRELATOR_PID" '$3 == "correlator" && $4 != "status" && $1 != own' | wc -l)
  ((n <= OTHERS)) || OTHERS=$n
  n=$(pgrep -c -x mtool_tap_respo || true)
  [[ $1 == remote ]] && n=$((n > 0 ? n - 1 : 0))
  ((n <= OTHER_RESPONDERS)) || OTHER_RESPONDERS=$n
}
note_interference() {  # half log
  local taken
  taken=$(grep -c 'mtool-correlator is taken in network namespace' "$2" 2>/dev/null || true)
  printf 'others_%s\t%s\ttaken_%s\t%s\tresponders_%s\t%s\n' "$1" "$OTHERS" "$1" "${taken:-0}" \
    "$1" "$OTHER_RESPONDERS" >>"$WORK/layout.tsv"
  OTHERS=0
  OTHER_RESPONDERS=0
}

follows_host_probes() { "$@" correlator --help 2>&1 | grep -q -- '--follow-host-probes'; }

for half in $HALVES; do
  case $half in
    testbed)
      FOLLOW=()
      FOLLOW_HOST=0
      if follows_host_probes "$MTOOL"; then FOLLOW_HOST=1; FOLLOW=(--follow-host-probes); fi
      start_bench_correlator "${UPLINK_ARGS[@]}" ${FOLLOW[@]+"${FOLLOW[@]}"}
      OWN_CORRELATOR_PID=$CORRELATOR
      run_half testbed
      stop_bench_correlator
      note_interference testbed "$WORK/correlator.log" ;;
    docker)
      bash "$HERE/scripts/docker-env.sh"
      t0=$(date +%s)
      ((BUILD_IMAGE)) && make -s -C "$HERE" image >/dev/null
      IMAGE_SECONDS=$(($(date +%s) - t0))
      # The image by its id: a mtool:latest retagged by another build mid-run changes nothing.
      IMAGE=$(docker image inspect -f '{{.Id}}' mtool:latest)
      echo "docker	$IMAGE" >>"$WORK/layout.tsv"
      docker rm -f "$DOCKER_CORRELATOR_NAME" "${FLOOD_NAMES[@]}" >/dev/null 2>&1 || true
      docker network rm "$DOCKER_NET" >/dev/null 2>&1 || true
      docker network create --subnet "$DOCKER_SUBNET" "$DOCKER_NET" >/dev/null
      FOLLOW=()
      FOLLOW_HOST=0
      if follows_host_probes docker run --rm "$IMAGE"; then FOLLOW_HOST=1; FOLLOW=(--follow-host-probes); fi
      start_docker_correlator "$DOCKER_CORRELATOR_NAME" "$IMAGE" "${UPLINK_ARGS[@]}" ${FOLLOW[@]+"${FOLLOW[@]}"}
      OWN_CORRELATOR_PID=$(docker inspect -f '{{.State.Pid}}' "$DOCKER_CORRELATOR_NAME")
      run_half docker
      stop_docker_correlator
      note_interference docker "$WORK/docker-correlator.log"
      docker network rm "$DOCKER_NET" >/dev/null ;;
  esac
done

ELAPSED=$(($(date +%s) - STARTED))
((PING_GROUP_FIXES == 0)) || log "net.ipv4.ping_group_range was changed under the bench $PING_GROUP_FIXES time(s) (set again)"
"$PYTHON" "$HERE/bench/accuracy_table.py" "$WORK"
echo
echo "took ${ELAPSED} s (of which ${IMAGE_SECONDS} s building the image); probes pinned to CPU(s) $CPUS (responder's CPU: $RESPONDER_CPU)"
echo "command: bash bench/accuracy_matrix.sh ${ARGS[*]:-build-release/tools/mtool}"
