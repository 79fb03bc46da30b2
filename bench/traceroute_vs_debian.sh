#!/usr/bin/env bash
# mtool traceroute vs Debian's traceroute (Butskoy 2.1.2), from a container of the testbed
# through a chain of 8 routers (tests/testbed/testbed.sh up --routers 8, instance 13): 10 hops,
# the gateway (the host itself), the target, r1..r8, of which r2 and r5 (hops 4 and 7) never
# send time-exceeded. The correlator runs on the host. Alternates the two tools, REPS times
# each, for UDP (the default) and ICMP (-I); reports the median wall time of a whole trace, and
# from mtool's output the share of answered probes beyond the host (hops >= 2) that carry
# `(corrected X)`, and whether hop 1 is marked [virtual].
#   usage: bench/traceroute_vs_debian.sh path/to/mtool [reps]
set -euo pipefail
MTOOL=$(realpath "$1")
REPS=${2:-5}
HERE=$(cd "$(dirname "$0")/.." && pwd)
TESTBED="$HERE/tests/testbed/testbed.sh"
export MTOOL_TESTBED_INDEX=13
ROUTERS=8
SILENT="2 5"  # routers that drop their time-exceeded messages
DEBIAN=/usr/sbin/traceroute
WORK=$(mktemp -d)
PIN_DIR=/sys/fs/bpf/mtool-bench-trace
SOCKET=/run/mtool-bench-trace/correlator.sock
export MTOOL_BPF_PIN_DIR=$PIN_DIR MTOOL_CORRELATOR_SOCKET=$SOCKET

[[ $(id -u) -eq 0 ]] || { echo "bench: needs root" >&2; exit 1; }
[[ -x $DEBIAN ]] || { echo "bench: $DEBIAN missing (apt package traceroute)" >&2; exit 1; }
# shellcheck source=bench/lib/correlator.sh
source "$HERE/bench/lib/correlator.sh"
cleanup() {
  stop_bench_correlator
  bash "$TESTBED" down
  rm -rf "$WORK"
}
trap cleanup EXIT
eval "$(bash "$TESTBED" up --routers "$ROUTERS")"
for k in $SILENT; do
  bash "$TESTBED" exec "r$k" iptables -A OUTPUT -p icmp --icmp-type time-exceeded -j DROP
done
start_bench_correlator "$TESTBED_UPLINK"

# One trace inside the container; its output to FILE, "microseconds exit-code" to FILE.time.
# The clock runs inside the namespace around the tool alone (bash's EPOCHREALTIME, no fork), so
# `ip netns exec` and the shell are not counted.
trace() {  # file command...
  local file=$1
  shift
  # shellcheck disable=SC2016  # expanded by the inner bash
  ip netns exec "$TESTBED_CONTAINER_NS" bash -c '
    file=$1
    shift
    rc=0
    t0=${EPOCHREALTIME/[.,]/}
    "$@" >"$file" 2>"$file.err" || rc=$?
    t1=${EPOCHREALTIME/[.,]/}
    echo "$((t1 - t0)) $rc" >"$file.time"
  ' trace "$file" "$@"
}

declare -A OPT=([udp]="" [icmp]="-I")
for ((r = 1; r <= REPS; r++)); do
  for method in udp icmp; do
    # shellcheck disable=SC2086  # OPT is one option or none
    trace "$WORK/$method.debian.$r" "$DEBIAN" ${OPT[$method]} -n "$TESTBED_CHAIN_END"
    # shellcheck disable=SC2086
    trace "$WORK/$method.mtool.$r" "$MTOOL" traceroute ${OPT[$method]} -n "$TESTBED_CHAIN_END"
    # The same without asking the correlator: what the tool itself costs.
    # shellcheck disable=SC2086
    trace "$WORK/$method.plain.$r" "$MTOOL" traceroute --no-correction ${OPT[$method]} -n "$TESTBED_CHAIN_END"
  done
done

echo "## mtool traceroute vs Debian traceroute ($REPS alternated replicates; 10 hops, 2 silent; correlator on)"
echo
python3 - "$WORK" "$REPS" "$ROUTERS" <<'PY'
import re, statistics as st, sys
work, reps, routers = sys.argv[1], int(sys.argv[2]), int(sys.argv[3])
time = re.compile(r"([0-9]+\.[0-9]+) ms( \(corrected [0-9]+\.[0-9]+\))?")
extras = re.compile(r" \[virtual\]| \((corrected [0-9.]+|overhead)\)")
def masked(text):
    return re.sub(r"[0-9]+\.[0-9]+ ms", "X ms", extras.sub("", text))
def read(path):
    with open(path) as f:
        return f.read()
print("| method | Debian wall, s: median [range] | mtool wall, s: median [range] | mtool / Debian (goal <= 1.0) "
      "| mtool --no-correction / Debian | mtool probes beyond the host with (corrected X) | mtool hop 1 [virtual] "
      "| mtool output = Debian's (extras stripped) |")
print("|---|---|---|---|---|---|---|---|")
for method, label in (("udp", "UDP (default), -n"), ("icmp", "ICMP, -I -n")):
    wall = {"debian": [], "mtool": [], "plain": []}
    failed = {"debian": 0, "mtool": 0, "plain": 0}
    answered = corrected = virtual = same = 0
    for r in range(1, reps + 1):
        for tool in wall:
            micros, rc = read(f"{work}/{method}.{tool}.{r}.time").split()
            wall[tool].append(int(micros) / 1e6)
            failed[tool] += rc != "0"
        ours = read(f"{work}/{method}.mtool.{r}")
        same += masked(ours) == masked(read(f"{work}/{method}.debian.{r}"))
        for line in ours.splitlines()[1:]:
            m = re.match(r" ?([0-9]+) ", line)
            if not m:
                continue
            hop = int(m.group(1))
            if hop == 1:
                virtual += " [virtual]  " in line
                continue
            for m in time.finditer(line):
                answered += 1
                corrected += m.group(2) is not None
    def cell(tool):
        v = wall[tool]
        note = f" ({failed[tool]} failed)" if failed[tool] else ""
        return f"{st.median(v):.4f} [{min(v):.4f}-{max(v):.4f}]{note}"
    ratio = st.median(wall["mtool"]) / st.median(wall["debian"])
    plain = st.median(wall["plain"]) / st.median(wall["debian"])
    share = f"{corrected}/{answered} ({100 * corrected / answered:.0f}%)" if answered else "0/0"
    print(f"| {label} | {cell('debian')} | {cell('mtool')} | {ratio:.2f} | {plain:.2f} | {share} | {virtual}/{reps} "
          f"| {same}/{reps} |")
PY
echo
echo "(10 hops: gateway, target, r1..r$ROUTERS; r2 and r5 drop time-exceeded, so hops 4 and 7 print * * *."
echo " Wall time of \`TOOL [-I] -n $TESTBED_CHAIN_END\` inside the container, from start to exit.)"
echo
echo "command: make bench (bench/traceroute_vs_debian.sh build-release/tools/mtool $REPS)"
