# shellcheck shell=bash
# Sourced by bench scripts: a private `mtool correlator` on testbed uplinks (as a host process,
# or as a container the way README "Run it on Docker" runs it), and their teardown.
# Uses the caller's MTOOL, PIN_DIR, SOCKET and WORK; sets CORRELATOR to its pid.
# Optional, set by the caller: CORRELATOR_CPUS (a taskset/--cpuset-cpus list to pin it to).
CORRELATOR=""
DOCKER_CORRELATOR=""

start_bench_correlator() {  # uplink [more correlator options, e.g. --uplink B --follow-host-probes]
  local pin=()
  [[ -n ${CORRELATOR_CPUS:-} ]] && pin=(taskset -c "$CORRELATOR_CPUS")
  rm -rf "$PIN_DIR"
  "${pin[@]}" "$MTOOL" correlator --uplink "$1" "${@:2}" --pin-dir "$PIN_DIR" --socket "$SOCKET" 2>"$WORK/correlator.log" &
  CORRELATOR=$!
  for _ in $(seq 50); do "$MTOOL" correlator status --socket "$SOCKET" >/dev/null 2>&1 && return 0; sleep 0.1; done
  echo "bench: the correlator did not start:" >&2
  cat "$WORK/correlator.log" >&2
  exit 1
}

stop_bench_correlator() {
  if [[ -n $CORRELATOR ]]; then
    kill "$CORRELATOR" 2>/dev/null || true
    wait "$CORRELATOR" 2>/dev/null || true
    CORRELATOR=""
  fi
  rm -rf "$PIN_DIR" "$(dirname "$SOCKET")"
}

# The correlator container, as README "Run it on Docker" runs it (its socket directory on the
# host: $(dirname "$SOCKET")).
start_docker_correlator() {  # name image uplink [more correlator options]
  local name=$1 image=$2 pin=()
  shift 2
  [[ -n ${CORRELATOR_CPUS:-} ]] && pin=(--cpuset-cpus "$CORRELATOR_CPUS")
  rm -rf "$PIN_DIR"
  mkdir -p "$(dirname "$SOCKET")"
  docker run -d --name "$name" "${pin[@]}" --user 0 --network host --pid host --read-only \
    --cap-drop ALL --cap-add SYS_ADMIN --cap-add NET_ADMIN --cap-add SYS_PTRACE \
    -v /sys/fs/bpf:/sys/fs/bpf -v /sys/kernel/btf:/sys/kernel/btf:ro -v "$(dirname "$SOCKET")":/run/mtool \
    "$image" correlator --uplink "$1" "${@:2}" --pin-dir "$PIN_DIR" >/dev/null
  DOCKER_CORRELATOR=$name
  for _ in $(seq 50); do docker exec "$name" mtool correlator status >/dev/null 2>&1 && return 0; sleep 0.2; done
  echo "bench: the correlator container did not start:" >&2
  docker logs "$name" 2>&1 | tail -20 >&2
  exit 1
}

stop_docker_correlator() {
  if [[ -n $DOCKER_CORRELATOR ]]; then
    docker logs "$DOCKER_CORRELATOR" >"$WORK/docker-correlator.log" 2>&1 || true
    docker rm -f "$DOCKER_CORRELATOR" >/dev/null 2>&1 || true
    DOCKER_CORRELATOR=""
  fi
  rm -rf "$PIN_DIR" "$(dirname "$SOCKET")"
}
