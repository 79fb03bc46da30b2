#!/usr/bin/env python3
"""The tables of bench/accuracy_matrix.sh, from its --json runs (see that script).

usage: accuracy_table.py WORKDIR     (WORKDIR/manifest.tsv: one line per replicate:
       half target load interval_name interval rep mode base; base.host.json and
       base.container.json are `mtool ping --json` outputs)

Per cell and replicate, for each RTT definition:
  time=    rtt_ms: user-space send to the kernel's receive stamp (what iputils prints)
  kernel   kernel_rtt_ms: the kernel's transmit stamp to its receive stamp
the container's percentile minus the host's (same replicate), in us:
  raw         the container's own RTT
  corrected   time=: correction.corrected_rtt_ms; kernel: kernel_rtt - correction.overhead_ms
              (overhead = egress + ingress - shared, lib/correlate/correction.cpp)
  plain       raw - egress - ingress (the correction without the shared/local-target term)
Ranges across replicates: "median [min, max]". Coverage: container replies corrected / replies.
What a corrected p50 bias is made of (when the correlator can follow host probes: a short
followed host run per replicate, base.hostwire.json, whose replies carry the wire RTT; see
terms_of): fairness (container wire p50 - host wire p50: the target), stamp points (the host's
net_dev_queue -> transmit stamp on its first device minus the container's on eth0: the kernel
RTTs start at different devices), reference drift (the followed run's kernel p50 - the
reference's), send path (time= only: container send_stack p50 - host's), the shared term
(corrected - plain, local targets) and the rest, which the sum leaves (medians do not add
exactly). The terms add up to the bias by construction; which one is large is the reason.
Goals (corrected bias): 2 ms: |p50| <= 1 us and |p99| <= 5 us; 200 ms: |p50| <= 5 us. Judged
on the median across replicates; "k/n" = replicates within the goal. A missed p50 names its
terms of 1 us or more (medians over replicates), largest first; a missed p99 gives its range
across replicates.
"""
import json
import statistics
import sys
from collections import OrderedDict
from pathlib import Path

QS = (0.5, 0.9, 0.99)
COLLIDE_MS = 5.0
GOALS = {"dense": {0.5: 1.0, 0.99: 5.0}, "sparse": {0.5: 5.0}}
INTERVAL_TEXT = {"dense": "2 ms", "sparse": "200 ms"}


def pct(values, q):
    """Nearest rank, as correction_table.py and mtool's --percentiles."""
    s = sorted(values)
    return s[min(len(s) - 1, max(0, int(round(q * len(s) + 0.5)) - 1))]


def replies(path):
    out = []
    try:
        text = Path(path).read_text()
    except OSError:
        return out
    for line in text.splitlines():
        if not line.startswith("{"):
            continue
        o = json.loads(line)
        if o.get("type") == "reply" and o.get("rtt_ms") is not None and not o.get("dup"):
            out.append(o)
    return out


def series(rs, container):
    """Per definition: raw / corrected / plain values in us (corrected and plain: container only)."""
    s = {"time": {"raw": [], "corrected": [], "plain": []},
         "kernel": {"raw": [], "corrected": [], "plain": []},
         "send_stack": [], "wire": [], "stamp_gap": [], "sends": [], "corrected_n": 0}
    for o in rs:
        t = o["rtt_ms"] * 1e3
        k = o["kernel_rtt_ms"] * 1e3 if o.get("kernel_rtt_ms") is not None else None
        s["time"]["raw"].append(t)
        if k is not None:
            s["kernel"]["raw"].append(k)
        if o.get("send_stack_us") is not None:
            s["send_stack"].append(o["send_stack_us"])
        s["sends"].append(send_time(o))
        c = o.get("correction")
        if not c:
            continue
        if c.get("wire_rtt_ms") is not None:
            s["wire"].append(c["wire_rtt_ms"] * 1e3)
            if k is not None:
                # Where the path starts (net_dev_queue on the first device) minus where the
                # kernel stamps it (its driver's transmit): a followed host probe has no egress.
                s["stamp_gap"].append(c["egress_us"] + c["wire_rtt_ms"] * 1e3 + c["ingress_us"] - k)
        if not container:
            continue
        s["corrected_n"] += 1
        overhead = c["overhead_ms"] * 1e3
        both = c["egress_us"] + c["ingress_us"]
        s["time"]["corrected"].append(c["corrected_rtt_ms"] * 1e3)
        s["time"]["plain"].append(t - both)
        if k is not None:
            s["kernel"]["corrected"].append(k - overhead)
            s["kernel"]["plain"].append(k - both)
    return s


