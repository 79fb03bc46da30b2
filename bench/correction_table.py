#!/usr/bin/env python3
"""Turns correction_accuracy.sh's JSON runs into its Markdown table (see that script)."""
import json
import sys
from pathlib import Path


def pct(values, q):
    s = sorted(values)
    return s[min(len(s) - 1, max(0, int(round(q * len(s) + 0.5)) - 1))]


def load(path):
    replies = []
    for line in Path(path).read_text().splitlines():
        o = json.loads(line)
        if o.get("type") == "reply" and o.get("rtt_ms") is not None and not o.get("dup"):
            replies.append(o)
    return replies


def quantiles(values):
    return [pct(values, q) for q in (0.5, 0.9, 0.99)]


def span(rows, i):
    lo, hi = min(r[i] for r in rows), max(r[i] for r in rows)
    return f"{lo:+.1f}" if abs(hi - lo) < 0.05 else f"{lo:+.1f}..{hi:+.1f}"


def main():
    work, reps = Path(sys.argv[1]), int(sys.argv[2])
    cases = sorted({p.name.split(".")[0] for p in work.glob("*.host.1")},
                   key=lambda c: (("flood" in c), ("200" in c)))
    print("| case | host RTT p50/p90/p99 (us) | raw bias p50 / p90 / p99 | corrected bias p50 / p90 / p99 "
          "| plain subtraction bias p50 / p90 / p99 | coverage |")
    print("|---|---|---|---|---|---|")
    for case in cases:
        raw_rows, cor_rows, plain_rows, host_rows = [], [], [], []
        corrected = total = 0
        for r in range(1, reps + 1):
            host = [o["rtt_ms"] * 1e3 for o in load(work / f"{case}.host.{r}")]
            cont = load(work / f"{case}.container.{r}")
            total += len(cont)
            with_c = [o for o in cont if "correction" in o]
            corrected += len(with_c)
            hq = quantiles(host)
            host_rows.append(hq)
            raw_rows.append([c - h for c, h in zip(quantiles([o["rtt_ms"] * 1e3 for o in cont]), hq)])
            cor = [o["correction"]["corrected_rtt_ms"] * 1e3 for o in with_c]
            plain = [o["correction"]["corrected_rtt_ms"] * 1e3 - o["correction"]["shared_us"] for o in with_c]
            cor_rows.append([c - h for c, h in zip(quantiles(cor), hq)])
            plain_rows.append([c - h for c, h in zip(quantiles(plain), hq)])
        host = "/".join(f"{sum(r[i] for r in host_rows) / len(host_rows):.0f}" for i in range(3))
        fmt = lambda rows: " / ".join(span(rows, i) for i in range(3))
        print(f"| {case} | {host} | {fmt(raw_rows)} | {fmt(cor_rows)} | {fmt(plain_rows)} "
              f"| {100.0 * corrected / max(total, 1):.1f}% ({corrected}/{total}) |")


main()
