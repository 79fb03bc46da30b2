#!/usr/bin/env python3
"""What `mtool report --json` must say about some results, computed independently of it: with
Python's json module and exact nearest-rank percentiles over every value (mtool keeps bounded
histograms instead). compare() lists every figure of a report that is further from the exact
one than the histogram's stated error (0.8% of the value, plus the report's 6-decimal rounding).

    independent_report.py --report REPORT.json RESULTS...   exit 0 when every figure agrees
"""
import argparse
import json
import math
import sys

OLDEST_FW = 4570
RELATIVE_ERROR = 0.008
ROUNDING = 1e-6 + 1e-9


def results_of(path):
    """(result, source) for every line (or array element) that is a ping or traceroute result."""
    name = "stdin" if path == "-" else path
    with (sys.stdin if path == "-" else open(path, encoding="utf-8", errors="replace")) as f:
        text = f.read()
    if text.lstrip().startswith("["):
        items = json.loads(text)
    else:
        items = []
        for line in text.splitlines():
            try:
                items.append(json.loads(line))
            except ValueError:
                continue
    for r in items:
        if not isinstance(r, dict) or r.get("type") not in ("ping", "traceroute"):
            continue
        if not all(k in r for k in ("fw", "prb_id", "msm_id", "timestamp", "result")):
            continue
        if r["fw"] < OLDEST_FW or not (r.get("dst_name") or r.get("dst_addr")):
            continue
        yield r, name


def quantile(values, q):
    if not values:
        return None
    ordered = sorted(values)
    rank = max(1, math.ceil(q * len(ordered)))
    return ordered[rank - 1]


def key_of(r, source):
    vantage = "%d@%s" % (r["prb_id"], r.get("from") or source)
    return (r["type"], r.get("dst_name") or r.get("dst_addr"), vantage)


class Summary:
    def __init__(self):
        self.results = self.sent = self.received = self.duplicates = 0
        self.errors = self.late = self.corrected = self.inside_host = 0
        self.raw, self.corr, self.overhead, self.egress, self.ingress = [], [], [], [], []

    def reply(self, p):
        self.received += 1
        self.raw.append(p["rtt"])
        if p.get("inside_host"):
            self.corrected += 1
            self.inside_host += 1
        elif "rtt_corrected" in p:
            self.corrected += 1
            self.corr.append(p["rtt_corrected"])
        if "overhead" in p:
            self.overhead.append(p["overhead"])
        b = p.get("breakdown") or {}
        if "egress_ms" in b:
            self.egress.append(b["egress_ms"])
        if "ingress_ms" in b:
            self.ingress.append(b["ingress_ms"])

    def add(self, r):
        self.results += 1
        entries = r["result"]
        if r["type"] == "ping":
            probes = 0
            failed = bool(entries) and all("error" in p for p in entries)
            for p in entries:
                if "error" in p:
                    probes += 1
                    self.errors += 1
                elif "x" in p:
                    probes += 1
                elif "rtt" in p and "dup" in p:
                    self.duplicates += 1
                elif "rtt" in p:
                    probes += 1
                    self.reply(p)
                elif "late" in p:
                    self.late += 1
            self.sent += r.get("sent", 0 if failed else probes)
            return
        hops = [h for h in entries if "hop" in h]
        if not hops:
            self.errors += 1
            return
        last = hops[-1]
        replies = last.get("result", [])
        if "error" in last and not replies:
            self.errors += 1
            return
        for p in replies:
            if "error" in p:
                self.sent += 1
                self.errors += 1
            elif "x" in p:
                self.sent += 1
            elif "rtt" in p and "dup" in p:
                self.duplicates += 1
            elif "rtt" in p:
                self.sent += 1
                if p.get("from") == r.get("dst_addr"):
                    self.reply(p)
            elif "late" in p:
                self.late += 1


class Path:
    def __init__(self):
        self.runs = 0
        self.hops = {}
        self.last = {}
        self.distinct = set()
        self.changes = 0

    def add(self, r):
        hops = [h for h in r["result"] if "hop" in h]
        if not hops:
            return
        self.runs += 1
        signature = []
        for h in hops:
            s = self.hops.setdefault(h["hop"], {"probes": 0, "replies": 0, "timeouts": 0,
                                                 "late": 0, "raw": [], "corr": [], "from": {}})
            seen = set()
            for p in h.get("result", []):
                if "error" in p:
                    s["probes"] += 1
                elif "x" in p:
                    s["probes"] += 1
                    s["timeouts"] += 1
                elif "rtt" in p and "dup" in p:
                    pass
                elif "rtt" in p:
                    s["probes"] += 1
                    s["replies"] += 1
                    s["raw"].append(p["rtt"])
                    if "rtt_corrected" in p and not p.get("inside_host"):
                        s["corr"].append(p["rtt_corrected"])
                    s["from"][p.get("from", "")] = s["from"].get(p.get("from", ""), 0) + 1
                    seen.add(p.get("from", ""))
                elif "late" in p:
                    s["late"] += 1
            signature.append((h["hop"], tuple(sorted(seen))))
        signature = tuple(signature)
        self.distinct.add(signature)
        paris = r.get("paris_id", 0)
        if paris in self.last and self.last[paris] != signature:
            self.changes += 1
        self.last[paris] = signature


