#!/usr/bin/env python3
"""Per-run figures of `mtool ping --json` output, for bench/send_path/compare.sh.

For each run file: p50/p90 (us) of
  rtt      time= (user send stamp -> kernel receive stamp)
  krtt     kernel_rtt_ms (kernel transmit stamp -> kernel receive stamp)
  stack    send_stack_us (user send stamp -> kernel transmit stamp on the first device)
  corr     correction.corrected_rtt_ms (rtt - egress - ingress + shared)
  kcorr    kernel_rtt - overhead (the corrected RTT with the send path left out)
  egress, ingress
and the coverage (corrected / replies).

usage: send_path_stats.py FILE...             one line per file
       send_path_stats.py --pairs DIR          biases: every '<case>.<side>.<rep>' run against
                                               '<case>.host.<rep>' in DIR, ranges over reps
"""
import json
import os
import re
import sys
from collections import defaultdict


def pct(values, p):
    if not values:
        return float("nan")
    v = sorted(values)
    k = (len(v) - 1) * p / 100.0
    lo = int(k)
    hi = min(lo + 1, len(v) - 1)
    return v[lo] + (v[hi] - v[lo]) * (k - lo)


def load(path):
    cols = defaultdict(list)
    replies = 0
    with open(path) as f:
        for line in f:
            line = line.strip()
            if not line.startswith("{"):
                continue
            try:
                o = json.loads(line)
            except ValueError:
                continue
            if o.get("type") != "reply" or o.get("dup") or o.get("rtt_ms") is None:
                continue
            replies += 1
            cols["rtt"].append(o["rtt_ms"] * 1000)
            if "kernel_rtt_ms" in o:
                cols["krtt"].append(o["kernel_rtt_ms"] * 1000)
                cols["stack"].append(o["send_stack_us"])
            c = o.get("correction")
            if c:
                cols["corr"].append(c["corrected_rtt_ms"] * 1000)
                cols["egress"].append(c["egress_us"])
                cols["ingress"].append(c["ingress_us"])
                if "kernel_rtt_ms" in o:
                    cols["kcorr"].append(o["kernel_rtt_ms"] * 1000 - c["overhead_ms"] * 1000)
    cols["_n"] = replies
    return cols


KEYS = ["rtt", "krtt", "stack", "corr", "kcorr", "egress", "ingress"]


def summary(cols):
    out = {}
    for k in KEYS:
        out[k] = (pct(cols[k], 50), pct(cols[k], 90)) if cols[k] else None
    out["cov"] = (len(cols["corr"]), cols["_n"])
    return out


def fmt(pair):
    return "   -   /   -  " if pair is None else f"{pair[0]:6.1f}/{pair[1]:6.1f}"


def per_file(paths):
    print(f"{'run':40s} " + " ".join(f"{k:>13s}" for k in KEYS) + "  corrected")
    for p in paths:
        s = summary(load(p))
        print(f"{os.path.basename(p):40s} " + " ".join(fmt(s[k]) for k in KEYS) +
              f"  {s['cov'][0]}/{s['cov'][1]}")


def rng(values, fmtspec="+.1f"):
    """median [min..max] over replicates"""
    if not values:
        return "-"
    lo, hi = min(values), max(values)
    if len(values) == 1:
        return f"{lo:{fmtspec}}"
    return f"{pct(values, 50):{fmtspec}} [{lo:{fmtspec}}..{hi:{fmtspec}}]"


def pairs(directory):
    runs = defaultdict(dict)  # case -> side -> rep -> summary
    for name in os.listdir(directory):
        m = re.match(r"(.+)\.([A-Za-z0-9_-]+)\.(\d+)$", name)
        if not m:
            continue
        case, side, rep = m.group(1), m.group(2), int(m.group(3))
        runs[case].setdefault(side, {})[rep] = summary(load(os.path.join(directory, name)))
    for case in sorted(runs):
        sides = runs[case]
        host = sides.get("host", {})
        print(f"\n## {case}  ({len(host)} reps; median [min..max] over reps; us)")
        hs = lambda k, i: [host[r][k][i] for r in host if host[r][k]]
        print(f"  host: rtt p50 {rng(hs('rtt', 0), '.1f')}  p90 {rng(hs('rtt', 1), '.1f')}; "
              f"krtt p50 {rng(hs('krtt', 0), '.1f')} p90 {rng(hs('krtt', 1), '.1f')}; "
              f"send_stack p50 {rng(hs('stack', 0), '.1f')} p90 {rng(hs('stack', 1), '.1f')}")
        for side in sorted(s for s in sides if s != "host"):
            reps = sides[side]
            line = {}
            for label, ck, hk in [("raw", "rtt", "rtt"), ("corr", "corr", "rtt"),
                                  ("kcorr", "kcorr", "krtt"), ("stack", "stack", "stack")]:
                for i, pname in [(0, "p50"), (1, "p90")]:
                    line[(label, pname)] = [reps[r][ck][i] - host[r][hk][i] for r in reps
                                            if r in host and reps[r][ck] and host[r][hk]]
            st = [reps[r]["stack"] for r in reps if reps[r]["stack"]]
            cov = [reps[r]["cov"] for r in reps]
            print(f"  {side:18s} stack p50 {rng([s[0] for s in st], '.1f'):>11s} p90 "
                  f"{rng([s[1] for s in st], '.1f'):>11s} | bias vs host p50/p90: "
                  f"raw {rng(line[('raw','p50')])} / {rng(line[('raw','p90')])}; "
                  f"corr {rng(line[('corr','p50')])} / {rng(line[('corr','p90')])}; "
                  f"kcorr {rng(line[('kcorr','p50')])} / {rng(line[('kcorr','p90')])}; "
                  f"stack {rng(line[('stack','p50')])} / {rng(line[('stack','p90')])}; "
                  f"cov {sum(c[0] for c in cov)}/{sum(c[1] for c in cov)}")


if __name__ == "__main__":
    if len(sys.argv) > 2 and sys.argv[1] == "--pairs":
        pairs(sys.argv[2])
    else:
        per_file(sys.argv[1:])
