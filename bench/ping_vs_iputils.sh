#!/usr/bin/env bash
# mtool ping vs iputils ping, side by side in one run, to a target in a network namespace
# (198.19.250.2, never anything else). Alternates the two tools; reports ratios.
#   usage: bench/ping_vs_iputils.sh path/to/mtool [replicates]
set -euo pipefail
MTOOL=$(realpath "$1")
REPS=${2:-3}
FLOOD_COUNT=${FLOOD_COUNT:-200000}
RTT_COUNT=${RTT_COUNT:-1000}
NS=mtool-bench-$$
HOST_IF=mtbench$$
TARGET=198.19.250.2

[[ $(id -u) -eq 0 ]] || { echo "bench: needs root (creates a network namespace)" >&2; exit 1; }
cleanup() { ip link del "$HOST_IF" 2>/dev/null || true; ip netns del "$NS" 2>/dev/null || true; }
trap cleanup EXIT
ip netns add "$NS"
ip link add "$HOST_IF" type veth peer name eth0 netns "$NS"
ip addr add 198.19.250.1/30 dev "$HOST_IF"
ip link set "$HOST_IF" up
ip netns exec "$NS" ip link set lo up
ip netns exec "$NS" ip addr add "$TARGET/30" dev eth0
ip netns exec "$NS" ip link set eth0 up

tool_command() {  # iputils|mtool -> the ping to run, as words
  case $1 in
    iputils) echo /usr/bin/ping ;;
    mtool) printf '%s ping\n' "$MTOOL" ;;
  esac
}
median() { sort -n | awk '{a[NR]=$1} END {if (NR==0) {print "nan"; exit} m=(NR+1)/2; if (NR%2) print a[m]; else print (a[m-0.5]+a[m+0.5])/2}'; }

declare -A PPS RSS RTT MEAN
for tool in iputils mtool; do PPS[$tool]=""; RSS[$tool]=""; RTT[$tool]=""; MEAN[$tool]=""; done
for ((r = 1; r <= REPS; r++)); do
  for tool in iputils mtool; do
    # Flood: packets per second over the whole run, and peak RSS.
    read -ra cmd <<<"$(tool_command "$tool")"
    /usr/bin/time -f "%e %M" -o /tmp/bench-time.$$ "${cmd[@]}" -f -q -c "$FLOOD_COUNT" "$TARGET" >/dev/null
    read -r secs rss_kb </tmp/bench-time.$$
    PPS[$tool]+="$(awk -v n="$FLOOD_COUNT" -v s="$secs" 'BEGIN {printf "%.0f", n / s}') "
    RSS[$tool]+="$rss_kb "
  done
  for tool in iputils mtool; do
    # Median RTT at a 2 ms interval, from the per-reply time= values.
    times=$("${cmd[@]}" -c "$RTT_COUNT" -i 0.002 "$TARGET" | sed -n 's/.*time=\([0-9.]*\) ms.*/\1/p')
    med=$(median <<<"$times")
    RTT[$tool]+="$(awk -v m="$med" 'BEGIN {printf "%.1f", m * 1000}') "
    # The printed times have 1 us resolution: a mean of the middle 80% resolves finer,
    # without the outliers that make a plain mean noisy.
    MEAN[$tool]+="$(sort -n <<<"$times" | awk '{a[NR] = $1} END {lo = int(NR * 0.1) + 1; hi = NR - int(NR * 0.1); for (i = lo; i <= hi; i++) {s += a[i]; n++} printf "%.2f", s / n * 1000}') "
  done
done
rm -f /tmp/bench-time.$$

range() { tr ' ' '\n' | sed '/^$/d' | sort -n | awk 'NR==1 {lo=$1} {hi=$1} END {print lo "-" hi}'; }
med_of() { tr ' ' '\n' | sed '/^$/d' | median; }
pps_i=$(echo "${PPS[iputils]}" | med_of); pps_m=$(echo "${PPS[mtool]}" | med_of)
rss_i=$(echo "${RSS[iputils]}" | med_of); rss_m=$(echo "${RSS[mtool]}" | med_of)
rtt_i=$(echo "${RTT[iputils]}" | med_of); rtt_m=$(echo "${RTT[mtool]}" | med_of)
mean_i=$(echo "${MEAN[iputils]}" | med_of); mean_m=$(echo "${MEAN[mtool]}" | med_of)

echo "## mtool ping vs iputils ping ($REPS alternated replicates, target in a netns)"
echo
echo "| metric | iputils | mtool | mtool / iputils | goal |"
echo "|---|---|---|---|---|"
printf "| flood pps (-f -c %d), median [range] | %s [%s] | %s [%s] | %.2f | >= 1.0 |\n" "$FLOOD_COUNT" \
  "$pps_i" "$(echo "${PPS[iputils]}" | range)" "$pps_m" "$(echo "${PPS[mtool]}" | range)" \
  "$(awk -v a="$pps_m" -v b="$pps_i" 'BEGIN {print a / b}')"
printf "| peak RSS, KiB | %s | %s | %.2f | <= 4096 KiB |\n" "$rss_i" "$rss_m" \
  "$(awk -v a="$rss_m" -v b="$rss_i" 'BEGIN {print a / b}')"
printf "| median RTT at -i 0.002 (-c %d), us, median [range] | %s [%s] | %s [%s] | diff %+.1f us | within 1 us |\n" \
  "$RTT_COUNT" "$rtt_i" "$(echo "${RTT[iputils]}" | range)" "$rtt_m" "$(echo "${RTT[mtool]}" | range)" \
  "$(awk -v a="$rtt_m" -v b="$rtt_i" 'BEGIN {print a - b}')"
printf "| 10%%-trimmed mean RTT at -i 0.002, us, median [range] | %s [%s] | %s [%s] | diff %+.2f us | within 1 us |\n" \
  "$mean_i" "$(echo "${MEAN[iputils]}" | range)" "$mean_m" "$(echo "${MEAN[mtool]}" | range)" \
  "$(awk -v a="$mean_m" -v b="$mean_i" 'BEGIN {print a - b}')"
