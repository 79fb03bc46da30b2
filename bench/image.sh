#!/usr/bin/env bash
# The image: its size, and the time from `docker run` to the first ping reply from a container
# on a Docker bridge network to a target namespace (testbed instance 16), against the floor of
# `docker run` itself (the base image running /bin/true), REPS alternated replicates; median
# and range. Builds the image with `make image` (dockerd and the base image as needed).
#   usage: bench/image.sh [reps]
set -euo pipefail
REPS=${1:-7}
HERE=$(cd "$(dirname "$0")/.." && pwd)
TESTBED="$HERE/tests/testbed/testbed.sh"
export MTOOL_TESTBED_INDEX=16
NETWORK=mtool-bench
[[ $(id -u) -eq 0 ]] || { echo "bench: needs root" >&2; exit 1; }
cleanup() {
  docker network rm "$NETWORK" >/dev/null 2>&1 || true
  bash "$TESTBED" down
}
trap cleanup EXIT
make -s -C "$HERE" image >/dev/null
eval "$(bash "$TESTBED" up)"
docker network rm "$NETWORK" >/dev/null 2>&1 || true
docker network create --subnet 198.18.216.0/24 "$NETWORK" >/dev/null

# Milliseconds from starting `docker run` to its first output line matching PATTERN.
first_line_ms() {  # pattern docker-run-args...
  local pattern=$1 start line
  shift
  start=$EPOCHREALTIME
  while IFS= read -r line; do
    if [[ $line =~ $pattern ]]; then
      echo "$start $EPOCHREALTIME" | awk '{printf "%.1f\n", ($2 - $1) * 1000}'
      cat >/dev/null
      return 0
    fi
  done < <(docker run --rm --network "$NETWORK" "$@" 2>&1)
  echo "bench: no line matching '$pattern'" >&2
  return 1
}

stats() { sort -n | awk '{v[NR] = $1} END {printf "%.1f [%.1f-%.1f]", v[int((NR + 1) / 2)], v[1], v[NR]}'; }
median() { sort -n | awk '{v[NR] = $1} END {print v[int((NR + 1) / 2)]}'; }

: >/tmp/mtool-bench-floor; : >/tmp/mtool-bench-ping
for ((i = 0; i < REPS; i++)); do
  first_line_ms 'floor' debian:bookworm-slim sh -c 'echo floor' >>/tmp/mtool-bench-floor
  first_line_ms "bytes from $TESTBED_TARGET" mtool:latest ping -c 1 "$TESTBED_TARGET" >>/tmp/mtool-bench-ping
done
size=$(docker image inspect -f '{{.Size}}' mtool:latest)
base=$(docker image inspect -f '{{.Size}}' debian:bookworm-slim)
floor=$(median </tmp/mtool-bench-floor)
ping=$(median </tmp/mtool-bench-ping)
echo "| metric | mtool image | reference | ratio | goal |"
echo "|---|---|---|---|---|"
awk -v s="$size" -v b="$base" 'BEGIN {
  printf "| image size | %.1f MB | debian:bookworm-slim %.1f MB | %.2f | <= 40 MB |\n", s / 1e6, b / 1e6, s / b }'
awk -v p="$ping" -v f="$floor" -v ps="$(stats </tmp/mtool-bench-ping)" -v fs="$(stats </tmp/mtool-bench-floor)" 'BEGIN {
  printf "| docker run to first reply, ms: median [range] | %s | docker run of sh -c echo: %s | %.2f | |\n", ps, fs, p / f }'

echo
echo "command: bash bench/image.sh $REPS ($REPS alternated replicates, $(nproc) CPUs)"
rm -f /tmp/mtool-bench-floor /tmp/mtool-bench-ping
