#!/usr/bin/env bash
# Accuracy on the real Docker path, idle: the correlator container as the README runs it, a
# target namespace behind the uplink (testbed instance 18), and the same target pinged by
# mtool on the host (MTOOL_CORRELATOR=off) and from `docker run --rm mtool ping` with Docker's
# defaults (nothing mounted: corrections through the listener in its namespace), alternated,
# 2 ms x 500 and 200 ms x 60 probes per round. Bias = container minus host, p50, in us.
# Only the idle cells; the full matrix (load, a remote-like target) is issue 14's.
#   usage: bench/docker_accuracy.sh [rounds]
set -euo pipefail
ROUNDS=${1:-2}
HERE=$(cd "$(dirname "$0")/.." && pwd)
cd "$HERE"
[[ $(id -u) -eq 0 ]] || { echo "bench: needs root" >&2; exit 1; }
make -s image >/dev/null
make -s build >/dev/null
export MTOOL_TESTBED_INDEX=18
T=tests/testbed/testbed.sh
cleanup() { docker rm -f acc-corr >/dev/null 2>&1 || true; docker network rm acc-net >/dev/null 2>&1 || true; bash $T down >/dev/null 2>&1; rm -rf /sys/fs/bpf/mtool-acc /run/mtool-acc; }
trap cleanup EXIT
cleanup
eval "$(bash $T up)"
mkdir -p /run/mtool-acc
docker run -d --name acc-corr --user 0 --network host --pid host --read-only --cap-drop ALL --cap-add SYS_ADMIN --cap-add NET_ADMIN --cap-add SYS_PTRACE \
  -v /sys/fs/bpf:/sys/fs/bpf -v /sys/kernel/btf:/sys/kernel/btf:ro -v /run/mtool-acc:/run/mtool mtool:latest correlator --uplink "$TESTBED_UPLINK" --pin-dir /sys/fs/bpf/mtool-acc >/dev/null
sleep 2
docker network create --subnet 198.18.218.0/24 acc-net >/dev/null
p50() { awk -v l="$1" -F'= ' 'index($0, l " p50/p90/p99/p99.9") == 1 {split($2,v,"/"); printf "%.1f %.1f", v[1]*1000, v[2]*1000}'; }
for case in "0.002 500" "0.2 60"; do
  set -- $case
  for round in $(seq "$ROUNDS"); do
    h=$(MTOOL_CORRELATOR=off build/tools/mtool ping -q -c $2 -i $1 --percentiles "$TESTBED_TARGET")
    c=$(docker run --rm --network acc-net mtool:latest ping -q -c $2 -i $1 --percentiles "$TESTBED_TARGET" 2>&1)
    read -r h50 h90 <<<"$(p50 rtt <<<"$h")"; read -r r50 r90 <<<"$(p50 rtt <<<"$c")"; read -r c50 c90 <<<"$(p50 "corrected rtt" <<<"$c")"
    cov=$(grep -o '[0-9]*/[0-9]* replies corrected' <<<"$c" || echo "?")
    echo "interval $1 s round $round: host p50/p90 $h50/$h90 us; container raw $r50/$r90, corrected $c50/$c90; raw bias p50 $(awk -v a=$r50 -v b=$h50 'BEGIN{printf "%+.1f", a-b}'), corrected bias p50 $(awk -v a=$c50 -v b=$h50 'BEGIN{printf "%+.1f", a-b}'); $cov"
  done
done
