#!/usr/bin/env bash
# Attribution of the send path (issue 14): records, per task, the ping's sendto() with what
# runs inside it (perf record -p on tracepoints: syscalls, net_dev_queue/start_xmit, softirqs,
# irqs, sched_switch, fib lookups) for each side of bench/send_path/compare.sh, under one load, and
# prints the breakdown (bench/send_path/trace.py). Same setup as compare.sh (testbed 23,
# Docker network 198.18.223.0/24), same sides (and netns-off: the netns side without asking the
# correlator, from testbed load namespace 3, never subscribed: the BPF program leaves early), ROUNDS alternated rounds.
#   usage: [INTERVAL=0.002 COUNT=2000 SECONDS_REC=2] bench/send_path/trace.sh idle|floods|busy [rounds] [outdir]
set -euo pipefail
CASE=${1:-idle}
ROUNDS=${2:-2}
OUT=${3:-$(mktemp -d /tmp/send_path_trace.XXXX)}
SIDES=${SIDES:-"host netns netns-off docker docker-unconf docker-bridge nsenter"}
SECONDS_REC=${SECONDS_REC:-2}
CPU=${CPU:-0}
IMAGE=${IMAGE:-mtool:sendpath}  # docker tag <the image id> mtool:sendpath: a build elsewhere may move :latest
HERE=$(cd "$(dirname "$0")/../.." && pwd)
MTOOL=/tmp/mtool-sendpath-trace
PIN=/sys/fs/bpf/mtool-sendpath-trace
SOCKDIR=/run/mtool-sendpath-trace
# shellcheck source=bench/send_path/bed.sh
source "$HERE/bench/send_path/bed.sh"
EVENTS="syscalls:sys_enter_sendto,syscalls:sys_exit_sendto,net:net_dev_queue,net:net_dev_start_xmit,irq:softirq_entry,irq:softirq_exit,irq:irq_handler_entry,irq:irq_handler_exit,irq_vectors:local_timer_entry,irq_vectors:local_timer_exit,irq_vectors:reschedule_entry,irq_vectors:reschedule_exit,irq_vectors:call_function_single_entry,irq_vectors:call_function_single_exit,sched:sched_switch,fib:fib_table_lookup"
mkdir -p "$OUT"
LOADPIDS=()
cleanup() {
  for p in "${LOADPIDS[@]}"; do kill "$p" 2>/dev/null || true; done
  pkill -P $$ -x perf 2>/dev/null || true
  docker rm -f sp-tr >/dev/null 2>&1 || true
  bed_down
}
trap cleanup EXIT
mountpoint -q /sys/kernel/tracing || mount -t tracefs nodev /sys/kernel/tracing
bed_up
sleep 2
TGT=$TESTBED_TARGET
SOCKENV="MTOOL_CORRELATOR_SOCKET=$SOCKDIR/correlator.sock"
INTERVAL=${INTERVAL:-0.002}
COUNT=${COUNT:-2000}
ARGS=(--json -c "$COUNT" -i "$INTERVAL" "$TGT")
case $CASE in
  floods) for n in 1 2; do ip netns exec "mtb23-load$n" env MTOOL_CORRELATOR=off "$MTOOL" ping -f -q "$TGT" >/dev/null 2>&1 & LOADPIDS+=("$!"); done ;;
  busy) for c in 0 1; do taskset -c "$c" sh -c 'while :; do :; done' & LOADPIDS+=("$!"); done ;;
esac
sleep 0.5

for ((r = 1; r <= ROUNDS; r++)); do
  read -ra order <<<"$SIDES"
  ((r % 2 == 0)) && mapfile -t order < <(printf '%s\n' "${order[@]}" | tac)
  for side in "${order[@]}"; do
    f="$OUT/$CASE.$side.$r"
    case $side in
      host) MTOOL_CORRELATOR=off taskset -c "$CPU" "${U[@]}" "$MTOOL" ping "${ARGS[@]}" >"$f.json" 2>/dev/null & pid=$! ;;
      netns-off) ip netns exec mtb23-load3 taskset -c "$CPU" env MTOOL_CORRELATOR=off "${U[@]}" "$MTOOL" ping "${ARGS[@]}" >"$f.json" 2>/dev/null & pid=$! ;;
      netns) ip netns exec "$TESTBED_CONTAINER_NS" taskset -c "$CPU" env "$SOCKENV" "${U[@]}" "$MTOOL" ping "${ARGS[@]}" >"$f.json" 2>/dev/null & pid=$! ;;
      nsenter) nsenter -t "$HOLDER" -n taskset -c "$CPU" env "$SOCKENV" "${U[@]}" "$MTOOL" ping "${ARGS[@]}" >"$f.json" 2>/dev/null & pid=$! ;;
      docker*)
        extra=(--network "$NET")
        [[ $side == docker-unconf ]] && extra+=(--security-opt seccomp=unconfined)
        [[ $side == docker-bridge ]] && extra=(--network bridge)
        docker run -d --name sp-tr --cpuset-cpus "$CPU" "${extra[@]}" "$IMAGE" ping "${ARGS[@]}" >/dev/null
        pid=$(docker inspect -f '{{.State.Pid}}' sp-tr) ;;
    esac
    sleep 0.3
    perf record -q -e "$EVENTS" -p "$pid" -o "$f.data" -- sleep "$SECONDS_REC" >/dev/null 2>&1
    if [[ $side == docker* ]]; then docker wait sp-tr >/dev/null; docker logs sp-tr >"$f.json" 2>/dev/null; docker rm sp-tr >/dev/null; else wait "$pid" || true; fi
    perf script --ns -i "$f.data" -F comm,tid,cpu,time,event,trace >"$f.txt" 2>/dev/null
    rm -f "$f.data"
    python3 "$HERE/bench/send_path/trace.py" "$f.txt" "$CASE $side round $r" | tee -a "$OUT/summary.txt"
    python3 "$HERE/bench/send_path/stats.py" "$f.json" | tail -1 | tee -a "$OUT/summary.txt"
  done
done
echo "traces in $OUT"
