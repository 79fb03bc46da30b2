#!/usr/bin/env bash
# mtool report at volume: 1,000,000 ping results in mtool's format (3 replies each, corrected,
# from 50 vantage points to 20 targets: 1,000 groups), read by `mtool report --json`, side by
# side in the same run with a general-purpose parse of the same lines (Python's json module, C
# accelerated, each line parsed and its RTTs taken: the least a script does). REPS alternated
# runs of each; the median run's result lines per second (of wall time, and of CPU time, which
# other load on the machine does not shrink), peak RSS, and the ratio.
#   usage: bench/report_throughput.sh path/to/mtool [reps] [results]
set -euo pipefail
MTOOL=$(realpath "$1")
REPS=${2:-3}
RESULTS=${3:-1000000}
WORK=$(mktemp -d)
trap 'rm -rf "$WORK"' EXIT

python3 - "$RESULTS" >"$WORK/results.jsonl" <<'PY'
import random, sys
random.seed(18)
n = int(sys.argv[1])
out = sys.stdout
for i in range(n):
    vantage, target = i % 50, (i // 50) % 20
    replies = []
    for k in range(3):
        raw = random.lognormvariate(0.5 + target * 0.2, 0.4)
        overhead = random.uniform(0.01, 0.08)
        replies.append('{"rtt":%.6f,%s"overhead":%.6f,"rtt_corrected":%.6f}'
                       % (raw, '"ttl":60,' if k == 0 else '', overhead, raw - overhead))
    out.write('{"fw":5120,"mver":"0.1.0","af":4,"dst_name":"198.19.%d.11","dst_addr":"198.19.%d.11",'
              '"src_addr":"198.18.0.2","msm_id":%d,"prb_id":%d,"timestamp":%d,"from":"198.18.1.%d",'
              '"type":"ping","msm_name":"Ping","proto":"ICMP","size":48,"result":[%s],"ttl":60,'
              '"sent":3,"rcvd":3,"dup":0,"min":1.0,"avg":2.0,"max":3.0,'
              '"mtool":{"corrected":{"min":1.0,"avg":2.0,"max":3.0,"replies":3}}}\n'
              % (target, target, 1000000 + target, 7000 + vantage, 1780000000 + i, vantage,
                 ",".join(replies)))
PY
BYTES=$(stat -c %s "$WORK/results.jsonl")

# One timed run; prints "seconds peak-rss-kib cpu-seconds".
timed() {
  /usr/bin/time -f '%e %M %U %S' -o "$WORK/time" "$@" >"$WORK/out" 2>"$WORK/err" || {
    echo "bench: $* failed:" >&2
    cat "$WORK/err" >&2
    exit 1
  }
  awk '{print $1, $2, $3 + $4}' "$WORK/time"
}

GENERAL_PURPOSE='
import json, sys
rtts = 0
with open(sys.argv[1]) as f:
    for line in f:
        r = json.loads(line)
        rtts += sum(1 for p in r["result"] if "rtt" in p)
print(rtts)'

: >"$WORK/mtool.runs"
: >"$WORK/general.runs"
for ((rep = 1; rep <= REPS; rep++)); do
  timed "$MTOOL" report --json "$WORK/results.jsonl" >>"$WORK/mtool.runs"
  read_results=$(python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))["input"]["results"])' "$WORK/out")
  [[ $read_results == "$RESULTS" ]] || { echo "bench: mtool report read $read_results results" >&2; exit 1; }
  timed python3 -c "$GENERAL_PURPOSE" "$WORK/results.jsonl" >>"$WORK/general.runs"
done

python3 - "$WORK/mtool.runs" "$WORK/general.runs" "$RESULTS" "$BYTES" "$REPS" <<'PY'
import statistics, sys
mtool_runs, general_runs, results, size, reps = sys.argv[1], sys.argv[2], int(sys.argv[3]), int(sys.argv[4]), sys.argv[5]
def median(path):
    runs = [tuple(map(float, line.split())) for line in open(path) if line.strip()]
    runs.sort()
    return runs[len(runs) // 2], min(r[0] for r in runs), max(r[0] for r in runs)
rows = []
for name, path in (("mtool report --json (simdjson On Demand)", mtool_runs),
                   ("Python json.loads per line (general purpose)", general_runs)):
    (seconds, rss, cpu), lo, hi = median(path)
    rows.append((name, seconds, lo, hi, rss, cpu))
print("%d ping result lines (%.0f MB), median of %s runs each:" % (results, size / 1e6, reps))
print()
print("| reader | result lines/s (wall) | lines per CPU second | seconds [range] | peak RSS |")
print("|---|---|---|---|---|")
for name, seconds, lo, hi, rss, cpu in rows:
    print("| %s | %.0f | %.0f | %.2f [%.2f-%.2f] | %.1f MB |"
          % (name, results / seconds, results / cpu, seconds, lo, hi, rss / 1024))
print()
print("mtool report reads %.1fx as many lines per wall second, %.1fx per CPU second."
      % (rows[1][1] / rows[0][1], rows[1][5] / rows[0][5]))
PY
