#!/usr/bin/env bash
# What `mtool run --metrics` costs the campaign, and what serving it costs:
#  1. throughput: 4,000 ping definitions of 16 packets 10 ms apart over 50 target namespaces
#     behind the testbed's uplink (tests/testbed/testbed.sh up --targets 50, instance 29),
#     from the container, --pps 50000 --concurrency 4000 (so mtool's own CPU is the limit),
#     without the correlator; metrics off and on (every measurement exported, no scrape during
#     the run) alternated REPS times: probes/s to the last result, and CPU seconds (medians,
#     and each on run against the off run before it: other load on the machine moves both);
#  2. memory and scrapes: 1,000 ping definitions (Atlas' defaults: 3 packets, 1 s apart) with
#     and without --metrics: peak RSS (with metrics: after all are done and scraped 5 times),
#     and a scrape's time, size and series, plain and gzip (as Prometheus asks).
#   usage: bench/campaign_metrics.sh path/to/mtool [reps]
set -euo pipefail
MTOOL=$(realpath "$1")
REPS=${2:-3}
HERE=$(cd "$(dirname "$0")/.." && pwd)
TESTBED="$HERE/tests/testbed/testbed.sh"
export MTOOL_TESTBED_INDEX=29  # the metrics integration test's: run under its lock (make bench does)
TARGETS=50
THROUGHPUT_DEFINITIONS=4000
MEMORY_DEFINITIONS=1000
PORT=9101
WORK=$(mktemp -d)

[[ $(id -u) -eq 0 ]] || { echo "bench: needs root" >&2; exit 1; }
command -v curl >/dev/null || { echo "bench: needs curl (make setup)" >&2; exit 1; }
cleanup() {
  bash "$TESTBED" down
  rm -rf "$WORK"
}
trap cleanup EXIT
eval "$(bash "$TESTBED" up --targets "$TARGETS")"
prefix=${TESTBED_TARGETS_FIRST%.*}
ENDPOINT=$TESTBED_CONTAINER_ADDR:$PORT

list() {  # count extra-fields
  for ((i = 0; i < $1; i++)); do
    printf '{"type": "ping", "af": 4, "target": "%s.%d"%s}\n' "$prefix" $((11 + i % TARGETS)) "$2"
  done
}
list "$THROUGHPUT_DEFINITIONS" ', "packets": 16, "packet_interval": 10' >"$WORK/throughput.jsonl"
list "$MEMORY_DEFINITIONS" '' >"$WORK/memory.jsonl"

# One campaign in the container, under /usr/bin/time. The end is when the last result is
# written: the process's exit without metrics, the "all measurements done" line with them (it
# then serves until SIGTERM; `during` runs first, e.g. scrapes). Sets SECONDS_TO_END, CPU,
# PEAK_RSS_KIB (what the process held at most, scrapes included) and RESULTS.
campaign() {  # list pps metrics:off|on during-command...
  local list=$1 pps=$2 mode=$3
  shift 3
  local extra=()
  [[ $mode == on ]] && extra=(--metrics "$ENDPOINT" --metrics-max-series 10000000)
  rm -f "$WORK/fifo" "$WORK/out.jsonl" "$WORK/stderr"
  mkfifo "$WORK/fifo"
  local start end="" line
  start=$(date +%s.%N)
  ip netns exec "$TESTBED_CONTAINER_NS" /usr/bin/time -f '%U %S %M' -o "$WORK/time" \
    env MTOOL_CORRELATOR=off "$MTOOL" run "${extra[@]}" --pps "$pps" --concurrency 4000 \
    --out "$WORK/out.jsonl" "$list" 2>"$WORK/fifo" &
  local timer=$!
  TIMER=$timer
  while IFS= read -r line; do
    echo "$line" >>"$WORK/stderr"
    if [[ $line == *"all measurements done"* ]]; then
      end=$(date +%s.%N)
      "$@"
      pkill -TERM -P "$timer"  # mtool, the child of /usr/bin/time
    fi
  done <"$WORK/fifo"
  [[ -n $end ]] || end=$(date +%s.%N)
  wait "$timer" || { echo "bench: mtool run failed:" >&2; cat "$WORK/stderr" >&2; exit 1; }
  local user sys
  read -r user sys PEAK_RSS_KIB <"$WORK/time"
  SECONDS_TO_END=$(echo "$end - $start" | bc -l)
  CPU=$(echo "$user + $sys" | bc -l)
  RESULTS=$(wc -l <"$WORK/out.jsonl")
}

