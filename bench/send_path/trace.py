#!/usr/bin/env python3
"""Where a ping's send call spends its time, from `perf script` of a per-task recording
(bench/send_path/trace.sh). For each sendto() of the ping (the probe sends; fd filter):

  enter->queue   sys_enter_sendto -> first net:net_dev_queue (socket, routing, netfilter
                 LOCAL_OUT/POSTROUTING, neighbour: everything before the device)
  queue->xmit    net_dev_queue -> net_dev_start_xmit (qdisc bypass; BPF on net_dev_queue)
  xmit->exit     net_dev_start_xmit -> sys_exit_sendto (driver, then softirqs of the packet)
  softirq<xmit   time in softirqs (irq:softirq_entry..exit) between enter and start_xmit
  irq<xmit       time in hard irq handlers / local timer between enter and start_xmit
  off<xmit       time switched out (sched_switch away and back) between enter and start_xmit
  fib            fib:fib_table_lookup events between enter and start_xmit

usage: send_path_trace.py perf-script-output [label]
"""
import re
import sys
from collections import defaultdict

from stats import pct  # bench/send_path/stats.py, beside this script

LINE = re.compile(r"^\s*(?P<comm>.+?)\s+(?P<tid>\d+)\s+\[(?P<cpu>\d+)\]\s+(?P<ts>\d+\.\d+):\s+"
                  r"(?P<ev>[\w:]+):\s*(?P<rest>.*)$")


def main(path, label):
    sends = []
    cur = None
    nest = {}  # open softirq/irq start times
    off_at = None
    with open(path) as f:
        for line in f:
            m = LINE.match(line)
            if not m:
                continue
            ev = m.group("ev")
            ts = float(m.group("ts")) * 1e6  # us
            rest = m.group("rest")
            if ev == "syscalls:sys_enter_sendto":
                cur = {"enter": ts, "queue": None, "xmit": None, "exit": None, "soft": 0.0,
                       "irq": 0.0, "off": 0.0, "fib": 0, "softn": defaultdict(float)}
                nest = {}
                continue
            if cur is None:
                continue
            before_xmit = cur["xmit"] is None
            if ev == "net:net_dev_queue" and cur["queue"] is None:
                cur["queue"] = ts
            elif ev == "net:net_dev_start_xmit" and cur["xmit"] is None:
                cur["xmit"] = ts
            elif ev == "syscalls:sys_exit_sendto":
                cur["exit"] = ts
                if cur["xmit"] is not None and cur["queue"] is not None:
                    sends.append(cur)
                cur = None
            elif ev == "irq:softirq_entry":
                nest["soft"] = (ts, re.search(r"action=(\w+)", rest).group(1))
            elif ev == "irq:softirq_exit" and "soft" in nest:
                t0, name = nest.pop("soft")
                if before_xmit:
                    cur["soft"] += ts - t0
                    cur["softn"][name] += ts - t0
            elif ev in ("irq:irq_handler_entry", "irq_vectors:local_timer_entry",
                        "irq_vectors:call_function_single_entry", "irq_vectors:reschedule_entry"):
                nest["irq"] = ts
            elif ev in ("irq:irq_handler_exit", "irq_vectors:local_timer_exit",
                        "irq_vectors:call_function_single_exit", "irq_vectors:reschedule_exit") \
                    and "irq" in nest:
                if before_xmit:
                    cur["irq"] += ts - nest.pop("irq")
                else:
                    nest.pop("irq")
            elif ev == "sched:sched_switch":
                prev = re.search(r"prev_pid=(\d+)", rest)
                nxt = re.search(r"next_pid=(\d+)", rest)
                tid = m.group("tid")
                if prev and prev.group(1) == tid and off_at is None:
                    off_at = ts
                if nxt and off_at is not None and nxt.group(1) != tid:
                    pass
            elif ev == "fib:fib_table_lookup" and before_xmit:
                cur["fib"] += 1
            # Back on CPU: the first event of ours after a switch-out.
            if off_at is not None and ev != "sched:sched_switch":
                if before_xmit:
                    cur["off"] += ts - off_at
                off_at = None
    cols = {
        "enter->queue": [s["queue"] - s["enter"] for s in sends],
        "queue->xmit": [s["xmit"] - s["queue"] for s in sends],
        "enter->xmit": [s["xmit"] - s["enter"] for s in sends],
        "xmit->exit": [s["exit"] - s["xmit"] for s in sends],
        "softirq<xmit": [s["soft"] for s in sends],
        "irq<xmit": [s["irq"] for s in sends],
        "off<xmit": [s["off"] for s in sends],
    }
    n = len(sends)
    with_soft = sum(1 for s in sends if s["soft"] > 0)
    with_off = sum(1 for s in sends if s["off"] > 0)
    print(f"{label}: {n} sends; softirq before xmit in {with_soft} ({100.0 * with_soft / max(n, 1):.1f}%),"
          f" switched out before xmit in {with_off}; fib lookups/send p50 {pct([s['fib'] for s in sends], 50):.0f}")
    for k, v in cols.items():
        mean = sum(v) / max(len(v), 1)
        print(f"  {k:13s} p50 {pct(v, 50):7.2f}  p90 {pct(v, 90):7.2f}  p99 {pct(v, 99):7.2f}  mean {mean:7.2f} us")
    soft_by = defaultdict(float)
    for s in sends:
        for k, t in s["softn"].items():
            soft_by[k] += t
    if soft_by:
        print("  softirq time before xmit by kind (us per send): " +
              ", ".join(f"{k} {t / max(n, 1):.2f}" for k, t in sorted(soft_by.items())))


if __name__ == "__main__":
    main(sys.argv[1], sys.argv[2] if len(sys.argv) > 2 else sys.argv[1])
