#!/usr/bin/env python3
"""Table of bench/send_path/trace.sh summaries: per side, the median over rounds [min..max] of
each stage's p50 and p90 (us), and the share of sends that ran softirqs before transmitting.
usage: send_path_trace_table.py OUTDIR..."""
import re
import sys
from collections import defaultdict

rows = defaultdict(lambda: defaultdict(list))
for d in sys.argv[1:]:
    side = None
    for line in open(f"{d}/summary.txt"):
        m = re.match(r"(\S+) (\S+) round \d+: (\d+) sends; softirq before xmit in \d+ \(([\d.]+)%\)", line)
        if m:
            side = (m.group(1), m.group(2))
            rows[side]["softirq%"].append(float(m.group(4)))
            continue
        m = re.match(r"\s+(\S+)\s+p50\s+([\d.]+)\s+p90\s+([\d.]+)", line)
        if m and side:
            rows[side][m.group(1) + " p50"].append(float(m.group(2)))
            rows[side][m.group(1) + " p90"].append(float(m.group(3)))


def med(v):
    v = sorted(v)
    n = len(v)
    return v[n // 2] if n % 2 else (v[n // 2 - 1] + v[n // 2]) / 2


cols = ["enter->queue p50", "enter->queue p90", "queue->xmit p50", "queue->xmit p90",
        "enter->xmit p50", "enter->xmit p90", "softirq%"]
print("| case | side | " + " | ".join(cols) + " |")
print("|---" * (len(cols) + 2) + "|")
for side in sorted(rows):
    r = rows[side]
    cells = [f"{med(r[c]):.1f} [{min(r[c]):.1f}..{max(r[c]):.1f}]" if r[c] else "-" for c in cols]
    print(f"| {side[0]} | {side[1]} | " + " | ".join(cells) + " |")