def send_time(o):
    return o["time"] - o["rtt_ms"] / 1e3


def drop_collisions(host, cont):
    """Concurrent runs: the replies of probes sent within COLLIDE_MS of a probe of the other side
    (their sends queued behind each other on the same CPU), dropped from both sides."""
    hs, cs = sorted(map(send_time, host)), sorted(map(send_time, cont))

    def near(t, other):
        return any(abs(t - x) * 1e3 < COLLIDE_MS for x in other)
    kept_h = [o for o in host if not near(send_time(o), cs)]
    kept_c = [o for o in cont if not near(send_time(o), hs)]
    return kept_h, kept_c, len(host) - len(kept_h), len(cont) - len(kept_c)


def concurrent_offsets(host_sends, container_sends):
    """For each host send while the container run was sending, ms to the nearest container send."""
    if not host_sends or not container_sends:
        return []
    c = sorted(container_sends)
    return [min(abs(h - x) for x in c) * 1e3 for h in host_sends if c[0] <= h <= c[-1]]


def span(values, digits=1, signed=True):
    """median [min, max] across replicates."""
    values = [v for v in values if v is not None]
    if not values:
        return "n/a"
    f = f"{'+' if signed else ''}.{digits}f"
    mid = statistics.median(values)
    if len(values) == 1 or max(values) - min(values) < 0.5 * 10 ** -digits:
        return format(mid, f)
    return f"{format(mid, f)} [{format(min(values), f)}, {format(max(values), f)}]"


def plain_num(values, digits=0):
    values = [v for v in values if v is not None]
    return f"{statistics.median(values):.{digits}f}" if values else "n/a"


TERM_NAMES = {"fairness": "the target", "stamp_gap": "the stamp points", "drift": "the reference's drift",
              "send": "the send path", "shared": "the shared term"}


def send_diff(rep):
    """The container's send_stack p50 minus the host's: part of the time= bias only."""
    h, c = rep["send_stack"]
    return None if h is None or c is None else c - h


def terms_of(rep, d):
    """The corrected p50 bias as measured terms (None if one is missing):
      fairness   container wire p50 - host wire p50 (the followed host run): the target
      stamp_gap  the host's (net_dev_queue -> transmit stamp on its first device) minus the
                 container's: the kernel RTTs start at different devices' stamps
      drift      the followed host run's kernel p50 - the reference's: the host between runs
      send       time= only: container send_stack p50 - host send_stack p50
      shared     corrected - plain: the local-target give-back
      rest       what the sum leaves (medians do not add exactly)"""
    corrected, plain = get(rep, d, "corrected", 0.5), get(rep, d, "plain", 0.5)
    t = {"fairness": rep["fairness"], "stamp_gap": rep["stamp_gap"], "drift": rep["drift"],
         "send": send_diff(rep) if d == "time" else 0.0,
         "shared": None if corrected is None or plain is None else corrected - plain}
    if corrected is None or any(v is None for v in t.values()):
        return None
    t["rest"] = corrected - sum(t.values())
    return t


def verdict(iname, corrected_reps, terms=None):
    """corrected_reps: per replicate {q: bias} (None where nothing was corrected); terms: per
    replicate terms_of(), to name what a missed p50 is made of."""
    goals = GOALS[iname]
    reps = [r for r in corrected_reps if r is not None]
    if not reps:
        return "MISS (nothing corrected)"
    within = sum(all(abs(r[q]) <= g for q, g in goals.items()) for r in reps)
    missed = [q for q, g in goals.items() if abs(statistics.median(r[q] for r in reps)) > g]
    text = f"{within}/{len(reps)}"
    if not missed:
        return f"ok {text}"
    why = []
    known = [t for t in (terms or []) if t is not None]
    if 0.5 in missed and known:
        med = {k: statistics.median(t[k] for t in known) for k in list(TERM_NAMES) + ["rest"]}
        big = sorted((k for k in med if abs(med[k]) >= 1.0), key=lambda k: -abs(med[k]))[:3]
        why.append("p50: " + (", ".join(f"{TERM_NAMES.get(k, 'the rest')} {med[k]:+.1f}" for k in big)
                              or "no term over 1 us"))
    if 0.99 in missed:
        p99 = [r[0.99] for r in reps]
        why.append(f"p99 {min(p99):+.0f}..{max(p99):+.0f} across replicates")
    names = ",".join(f"p{int(q * 100)}" for q in missed)
    return f"**MISS {names}** {text}" + (f" ({'; '.join(why)})" if why else "")


