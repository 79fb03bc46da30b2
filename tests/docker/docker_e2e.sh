#!/usr/bin/env bash
# End to end on Docker (root): the image built from this tree (images/Dockerfile), the
# correlator run from it as the README says, a target namespace behind a host uplink, and
# measuring containers on a Docker bridge network, started with Docker's defaults (no volume,
# no capability flag, no variable), that ping, traceroute and run a list: every reply must
# carry its raw and corrected RTT (the correlator listens inside each container's namespace). Starts dockerd (address pools in
# 198.18.0.0/15) and builds a local debian:bookworm-slim with debootstrap when absent
# (scripts/docker-env.sh). Everything it creates goes away at the end, also on failure.
#   usage: tests/docker/docker_e2e.sh          exit 0 pass, 1 fail, 77 skipped (not root)
set -euo pipefail
HERE=$(cd "$(dirname "$0")/../.." && pwd)
[[ $(id -u) -eq 0 ]] || { echo "docker e2e: skipped: needs root (dockerd, namespaces, BPF)"; exit 77; }

export MTOOL_TESTBED_INDEX=15            # clear of the other suites and benches
TESTBED="$HERE/tests/testbed/testbed.sh"
IMAGE=mtool:e2e
NETWORK=mtool-e2e
SUBNET=198.18.215.0/24                    # inside dockerd's pool, 198.18.128.0/17
CORRELATOR=mtool-e2e-correlator
PROBER=mtool-e2e-prober
# The correlator's metrics on the host's loopback (the correlator runs in the host's network).
CORRELATOR_METRICS=127.0.0.1:$(python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
PIN_DIR=/sys/fs/bpf/mtool-e2e
SOCKET_DIR=/run/mtool-e2e
failures=0
fail() { echo "FAIL: $*"; failures=$((failures + 1)); }
pass() { echo "ok: $*"; }

cleanup() {
  docker rm -f "$PROBER" "$CORRELATOR" >/dev/null 2>&1 || true
  docker network rm "$NETWORK" >/dev/null 2>&1 || true
  docker rmi "$IMAGE" >/dev/null 2>&1 || true
  docker image prune -f --filter label=mtool.stage=build >/dev/null 2>&1 || true
  bash "$TESTBED" down || true
  rm -rf "$PIN_DIR" "$SOCKET_DIR"
}
trap cleanup EXIT

bash "$HERE/scripts/docker-env.sh"
cleanup
docker build -q --network host -f "$HERE/images/Dockerfile" -t "$IMAGE" "$HERE" >/dev/null
eval "$(bash "$TESTBED" up)"
TARGET=$TESTBED_TARGET

# The correlator, as README "Run it on Docker" runs it.
mkdir -p "$SOCKET_DIR"
docker run -d --name "$CORRELATOR" --user 0 --network host --pid host --read-only \
  --cap-drop ALL --cap-add SYS_ADMIN --cap-add NET_ADMIN --cap-add SYS_PTRACE \
  -v /sys/fs/bpf:/sys/fs/bpf -v /sys/kernel/btf:/sys/kernel/btf:ro -v "$SOCKET_DIR":/run/mtool \
  "$IMAGE" correlator --uplink "$TESTBED_UPLINK" --pin-dir "$PIN_DIR" --metrics "$CORRELATOR_METRICS" >/dev/null
for _ in $(seq 50); do
  docker exec "$CORRELATOR" mtool correlator status >/dev/null 2>&1 && break
  sleep 0.2
done
if docker exec "$CORRELATOR" mtool correlator status >/dev/null 2>&1; then
  pass "correlator container answers"
else
  fail "correlator container does not answer:"; docker logs "$CORRELATOR" 2>&1 | tail -20
  exit 1
fi

docker network create --subnet "$SUBNET" "$NETWORK" >/dev/null
# A measuring container as a user types it: Docker's defaults, nothing mounted or added.
measure() {
  docker run --rm --network "$NETWORK" "$IMAGE" "$@"
}
# The least a container can have: the image's user (10001), no capability but NET_RAW in its
# bounding set (for the executable's file capability, which traceroute -T needs).
measure_least() {
  docker run --rm --network "$NETWORK" --cap-drop ALL --cap-add NET_RAW "$IMAGE" "$@"
}

out=$(measure ping -c 5 "$TARGET" 2>&1) || fail "ping exited $?: $out"
replies=$(grep -c "bytes from $TARGET" <<<"$out" || true)
corrected=$(grep "bytes from $TARGET" <<<"$out" | grep -c " corrected=.* ms overhead=" || true)
if [[ $replies -eq 5 && $corrected -eq 5 ]]; then pass "ping: 5/5 replies with raw and corrected RTT"
else fail "ping: $corrected of $replies replies corrected:"; echo "$out"; fi
grep -q "^corrected rtt min/avg/max/mdev" <<<"$out" || fail "ping: no corrected summary"

out=$(measure traceroute -n -q 2 "$TARGET" 2>&1) || fail "traceroute exited $?: $out"
last=$(tail -1 <<<"$out")
if grep -q "$TARGET .*(corrected [0-9.]*).*(corrected [0-9.]*)" <<<"$last" && grep -q "\[virtual\]" <<<"$out"; then
  pass "traceroute: the target hop corrected, the Docker gateway hop [virtual]"
else fail "traceroute:"; echo "$out"; fi

# TCP SYN probes need a raw socket: CAP_NET_RAW from the file capability, as uid 10001.
out=$(measure_least traceroute -T -n -q 1 "$TARGET" 2>&1) || fail "traceroute -T exited $?: $out"
if grep -q "$TARGET .*(corrected [0-9.]*)" <<<"$(tail -1 <<<"$out")"; then
  pass "traceroute -T as uid 10001: the file capability works, the target hop corrected"
else fail "traceroute -T:"; echo "$out"; fi

list='{"type": "ping", "target": "'$TARGET'", "packets": 3, "packet_interval": 100}'
out=$(echo "$list" | docker run --rm -i --network "$NETWORK" "$IMAGE" run --prb-id 15 - 2>&1) ||
  fail "run exited $?: $out"
if python3 -c '
import json, sys
r = json.loads(sys.stdin.read())
assert r["rcvd"] == 3 and r["prb_id"] == 15, r
assert all("rtt_corrected" in p and p["rtt_corrected"] <= p["rtt"] for p in r["result"]), r
' <<<"$out"; then pass "run: an Atlas result, 3/3 replies corrected"
else fail "run:"; echo "$out"; fi

# --metrics in the image: the exporter module and what it loads are there. A prober serving on
# its container's address (a one-off list: it serves until stopped), and the correlator's.
echo "$list" | docker run --rm -i --name "$PROBER" --network "$NETWORK" "$IMAGE" \
  run --metrics 0.0.0.0:9101 --out /dev/null - >/dev/null 2>&1 &
scraped=""
for _ in $(seq 50); do
  address=$(docker inspect -f '{{range .NetworkSettings.Networks}}{{.IPAddress}}{{end}}' "$PROBER" 2>/dev/null || true)
  scraped=""
  [[ -z $address ]] || scraped=$(curl -sf "http://$address:9101/metrics" || true)
  grep -q '^mtool_results_total{.*} 1$' <<<"$scraped" && break
  sleep 0.2
done
if grep -q '^mtool_results_total{.*} 1$' <<<"$scraped"; then pass "run --metrics in the image: its result scraped"
else fail "run --metrics in the image:"; docker logs "$PROBER" 2>&1 | tail -5; echo "$scraped" | tail -5; fi
docker rm -f "$PROBER" >/dev/null 2>&1 || true
scraped=$(curl -sf "http://$CORRELATOR_METRICS/metrics" || true)
if grep -q '^mtool_correlator_records_written_total [1-9]' <<<"$scraped"; then
  pass "correlator --metrics in the image: its counters scraped"
else fail "correlator --metrics in the image:"; echo "$scraped" | head -5; fi

# The image: non-root by default, small, and the tools work without the correlator.
user=$(docker image inspect -f '{{.Config.User}}' "$IMAGE")
if [[ $user == 10001:10001 ]]; then pass "image runs as $user"; else fail "image user is '$user'"; fi
size=$(docker image inspect -f '{{.Size}}' "$IMAGE")
if ((size < 10 * 1000 * 1000)); then pass "image size $((size / 1000)) kB (goal < 10 MB)"; else fail "image is $size bytes (goal < 10 MB)"; fi
# `mtool report` in the image: its module and simdjson are there (no network needed).
reported=$(head -n 1 "$HERE/tests/report/data/atlas_ping.jsonl" |
  docker run --rm -i --network none "$IMAGE" report --json - 2>&1) || fail "report in the image: $reported"
if python3 -c 'import json, sys; sys.exit(json.loads(sys.argv[1])["input"]["results"] != 1)' "$reported" 2>/dev/null; then
  pass "report in the image: 1 result read through its module"
else
  fail "report in the image:"; echo "$reported" | head -5
fi
# The old way still works: the socket directory mounted read-only.
out=$(docker run --rm --network "$NETWORK" --cap-drop ALL --cap-add NET_RAW \
  -v "$SOCKET_DIR":/run/mtool:ro "$IMAGE" ping -c 3 -i 0.2 "$TARGET" 2>&1) || fail "ping with the socket mounted: $out"
if [[ $(grep -c " corrected=.* ms overhead=" <<<"$out") -eq 3 ]]; then
  pass "ping with the socket mounted: 3/3 corrected"
else
  fail "ping with the socket mounted:"
  echo "$out"
fi

# Once the correlator is gone (its pins stay), containers are plain drop-ins and say nothing.
docker rm -f "$CORRELATOR" >/dev/null
out=$(docker run --rm --network "$NETWORK" "$IMAGE" ping -c 1 "$TARGET" 2>&1) || fail "ping without the correlator: $out"
if ! grep -q "corrections\|corrected" <<<"$out"; then
  pass "without the correlator: plain ping, nothing said"
else
  fail "without the correlator (nothing configured, so nothing to say):"$'\n'"$out"
fi

((failures == 0)) || { echo "docker e2e: $failures failed"; exit 1; }
echo "docker e2e: all passed"
