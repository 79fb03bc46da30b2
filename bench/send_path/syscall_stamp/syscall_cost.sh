#!/usr/bin/env bash
# Issue 14, question 3: what a send-call stamp at syscall entry would cost every other syscall
# on the host. Alternates: nothing attached / tracepoint syscalls:sys_enter_sendto+sendmsg /
# raw_tp sys_enter (every syscall, filtered by number); each time a getppid() loop and a UDP
# sendto() to a closed loopback port (non-probe syscalls), pinned to CPU ${CPU:-0}; then the
# programs' own cost from kernel.bpf_stats_enabled (restored after).
#   usage: bench/send_path/syscall_stamp/syscall_cost.sh [rounds]    (root; builds into /tmp)
set -euo pipefail
ROUNDS=${1:-5}
CPU=${CPU:-0}
HERE=$(cd "$(dirname "$0")" && pwd)
VMLINUX=${VMLINUX:-/work/main/build-release/generated/bpf}
clang -O2 -g -target bpf -D__TARGET_ARCH_x86 -I"$VMLINUX" -c "$HERE/syscall_stamp.bpf.c" -o /tmp/sp-syscall_stamp.bpf.o
gcc -O2 "$HERE/loader.c" -o /tmp/sp-loader -lbpf
gcc -O2 "$HERE/syscall_loop.c" -o /tmp/sp-syscall-loop
HOSTNS=$(python3 -c 'import socket; s=socket.socket(); print(int.from_bytes(s.getsockopt(socket.SOL_SOCKET, 71, 8), "little"))')
STATS=$(sysctl -n kernel.bpf_stats_enabled)
LOADER=""
cleanup() { [[ -n $LOADER ]] && kill "$LOADER" 2>/dev/null; sysctl -qw kernel.bpf_stats_enabled="$STATS"; rm -f /tmp/sp-syscall_stamp.bpf.o /tmp/sp-loader /tmp/sp-syscall-loop; }
trap cleanup EXIT
trap "exit 1" INT TERM
attach() {  # prog...
  coproc L { exec /tmp/sp-loader /tmp/sp-syscall_stamp.bpf.o "$HOSTNS" "$@"; }
  LOADER=$L_PID
  read -r _ <&"${L[0]}"  # the loader says it is attached
}
detach() { kill "$LOADER"; wait "$LOADER" 2>/dev/null || true; LOADER=""; }
for ((r = 1; r <= ROUNDS; r++)); do
  echo "round $r: none:       $(taskset -c "$CPU" /tmp/sp-syscall-loop)"
  attach tp_sendto tp_sendmsg
  echo "round $r: tp_sendto:  $(taskset -c "$CPU" /tmp/sp-syscall-loop)"
  detach
  attach raw_enter
  echo "round $r: raw_enter:  $(taskset -c "$CPU" /tmp/sp-syscall-loop)"
  detach
done
sysctl -qw kernel.bpf_stats_enabled=1
for p in "tp_sendto tp_sendmsg" raw_enter; do
  read -ra progs <<<"$p"
  attach "${progs[@]}"
  taskset -c "$CPU" /tmp/sp-syscall-loop >/dev/null
  bpftool prog show -j | python3 -c "$(cat <<'PY'
import json, sys
for p in json.load(sys.stdin):
    if p.get("name") in ("tp_sendto", "tp_sendmsg", "raw_enter") and p.get("run_cnt"):
        print("  %s: %d runs, %.1f ns per run (bpf_stats)" % (p["name"], p["run_cnt"], p["run_time_ns"] / p["run_cnt"]))
PY
)"
  detach
done