def analyse(work, rows):
    """rows: the manifest lines of one cell -> per-replicate numbers."""
    cell = {"reps": [], "coverage": [0, 0], "host_n": 0, "offsets": [], "mode": rows[0]["mode"],
            "collided": [0, 0]}
    host_sends = 0
    for row in rows:
        host_replies = replies(work / (row["base"] + ".host.json"))
        cont_replies = replies(work / (row["base"] + ".container.json"))
        if row["mode"] == "concurrent":
            # Offsets from all sends, the statistics from the probes that did not collide.
            all_host, all_cont = series(host_replies, False), series(cont_replies, True)
            cell["offsets"] += concurrent_offsets(all_host["sends"], all_cont["sends"])
            host_sends += len(all_host["sends"])
            host_replies, cont_replies, dh, dc = drop_collisions(host_replies, cont_replies)
            cell["collided"][0] += dh
            cell["collided"][1] += dc
        host = series(host_replies, False)
        cont = series(cont_replies, True)
        # The host's wire RTT: from its followed run (the reference runs are not followed).
        followed = series(replies(work / (row["base"] + ".hostwire.json")), False)
        wire = followed["wire"] or host["wire"]
        cell["coverage"][0] += cont["corrected_n"]
        cell["coverage"][1] += len(cont["time"]["raw"])
        cell["host_n"] += len(host["time"]["raw"])
        rep = {}
        for d in ("time", "kernel"):
            hq = {q: pct(host[d]["raw"], q) for q in QS} if host[d]["raw"] else None
            rep[d] = {}
            for kind in ("raw", "corrected", "plain"):
                vals = cont[d][kind]
                rep[d][kind] = ({q: pct(vals, q) - hq[q] for q in QS} if vals and hq else None)
            rep[d]["host"] = hq
        rep["send_stack"] = (pct(host["send_stack"], 0.5) if host["send_stack"] else None,
                             pct(cont["send_stack"], 0.5) if cont["send_stack"] else None)
        rep["fairness"] = (pct(cont["wire"], 0.5) - pct(wire, 0.5) if wire and cont["wire"] else None)
        rep["stamp_gap"] = (pct(followed["stamp_gap"], 0.5) - pct(cont["stamp_gap"], 0.5)
                            if followed["stamp_gap"] and cont["stamp_gap"] else None)
        rep["drift"] = (pct(followed["kernel"]["raw"], 0.5) - pct(host["kernel"]["raw"], 0.5)
                        if followed["kernel"]["raw"] and host["kernel"]["raw"] else None)
        cell["reps"].append(rep)
    cell["overlap"] = (len(cell["offsets"]), host_sends)
    return cell


def get(rep, d, kind, q):
    v = rep[d][kind]
    return None if v is None else v[q]


