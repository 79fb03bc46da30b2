# shellcheck shell=bash
# shellcheck disable=SC2034  # U, HOLDER and the rest are for the scripts that source this
# Sourced by compare.sh and trace.sh: the bed both measure on. The caller sets HERE, OUT, MTOOL,
# PIN and SOCKDIR (each script its own paths) and runs bed_down from its cleanup.
export MTOOL_TESTBED_INDEX=23
T="$HERE/tests/testbed/testbed.sh"
NET=sp-net
SUBNET=198.18.223.0/24
U=(setpriv --reuid 10001 --regid 10001 --clear-groups)

# Testbed 23 with 3 load namespaces, the host side admitted as uid 10001 on an ICMP datagram
# socket, a private correlator, a Docker network with a holder container (HOLDER: its pid, for
# nsenter) and a sleeper keeping the testbed container's namespace (SLEEPER).
bed_up() {
  install -m 755 "${MTOOL_BIN:-$HERE/build-release/tools/mtool}" "$MTOOL"
  eval "$(bash "$T" up --load 3)"
  PGR=$(sysctl -n net.ipv4.ping_group_range | tr '\t' ' ')
  sysctl -qw net.ipv4.ping_group_range="10001 10001"
  mkdir -p "$SOCKDIR"
  "$MTOOL" correlator --uplink "$TESTBED_UPLINK" --pin-dir "$PIN" --socket "$SOCKDIR/correlator.sock" 2>"$OUT/correlator.log" &
  CORR=$!
  docker network create --subnet "$SUBNET" "$NET" >/dev/null
  docker run -d --name sp-holder --network "$NET" debian:bookworm-slim sleep 1000000 >/dev/null
  HOLDER=$(docker inspect -f '{{.State.Pid}}' sp-holder)
  ip netns exec "$TESTBED_CONTAINER_NS" sleep 1000000 &
  SLEEPER=$!
}

# Undoes bed_up, whatever part of it ran (the caller removes its own containers first).
bed_down() {
  if [[ -n ${CORR:-} ]]; then kill "$CORR" 2>/dev/null || true; fi
  if [[ -n ${SLEEPER:-} ]]; then kill "$SLEEPER" 2>/dev/null || true; fi
  docker rm -f sp-holder >/dev/null 2>&1 || true
  docker network rm "$NET" >/dev/null 2>&1 || true
  bash "$T" down >/dev/null 2>&1 || true
  [[ -n ${PGR:-} ]] && sysctl -qw net.ipv4.ping_group_range="$PGR"
  rm -rf "$PIN" "$SOCKDIR" "$MTOOL"
}
