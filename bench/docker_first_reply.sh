#!/usr/bin/env bash
# Corrections with nothing to configure, measured on the real Docker path: the correlator
# container as the README runs it, then RUNS containers started with Docker's defaults that
# ping at once (`docker run --rm mtool ping -c 3 -i 0.2 TARGET`). Counts the containers whose
# first reply, and whose every reply, came corrected. Builds the image (make image).
#   usage: bench/docker_first_reply.sh [runs]
set -euo pipefail
RUNS=${1:-20}
HERE=$(cd "$(dirname "$0")/.." && pwd)
TESTBED="$HERE/tests/testbed/testbed.sh"
export MTOOL_TESTBED_INDEX=17
NETWORK=mtool-bench-first
CORRELATOR=mtool-bench-correlator
PIN_DIR=/sys/fs/bpf/mtool-bench-first
SOCKET_DIR=/run/mtool-bench-first
[[ $(id -u) -eq 0 ]] || { echo "bench: needs root" >&2; exit 1; }
cleanup() {
  docker rm -f "$CORRELATOR" >/dev/null 2>&1 || true
  docker network rm "$NETWORK" >/dev/null 2>&1 || true
  bash "$TESTBED" down
  rm -rf "$PIN_DIR" "$SOCKET_DIR"
}
trap cleanup EXIT
make -s -C "$HERE" image >/dev/null
cleanup
eval "$(bash "$TESTBED" up)"
mkdir -p "$SOCKET_DIR"
docker run -d --name "$CORRELATOR" --user 0 --network host --pid host --read-only \
  --cap-drop ALL --cap-add SYS_ADMIN --cap-add NET_ADMIN --cap-add SYS_PTRACE \
  -v /sys/fs/bpf:/sys/fs/bpf -v /sys/kernel/btf:/sys/kernel/btf:ro -v "$SOCKET_DIR":/run/mtool \
  mtool:latest correlator --uplink "$TESTBED_UPLINK" --pin-dir "$PIN_DIR" >/dev/null
for _ in $(seq 50); do
  docker exec "$CORRELATOR" mtool correlator status >/dev/null 2>&1 && break
  sleep 0.2
done
docker network create --subnet 198.18.217.0/24 "$NETWORK" >/dev/null
first=0 all=0
for _ in $(seq "$RUNS"); do
  out=$(docker run --rm --network "$NETWORK" mtool:latest ping -c 3 -i 0.2 "$TESTBED_TARGET" 2>&1 || true)
  replies=$(grep "bytes from" <<<"$out" || true)
  head -1 <<<"$replies" | grep -q " corrected=" && first=$((first + 1))
  [[ $(grep -c " corrected=" <<<"$replies") -eq 3 ]] && all=$((all + 1))
done
echo "| containers pinging at once (Docker defaults) | first reply corrected | all 3 corrected |"
echo "|---|---|---|"
echo "| $RUNS | $first/$RUNS | $all/$RUNS |"