echo "mtool run --metrics: throughput ($THROUGHPUT_DEFINITIONS pings x 16 packets, 10 ms apart, --pps 50000, no correlator)"
echo
echo "| rep | metrics | probes/s | CPU s | results |"
echo "|---|---|---|---|---|"
probes=$((THROUGHPUT_DEFINITIONS * 16))
rates_off=() rates_on=() cpus_off=() cpus_on=() pairs=()
for ((rep = 1; rep <= REPS; rep++)); do
  for mode in off on; do
    campaign "$WORK/throughput.jsonl" 50000 "$mode" true
    rate=$(echo "$probes / $SECONDS_TO_END" | bc -l)
    if [[ $mode == off ]]; then rates_off+=("$rate") cpus_off+=("$CPU"); else rates_on+=("$rate") cpus_on+=("$CPU"); fi
    printf '| %d | %s | %.0f | %.2f | %d |\n' "$rep" "$mode" "$rate" "$CPU" "$RESULTS"
  done
  pairs+=("$(echo "${rates_on[-1]} / ${rates_off[-1]}" | bc -l)")
done
median() { printf '%s\n' "$@" | sort -g | awk '{v[NR] = $1} END {print v[int((NR + 1) / 2)]}'; }
printf '\nmedian probes/s: off %.0f, on %.0f: on / off %.3f (goal >= 0.97); each run on / its off: %s\n' \
  "$(median "${rates_off[@]}")" "$(median "${rates_on[@]}")" \
  "$(echo "$(median "${rates_on[@]}") / $(median "${rates_off[@]}")" | bc -l)" \
  "$(printf '%.2f ' "${pairs[@]}")"
printf 'median CPU s: off %.2f, on %.2f\n\n' "$(median "${cpus_off[@]}")" "$(median "${cpus_on[@]}")"

# The finished campaign's peak RSS so far (its series, before any scrape), then five scrapes,
# plain and gzip: "seconds bytes" per line.
scrape() {
  awk '/VmHWM/ {print $2}' "/proc/$(pgrep -P "$TIMER")/status" >"$WORK/rss_before_scrapes"
  for _ in 1 2 3 4 5; do
    curl -s -o "$WORK/plain" -w '%{time_total} %{size_download}\n' "http://$ENDPOINT/metrics" >>"$WORK/scrapes.plain"
    curl -s -o /dev/null --compressed -H 'Accept-Encoding: gzip' \
      -w '%{time_total} %{size_download}\n' "http://$ENDPOINT/metrics" >>"$WORK/scrapes.gzip"
  done
}
median_of() { sort -g | awk '{v[NR] = $1} END {print v[int((NR + 1) / 2)]}'; }

echo "mtool run --metrics: memory and scrapes ($MEMORY_DEFINITIONS pings, Atlas defaults, --pps 1000)"
echo
echo "| metrics | peak RSS (goal <= 64 MB) | before the first scrape | series | scrape, plain: median s [bytes] | scrape, gzip: median s [bytes] |"
echo "|---|---|---|---|---|---|"
campaign "$WORK/memory.jsonl" 1000 off true
printf '| off | %.1f MiB | | | | |\n' "$(echo "$PEAK_RSS_KIB / 1024" | bc -l)"
rm -f "$WORK/scrapes.plain" "$WORK/scrapes.gzip"
campaign "$WORK/memory.jsonl" 1000 on scrape
series=$(grep -vc '^#' "$WORK/plain")
printf '| on | %.1f MiB | %.1f MiB | %d | %s [%s] | %s [%s] |\n' "$(echo "$PEAK_RSS_KIB / 1024" | bc -l)" \
  "$(echo "$(cat "$WORK/rss_before_scrapes") / 1024" | bc -l)" "$series" \
  "$(cut -d' ' -f1 "$WORK/scrapes.plain" | median_of)" "$(cut -d' ' -f2 "$WORK/scrapes.plain" | head -1)" \
  "$(cut -d' ' -f1 "$WORK/scrapes.gzip" | median_of)" "$(cut -d' ' -f2 "$WORK/scrapes.gzip" | head -1)"
echo
echo "$(nproc) CPUs; the scrapes from the host, over the testbed's bridge"
