#!/usr/bin/env bash
# Multipath discovery's cost against scamper's tracelb, side by side in one run, from a
# container of the multipath testbed (tests/testbed/testbed.sh up --multipath, instance 36): a
# two-way hop, a join, and a diamond of two then three routers. Alternates, REPS times each,
# `mtool traceroute --mda` and `scamper tracelb` at the same confidence (95%) and the same
# probing rate (RATE probes/s: scamper -p, mtool -z 1/RATE), one attempt per probe and a 1 s
# timeout for both; tracelb also waits at least 150 ms between two probes of one branch (-W 15,
# its least). Reports the median probes sent and wall time of each and their ratios, and whether
# each found every link. Then SEEDS seeds of --mda at 95% and 99% (full speed, a fixed source
# port): how often a branching router it found missed a next hop, against the 5% / 1% promised
# per node, and how often a whole trace missed a link.
#   usage: bench/mda_vs_tracelb.sh path/to/mtool [reps] [seeds]
set -euo pipefail
MTOOL=$(realpath "$1")
REPS=${2:-5}
SEEDS=${3:-200}
RATE=100
HERE=$(cd "$(dirname "$0")/.." && pwd)
TESTBED="$HERE/tests/testbed/testbed.sh"
export MTOOL_TESTBED_INDEX=36
WORK=$(mktemp -d)

[[ $(id -u) -eq 0 ]] || { echo "bench: needs root" >&2; exit 1; }
command -v scamper >/dev/null || { echo "bench: scamper not installed (scripts/setup.sh)" >&2; exit 1; }
cleanup() {
  bash "$TESTBED" down
  rm -rf "$WORK"
}
trap cleanup EXIT
eval "$(bash "$TESTBED" up --multipath)"

# One run inside the container: its output to FILE, "microseconds" to FILE.time. The clock runs
# inside the namespace around the tool alone.
timed() {  # file command...
  local file=$1
  shift
  # shellcheck disable=SC2016  # expanded by the inner bash
  ip netns exec "$TESTBED_CONTAINER_NS" bash -c '
    file=$1
    shift
    t0=${EPOCHREALTIME/[.,]/}
    "$@" >"$file"
    t1=${EPOCHREALTIME/[.,]/}
    echo "$((t1 - t0))" >"$file.time"
  ' timed "$file" "$@"
}

SEND_WAIT=$(python3 -c "print(1 / $RATE)")
for ((r = 1; r <= REPS; r++)); do
  timed "$WORK/mda.$r" env MTOOL_CORRELATOR=off "$MTOOL" traceroute -n -w 1 -z "$SEND_WAIT" \
    --mda=95 --json "$TESTBED_MULTIPATH_END"
  timed "$WORK/tracelb.$r" scamper -p "$RATE" \
    -c "tracelb -P udp-dport -c 95 -q 1 -w 1 -W 15" -i "$TESTBED_MULTIPATH_END"
done
for confidence in 95 99; do
  for ((s = 1; s <= SEEDS; s++)); do
    ip netns exec "$TESTBED_CONTAINER_NS" env MTOOL_CORRELATOR=off "$MTOOL" traceroute -n -w 1 \
      --sport=40400 --mda="$confidence" --mda-seed="$s" --json "$TESTBED_MULTIPATH_END" \
      >"$WORK/seed.$confidence.$s"
  done
done

echo "## --mda vs scamper tracelb ($REPS alternated replicates; 95%, $RATE probes/s; diamonds of 2, then 2 and 3)"
echo
python3 - "$WORK" "$REPS" "$SEEDS" "$TESTBED_MULTIPATH_HOPS" <<'PY'
import json, pathlib, re, statistics as st, sys
work, reps, seeds = pathlib.Path(sys.argv[1]), int(sys.argv[2]), int(sys.argv[3])

def mda_links(path):
    g = json.loads(path.read_text())
    names = [n["addr"] or "*" for n in g["nodes"]]
    return g["probes_sent"], {(names[l["from"]], names[l["to"]]) for l in g["links"]}

def names_of(path):
    return [n["addr"] or "*" for n in json.loads(path.read_text())["nodes"]]

def tracelb_links(path):
    text = path.read_text()
    probes = int(re.search(r"(\d+) probes", text).group(1))
    links = set()
    for line in text.splitlines():
        if " -> " in line:
            chain = re.findall(r"[0-9]+\.[0-9]+\.[0-9]+\.[0-9]+|\*", line)
            links |= set(zip(chain, chain[1:]))
    return probes, links

runs = {"mda": [], "tracelb": []}
for r in range(1, reps + 1):
    for tool, parse in (("mda", mda_links), ("tracelb", tracelb_links)):
        f = work / f"{tool}.{r}"
        probes, links = parse(f)
        us = int((work / f"{tool}.{r}.time").read_text())
        runs[tool].append((probes, us / 1e6, links))
truth = set().union(*(l for _, _, l in runs["mda"] + runs["tracelb"]))
def row(tool):
    rs = runs[tool]
    complete = sum(1 for _, _, l in rs if l == truth)
    return st.median(p for p, _, _ in rs), st.median(t for _, t, _ in rs), complete
mp, mt, mc = row("mda")
tp, tt, tc = row("tracelb")
print("| | probes sent (median) | wall time s (median) | runs finding every link |")
print("|---|---:|---:|---:|")
print(f"| mtool --mda | {mp:.0f} | {mt:.2f} | {mc}/{reps} |")
print(f"| scamper tracelb | {tp:.0f} | {tt:.2f} | {tc}/{reps} |")
print(f"| --mda / tracelb | {mp / tp:.2f} | {mt / tt:.3f} | |")
print()
print(f"Links in the union of all runs: {len(truth)}.")
print()
print(f"### --mda over {seeds} seeds (full speed): branching routers that missed a next hop")
print()
print("| confidence | branching routers that missed a next hop | rate | promised per router | traces missing a link | median probes |")
print("|---:|---:|---:|---:|---:|---:|")
for conf in (95, 99):
    missed = branchings = incomplete = 0
    probes = []
    want = {}
    for a, b in truth:
        want.setdefault(a, set()).add(b)
    for s in range(1, seeds + 1):
        p, links = mda_links(work / f"seed.{conf}.{s}")
        probes.append(p)
        got = {}
        for a, b in links:
            got.setdefault(a, set()).add(b)
        # Per router, as the rule promises: of the branching routers the trace found, those
        # whose next hops were not all found (one missed upstream is counted there, once).
        found = set(names_of(work / f"seed.{conf}.{s}"))
        branching = [a for a, nxt in want.items() if len(nxt) > 1 and a in found]
        m = sum(1 for a in branching if got.get(a) != want[a])
        missed += m
        branchings += len(branching)
        incomplete += links != truth
    print(f"| {conf}% | {missed} / {branchings} | {100 * missed / branchings:.2f}% | "
          f"<= {100 - conf}% | {incomplete} / {seeds} | {st.median(probes):.0f} |")
PY
