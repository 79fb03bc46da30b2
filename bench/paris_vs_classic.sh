#!/usr/bin/env bash
# Paris traceroute's cost against a classic trace, side by side in one run, from a container of
# the multipath testbed (tests/testbed/testbed.sh up --multipath, instance 34): 7 hops behind
# equal-cost paths. Alternates, REPS times each, classic and --paris for UDP, ICMP (-I) and TCP
# (-T), and Paris UDP without CAP_NET_RAW (as nobody: one probe in flight at a time) and with
# the correlator on (which keys raw UDP probes by their checksums: many in flight); once
# with every hop answering, once with hop 4 silent (-w 1). Reports the median wall time of a
# whole trace and its ratio to the classic trace of the same method.
#   usage: bench/paris_vs_classic.sh path/to/mtool [reps]
set -euo pipefail
MTOOL=$(realpath "$1")
REPS=${2:-5}
HERE=$(cd "$(dirname "$0")/.." && pwd)
TESTBED="$HERE/tests/testbed/testbed.sh"
export MTOOL_TESTBED_INDEX=34
WORK=$(mktemp -d)
PIN_DIR=/sys/fs/bpf/mtool-bench-paris
SOCKET=/run/mtool-bench-paris/correlator.sock
NOBODY=(setpriv --reuid=65534 --regid=65534 --clear-groups --inh-caps=-all)

[[ $(id -u) -eq 0 ]] || { echo "bench: needs root" >&2; exit 1; }
# shellcheck source=bench/lib/correlator.sh
source "$HERE/bench/lib/correlator.sh"
cleanup() {
  stop_bench_correlator
  bash "$TESTBED" down
  rm -rf "$WORK"
}
trap cleanup EXIT
eval "$(bash "$TESTBED" up --multipath)"
start_bench_correlator "$TESTBED_UPLINK"
chmod 755 "$WORK"

# One trace inside the container: "microseconds exit-code" appended to FILE. The clock runs
# inside the namespace around the tool alone.
trace() {  # file command...
  local file=$1
  shift
  # shellcheck disable=SC2016  # expanded by the inner bash
  ip netns exec "$TESTBED_CONTAINER_NS" bash -c '
    file=$1
    shift
    rc=0
    t0=${EPOCHREALTIME/[.,]/}
    "$@" >/dev/null 2>&1 || rc=$?
    t1=${EPOCHREALTIME/[.,]/}
    echo "$((t1 - t0)) $rc" >>"$file"
  ' trace "$file" "$@"
}

declare -A OPT=([udp]="" [icmp]="-I" [tcp]="-T")
OFF=(env MTOOL_CORRELATOR=off)
ON=(env MTOOL_BPF_PIN_DIR="$PIN_DIR" MTOOL_CORRELATOR_SOCKET="$SOCKET")
for scenario in answering silent; do
  wait_opt=()
  if [[ $scenario == silent ]]; then
    bash "$TESTBED" exec mb1 iptables -A OUTPUT -p icmp --icmp-type time-exceeded -j DROP
    wait_opt=(-w 1)
  fi
  for ((r = 1; r <= REPS; r++)); do
    for method in udp icmp tcp; do
      # shellcheck disable=SC2086  # OPT is one option or none
      trace "$WORK/$scenario.$method.classic" "${OFF[@]}" "$MTOOL" traceroute ${OPT[$method]} "${wait_opt[@]}" -n "$TESTBED_MULTIPATH_END"
      # shellcheck disable=SC2086
      trace "$WORK/$scenario.$method.paris" "${OFF[@]}" "$MTOOL" traceroute ${OPT[$method]} "${wait_opt[@]}" --paris=$r -n "$TESTBED_MULTIPATH_END"
    done
    trace "$WORK/$scenario.udp.paris-nobody" "${NOBODY[@]}" "${OFF[@]}" "$MTOOL" traceroute "${wait_opt[@]}" --paris="$r" -n "$TESTBED_MULTIPATH_END"
    trace "$WORK/$scenario.udp.classic-correlator" "${ON[@]}" "$MTOOL" traceroute "${wait_opt[@]}" -n "$TESTBED_MULTIPATH_END"
    trace "$WORK/$scenario.udp.paris-correlator" "${ON[@]}" "$MTOOL" traceroute "${wait_opt[@]}" --paris="$r" -n "$TESTBED_MULTIPATH_END"
  done
done

echo "## Paris vs classic traceroute ($REPS alternated replicates; 7 hops over equal-cost paths)"
echo
python3 - "$WORK" <<'PY'
import statistics as st, sys, pathlib
work = pathlib.Path(sys.argv[1])
def median_ms(name):
    rows = [l.split() for l in (work / name).read_text().split("\n") if l]
    bad = [r for r in rows if r[1] != "0"]
    if bad:
        sys.exit(f"bench: {name}: exit codes {sorted({r[1] for r in bad})}")
    return st.median(int(r[0]) for r in rows) / 1000
print("| hops | trace | classic median ms | Paris median ms | Paris / classic |")
print("|---|---|---:|---:|---:|")
rows = [("UDP", "udp", "classic", "paris"), ("ICMP", "icmp", "classic", "paris"),
        ("TCP", "tcp", "classic", "paris"),
        ("UDP, no CAP_NET_RAW (one in flight)", "udp", "classic", "paris-nobody"),
        ("UDP, correlator on", "udp", "classic-correlator", "paris-correlator")]
for scenario, label in (("answering", "all answer"), ("silent", "hop 4 silent, -w 1")):
    for name, method, classic, paris in rows:
        c = median_ms(f"{scenario}.{method}.{classic}")
        p = median_ms(f"{scenario}.{method}.{paris}")
        print(f"| {label} | {name} | {c:.1f} | {p:.1f} | {p / c:.2f} |")
PY
