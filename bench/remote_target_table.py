#!/usr/bin/env python3
"""Turns remote_target.sh's JSON runs into its Markdown table (see that script)."""
import json
import statistics
import sys
from pathlib import Path


def pct(values, q):
    s = sorted(values)
    return s[min(len(s) - 1, max(0, int(round(q * len(s) + 0.5)) - 1))]


def replies(path):
    out = []
    for line in Path(path).read_text().splitlines():
        o = json.loads(line)
        if o.get("type") == "reply" and o.get("rtt_ms") is not None and not o.get("dup"):
            out.append(o)
    return out


def wire_us(rs):
    return [o["correction"]["wire_rtt_ms"] * 1e3 for o in rs if "correction" in o]


def span(values, fmt="{:.1f}"):
    lo, hi = min(values), max(values)
    return fmt.format(lo) if abs(hi - lo) < 0.05 else f"{fmt.format(lo)}..{fmt.format(hi)}"


def main():
    work, reps = Path(sys.argv[1]), int(sys.argv[2])
    cells = ["netns, 2 ms", "remote, 2 ms", "netns, 200 ms", "remote, 200 ms"]
    print("| target, interval | host RTT p50 / p90 / p99 (us) | wire median host / container (us) "
          "| container - host (us) | wire IQR host / container (us) | coverage host / container |")
    print("|---|---|---|---|---|---|")
    for cell in cells:
        rtt = {q: [] for q in (0.5, 0.9, 0.99)}
        med = {"host": [], "container": []}
        iqr = {"host": [], "container": []}
        diff, covered, total = [], {"host": 0, "container": 0}, {"host": 0, "container": 0}
        for r in range(1, reps + 1):
            runs = {side: replies(work / f"{cell}.{side}.{r}") for side in ("host", "container")}
            for q in rtt:
                rtt[q].append(pct([o["rtt_ms"] * 1e3 for o in runs["host"]], q))
            for side, rs in runs.items():
                w = wire_us(rs)
                covered[side] += len(w)
                total[side] += len(rs)
                med[side].append(statistics.median(w))
                iqr[side].append(pct(w, 0.75) - pct(w, 0.25))
            diff.append(med["container"][-1] - med["host"][-1])
        coverage = " / ".join(f"{100.0 * covered[s] / max(total[s], 1):.1f}%" for s in ("host", "container"))
        print(f"| {cell} | {' / '.join(span(rtt[q], '{:.0f}') for q in rtt)} "
              f"| {span(med['host'])} / {span(med['container'])} | {span(diff, '{:+.1f}')} "
              f"| {span(iqr['host'])} / {span(iqr['container'])} | {coverage} |")


main()