def expected(paths):
    summaries, traces = {}, {}
    for path in paths:
        for r, source in results_of(path):
            key = key_of(r, source)
            summaries.setdefault(key, Summary()).add(r)
            if r["type"] == "traceroute":
                traces.setdefault(key, Path()).add(r)
    return summaries, traces


def close(got, exact, slack=1.0):
    if exact is None or got is None:
        return got is None and exact is None
    return abs(got - exact) <= abs(exact) * RELATIVE_ERROR * slack + ROUNDING * slack


def compare(report, paths):
    """Every disagreement between `report` (mtool report --json, grouped by target and vantage
    point) and the figures computed here from the results in `paths`."""
    problems = []
    summaries, traces = expected(paths)
    rows = {(row["type"], row["target"], row["vantage"]): row for row in report["summary"]}
    if set(rows) != set(summaries):
        problems.append("groups: report %s, expected %s" % (sorted(rows), sorted(summaries)))
    for key, s in summaries.items():
        row = rows.get(key)
        if row is None:
            continue
        counts = {"results": s.results, "sent": s.sent, "received": s.received,
                  "duplicates": s.duplicates, "errors": s.errors, "late": s.late,
                  "replies_corrected": s.corrected, "inside_host": s.inside_host}
        for name, value in counts.items():
            if row[name] != value:
                problems.append("%s %s: %s, expected %s" % (key, name, row[name], value))
        loss = None if s.sent == 0 else max(0, s.sent - s.received) / s.sent
        if not close(row["loss"], loss):
            problems.append("%s loss: %s, expected %s" % (key, row["loss"], loss))
        for q, p in ((0.5, "p50"), (0.9, "p90"), (0.99, "p99")):
            raw, corr = quantile(s.raw, q), quantile(s.corr, q)
            checks = [("rtt_%s_ms" % p, raw, 1.0), ("corrected_%s_ms" % p, corr, 1.0),
                      ("difference_%s_ms" % p,
                       None if raw is None or corr is None else raw - corr, 2.0)]
            for name, exact, slack in checks:
                got = row[name]
                if name.startswith("difference") and exact is not None and got is not None:
                    ok = abs(got - exact) <= (raw + corr) * RELATIVE_ERROR + 2 * ROUNDING
                else:
                    ok = close(got, exact, slack)
                if not ok:
                    problems.append("%s %s: %s, expected %s" % (key, name, got, exact))
        for name, values in (("overhead_median_ms", s.overhead), ("egress_median_ms", s.egress),
                             ("ingress_median_ms", s.ingress)):
            if not close(row[name], quantile(values, 0.5)):
                problems.append("%s %s: %s, expected %s" % (key, name, row[name],
                                                           quantile(values, 0.5)))
    reported = {("traceroute", p["target"], p["vantage"]): p for p in report.get("paths", [])}
    wanted = {k: t for k, t in traces.items() if t.runs > 0}
    if set(reported) != set(wanted):
        problems.append("paths: report %s, expected %s" % (sorted(reported), sorted(wanted)))
    for key, t in wanted.items():
        p = reported.get(key)
        if p is None:
            continue
        for name, value in (("runs", t.runs), ("distinct_paths", len(t.distinct)),
                            ("path_changes", t.changes)):
            if p[name] != value:
                problems.append("%s %s: %s, expected %s" % (key, name, p[name], value))
        hops = {h["hop"]: h for h in p["hops"]}
        if sorted(hops) != sorted(t.hops):
            problems.append("%s hops: %s, expected %s" % (key, sorted(hops), sorted(t.hops)))
            continue
        for number, s in t.hops.items():
            h = hops[number]
            for name in ("probes", "replies", "timeouts", "late"):
                if h[name] != s[name]:
                    problems.append("%s hop %d %s: %s, expected %s" % (key, number, name, h[name],
                                                                      s[name]))
            for name, values in (("rtt_p50_ms", s["raw"]), ("corrected_p50_ms", s["corr"])):
                if not close(h[name], quantile(values, 0.5)):
                    problems.append("%s hop %d %s: %s, expected %s" % (
                        key, number, name, h[name], quantile(values, 0.5)))
            shares = {a["address"]: a["replies"] for a in h["addresses"]}
            if shares != s["from"]:
                problems.append("%s hop %d addresses: %s, expected %s" % (key, number, shares,
                                                                         s["from"]))
    return problems


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--report", required=True)
    parser.add_argument("results", nargs="+")
    args = parser.parse_args()
    with open(args.report, encoding="utf-8") as f:
        report = json.load(f)
    problems = compare(report, args.results)
    for p in problems:
        print(p)
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main())