def print_tables(half, cells, meta):
    fair = any(r["fairness"] is not None for c in cells.values() for r in c["reps"])
    print(f"### {half}: {meta}")
    print()
    for d, title in (("time", "time= (user-space send -> kernel receive stamp), rtt_ms"),
                     ("kernel", "kernel (kernel transmit stamp -> receive stamp), kernel_rtt_ms")):
        print(f"#### {half}, {title}: container - host, us")
        print()
        head = ("| cell | host p50 / p99 | raw p50 | raw p90 | raw p99 | corrected p50 | corrected p90 "
                "| corrected p99 | plain p50 | coverage |")
        sep = "|---|---|---|---|---|---|---|---|---|---|"
        if fair:
            head += " fairness (wire p50) | stamp points | reference drift |"
            sep += "---|---|---|"
            if d == "time":
                head += " send path (send_stack p50) |"
                sep += "---|"
            head += " rest |"
            sep += "---|"
        head += " goal |"
        sep += "---|"
        print(head)
        print(sep)
        for (target, load, iname), c in cells.items():
            reps = c["reps"]
            host = [r[d]["host"] for r in reps if r[d]["host"]]
            hostp = (f"{plain_num([h[0.5] for h in host])} / {plain_num([h[0.99] for h in host])}"
                     if host else "n/a")
            cols = [f"{target}, {load}, {INTERVAL_TEXT[iname]}", hostp]
            cols += [span([get(r, d, "raw", q) for r in reps]) for q in QS]
            cols += [span([get(r, d, "corrected", q) for r in reps]) for q in QS]
            cols.append(span([get(r, d, "plain", 0.5) for r in reps]))
            cov, total = c["coverage"]
            cols.append(f"{100.0 * cov / max(total, 1):.1f}% ({cov}/{total})")
            terms = [terms_of(r, d) for r in reps]
            if fair:
                cols += [span([r["fairness"] for r in reps]), span([r["stamp_gap"] for r in reps]),
                         span([r["drift"] for r in reps])]
                if d == "time":
                    cols.append(span([send_diff(r) for r in reps]))
                cols.append(span([None if t is None else t["rest"] for t in terms]))
            cols.append(verdict(iname, [r[d]["corrected"] for r in reps], terms if fair else None))
            print("| " + " | ".join(cols) + " |")
        print()
    print(f"#### {half}: the send path (send_stack_us p50: user-space send -> kernel transmit stamp), "
          "and the runs")
    print()
    print("| cell | host send_stack p50 | container send_stack p50 | container - host | replies host / container "
          "| sparse runs |")
    print("|---|---|---|---|---|---|")
    for (target, load, iname), c in cells.items():
        reps = c["reps"]
        hs = [r["send_stack"][0] for r in reps]
        cs = [r["send_stack"][1] for r in reps]
        diff = [None if h is None or x is None else x - h for h, x in zip(hs, cs)]
        if iname == "dense":
            mode = ""
        elif c["mode"] == "concurrent":
            mode = f"concurrent: {c['overlap'][0]}/{c['overlap'][1]} host sends while the container sent"
            if c["offsets"]:
                mode += f", {pct(c['offsets'], 0.5):.0f} ms from its nearest (min {min(c['offsets']):.0f})"
            if any(c["collided"]):
                mode += (f"; dropped as collided (< {COLLIDE_MS:.0f} ms apart): "
                         f"{c['collided'][0]} host, {c['collided'][1]} container")
        else:
            mode = c["mode"]
        cols = [f"{target}, {load}, {INTERVAL_TEXT[iname]}", span(hs, signed=False), span(cs, signed=False), span(diff),
                f"{c['host_n']} / {c['coverage'][1]}", mode]
        print("| " + " | ".join(cols) + " |")
    print()


def main():
    work = Path(sys.argv[1])
    fields = ("half", "target", "load", "iname", "interval", "rep", "mode", "base")
    halves = OrderedDict()
    for line in (work / "manifest.tsv").read_text().splitlines():
        row = dict(zip(fields, line.split("\t")))
        row["base"] = Path(row["base"]).name  # older manifests: absolute paths
        halves.setdefault(row["half"], OrderedDict()).setdefault(
            (row["target"], row["load"], row["iname"]), []).append(row)
    layout = {}
    for line in (work / "layout.tsv").read_text().splitlines() if (work / "layout.tsv").exists() else []:
        f = line.split("\t")
        layout.update(dict(zip(f[0::2], f[1::2])))
    for half, cells in halves.items():
        analysed = OrderedDict((key, analyse(work, rows)) for key, rows in cells.items())
        nreps = sorted({len(c["reps"]) for c in analysed.values()})
        meta = f"replicates {'/'.join(map(str, nreps))}"
        if half == "docker" and "docker" in layout:
            meta += f", image {layout['docker'][:19]}"
        print_tables(half, analysed, meta)
        others = int(layout.get(f"others_{half}", 0))
        taken = int(layout.get(f"taken_{half}", 0)) if half == "docker" else 0
        responders = int(layout.get(f"responders_{half}", 0))
        notes = []
        if others:
            notes.append(f"{others} other correlator(s) ran on this host at once (their programs run on "
                         "every packet too)")
        if taken:
            notes.append(f"the listener name was found taken in {taken} namespace(s) (any, not only the "
                         "bench's; a container of the bench whose name was taken asked another correlator: "
                         "lower coverage)")
        if responders:
            notes.append(f"{responders} other TAP responder(s) ran (on the same CPU they stall each other)")
        if notes:
            print("Not alone: " + "; ".join(notes) + ".")
            print()
        responder_log = work / f"responder.{half}.log"
        if responder_log.exists() and responder_log.read_text().strip():
            print("The remote-like target's responder over this half: "
                  + responder_log.read_text().strip().replace("mtool_tap_responder: ", ""))
            print()

main()
