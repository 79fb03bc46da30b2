#!/usr/bin/env python3
"""`mtool report` end to end on result files, no root: RIPE Atlas' published format (firmware
4570 to 5120, ping and traceroute, errors, timeouts, late packets, duplicates, a JSON array
download) and mtool's own (corrections, breakdown, [virtual] hops). Every figure is checked
against independent_report.py; the outputs (text, JSON, CSV), bad input, exit codes and the
plot's structure (SVG series and axes, PNG size) are checked here.

    report_cli_test.py path/to/mtool
"""
import csv
import io
import json
import os
import struct
import subprocess
import sys
import tempfile
import unittest

HERE = os.path.dirname(os.path.abspath(__file__))
DATA = os.path.join(HERE, "data")
sys.path.insert(0, HERE)
import independent_report  # noqa: E402

MTOOL = None


def data(name):
    return os.path.join(DATA, name)


def report(*args, stdin=None, env=None):
    return subprocess.run([MTOOL, "report", *args], input=stdin, capture_output=True, text=True,
                          env=env, timeout=60)


def json_report(*files):
    r = report("--json", *files)
    assert r.returncode == 0, r.stderr
    return json.loads(r.stdout)


class AtlasResults(unittest.TestCase):
    files = [data("atlas_ping.jsonl"), data("atlas_traceroute.jsonl")]

    def test_every_figure_matches_an_independent_computation(self):
        self.assertEqual(independent_report.compare(json_report(*self.files), self.files), [])

    def test_duplicates_losses_and_errors_are_counted_as_atlas_does(self):
        rows = {(r["type"], r["target"], r["vantage"]): r
                for r in json_report(*self.files)["summary"]}
        dup = rows[("ping", "k.root.example", "1216@198.18.51.9")]
        self.assertEqual((dup["sent"], dup["received"], dup["duplicates"]), (2, 1, 2))
        self.assertEqual(dup["loss"], 0.5)
        lossy = rows[("ping", "k.root.example", "1001@198.18.50.7")]
        self.assertEqual((lossy["results"], lossy["sent"], lossy["received"]), (2, 6, 3))
        errors = rows[("ping", "k.root.example", "1002@198.18.52.9")]
        self.assertEqual((errors["errors"], errors["received"]), (1, 2))
        unresolved = rows[("ping", "nowhere.invalid", "1002@198.18.52.9")]
        self.assertEqual((unresolved["sent"], unresolved["errors"]), (0, 1))
        self.assertIsNone(unresolved["loss"])
        self.assertIsNone(unresolved["rtt_p50_ms"])
        # Atlas results carry no correction: nothing corrected, no difference claimed.
        self.assertIsNone(lossy["corrected_p50_ms"])
        self.assertIsNone(lossy["difference_p50_ms"])

    def test_paths_show_addresses_shares_late_replies_and_changes(self):
        paths = {(p["target"], p["vantage"]): p for p in json_report(*self.files)["paths"]}
        far = paths[("far.example", "2001@198.18.71.200")]
        self.assertEqual((far["runs"], far["distinct_paths"], far["path_changes"]), (3, 3, 1))
        self.assertEqual(far["paris_ids"], 2)
        hops = {h["hop"]: h for h in far["hops"]}
        self.assertEqual(sorted(hops), [1, 2, 3, 4, 5, 255])
        two = {a["address"]: a for a in hops[2]["addresses"]}
        self.assertEqual(two["198.18.72.1"]["replies"], 3)
        self.assertEqual(two["198.18.72.2"]["replies"], 4)
        self.assertAlmostEqual(two["198.18.72.2"]["share"], 4 / 7, places=5)
        self.assertEqual((hops[3]["probes"], hops[3]["timeouts"], hops[3]["replies"]), (7, 6, 1))
        self.assertEqual((hops[4]["late"], hops[4]["duplicates"]), (1, 1))
        last = {a["address"]: a for a in hops[255]["addresses"]}
        self.assertEqual(last["198.18.74.1"]["icmp_errors"], ["9"])
        one = paths[("fd00:8::9", "14468@fd00:7::da")]["hops"][0]
        self.assertEqual(one["addresses"][0]["icmp_errors"], ["N"])
        # A hop that only failed to send, and a trace whose target did not resolve.
        self.assertIn(("198.18.60.33", "1000318@198.18.61.40"), paths)
        self.assertNotIn(("nowhere.invalid", "2001@198.18.71.200"), paths)

    def test_a_json_array_download_reads_as_its_lines(self):
        whole = json_report(data("atlas_download.json"))
        self.assertEqual(independent_report.compare(whole, [data("atlas_download.json")]), [])
        self.assertEqual(whole["input"]["results"], 2)
        with open(data("atlas_ping.jsonl"), encoding="utf-8") as f:
            first_two = "".join(f.readlines()[:2])
        r = report("--json", "-", stdin=first_two)
        self.assertEqual(r.returncode, 0, r.stderr)
        lines = json.loads(r.stdout)
        for a, b in zip(whole["summary"], lines["summary"]):
            a.pop("vantage")
            b.pop("vantage")
            self.assertEqual(a, b)

    def test_text_is_an_aligned_table_with_the_paths_after_it(self):
        r = report(*self.files)
        self.assertEqual(r.returncode, 0, r.stderr)
        lines = r.stdout.splitlines()
        self.assertIn("raw RTT (ms)", lines[0])
        self.assertIn("corrected RTT (ms)", lines[0])
        self.assertTrue(lines[1].startswith("type"), lines[1])
        # Every column of the heading starts where its values start or end: right-aligned
        # numbers end under the heading's last letter.
        heading = lines[1]
        results_end = heading.index("results") + len("results")
        for line in lines[2:9]:
            self.assertEqual(line[results_end - 1], line[results_end - 1].strip() or "?", line)
            self.assertTrue(line[results_end - 1].isdigit(), line)
        self.assertIn("traceroute to far.example from 2001@198.18.71.200: 3 runs, 3 distinct "
                      "paths, 1 change (runs compared per paris_id: 2 ids)", r.stdout)
        self.assertIn("198.18.74.1 !9", r.stdout)
        self.assertTrue(lines[-1].startswith("12 results from 2 inputs"), lines[-1])

    def test_csv_has_the_summary_then_the_paths(self):
        r = report("--csv", *self.files)
        self.assertEqual(r.returncode, 0, r.stderr)
        summary_text, paths_text = r.stdout.split("\n\n")  # CRLF read as text
        summary = list(csv.DictReader(io.StringIO(summary_text)))
        paths = list(csv.DictReader(io.StringIO(paths_text)))
        whole = json_report(*self.files)
        self.assertEqual(len(summary), len(whole["summary"]))
        for row, expected in zip(summary, whole["summary"]):
            self.assertEqual(row["target"], expected["target"])
            self.assertEqual(int(row["sent"]), expected["sent"])
            if expected["rtt_p50_ms"] is None:
                self.assertEqual(row["rtt_p50_ms"], "")
            else:
                self.assertAlmostEqual(float(row["rtt_p50_ms"]), expected["rtt_p50_ms"], places=6)
        far = [p for p in paths if p["target"] == "far.example" and p["hop"] == "2"]
        self.assertEqual(sorted(p["address"] for p in far), ["198.18.72.1", "198.18.72.2"])
        only = report("--csv", "--only", "paths", *self.files)
        self.assertEqual(only.stdout, paths_text)

    def test_csv_cells_from_results_never_start_a_formula(self):
        with open(data("atlas_ping.jsonl"), encoding="utf-8") as f:
            line = json.loads(f.readline())
        line["dst_name"] = '=HYPERLINK("http://198.18.0.9/","x")'
        line["from"] = "@SUM(1+1)"
        r = report("--csv", "-", stdin=json.dumps(line) + "\n")
        self.assertEqual(r.returncode, 0, r.stderr)
        row = next(csv.DictReader(io.StringIO(r.stdout.split("\n\n")[0])))
        self.assertEqual(row["target"], "'" + line["dst_name"])
        self.assertTrue(row["vantage"].endswith("@@SUM(1+1)"), row)  # prb_id@from: no formula

    def test_grouping_by_measurement_and_hour(self):
        by_msm = json_report("--by", "msm", *self.files)
        self.assertEqual(sorted((r["type"], r["msm_id"]) for r in by_msm["summary"]),
                         [("ping", 5001), ("ping", 5002), ("ping", 5003), ("traceroute", 6001),
                          ("traceroute", 6002), ("traceroute", 6003), ("traceroute", 6004)])
        self.assertEqual(set(by_msm["summary"][0]), set(by_msm["summary"][0]) - {"target"})
        r = report("--json", "--by", "target,hour", data("atlas_ping.jsonl"))
        hours = {(x["target"], x["hour"]) for x in json.loads(r.stdout)["summary"]}
        self.assertIn(("k.root.example", "2014-03-20T01:00Z"), hours)
        self.assertIn(("k.root.example", "2014-03-20T02:00Z"), hours)


    def test_a_directory_is_its_files_by_name(self):
        with tempfile.TemporaryDirectory() as tmp:
            for name in ("atlas_traceroute.jsonl", "atlas_ping.jsonl"):
                os.symlink(data(name), os.path.join(tmp, name))
            os.mkdir(os.path.join(tmp, "deeper"))
            whole = json_report(tmp)
            self.assertEqual(whole["input"]["inputs"], 2)
            self.assertEqual(independent_report.compare(
                whole, [os.path.join(tmp, "atlas_ping.jsonl"),
                        os.path.join(tmp, "atlas_traceroute.jsonl")]), [])
            empty = os.path.join(tmp, "deeper")
            r = report(empty)
            self.assertEqual(r.returncode, 2)
            self.assertIn("holds no file of results", r.stderr)


class MtoolResults(unittest.TestCase):
    def test_corrections_overheads_and_virtual_hops(self):
        files = [data("mtool_results.jsonl")]
        whole = json_report(*files)
        self.assertEqual(independent_report.compare(whole, files), [])
        ping = whole["summary"][0]
        self.assertEqual(ping["vantage"], "7001@" + files[0])
        self.assertEqual((ping["received"], ping["replies_corrected"], ping["duplicates"]),
                         (5, 5, 1))
        self.assertAlmostEqual(ping["egress_median_ms"], 0.012, delta=0.012 * 0.008 + 1e-6)
        self.assertGreater(ping["difference_p50_ms"], 0)
        trace = whole["paths"][0]
        first = trace["hops"][0]
        self.assertTrue(first["addresses"][0]["virtual"])
        self.assertIsNone(first["corrected_p50_ms"])
        text = report(*files).stdout
        self.assertIn("198.18.27.1 [virtual]", text)


class BadInput(unittest.TestCase):
    def test_each_bad_line_is_named_once_and_skipped(self):
        r = report("--json", data("bad_lines.jsonl"))
        self.assertEqual(r.returncode, 0, r.stderr)
        lines = r.stderr.splitlines()
        named = [int(line.split(":")[2]) for line in lines]
        self.assertEqual(named, [2, 4, 5, 6, 7, 8, 9, 10], r.stderr)
        for line in lines:
            self.assertTrue(line.startswith("mtool report: " + data("bad_lines.jsonl") + ":"))
            self.assertTrue(line.endswith("; skipped"), line)
        self.assertNotIn("\x1b", r.stderr)
        self.assertIn("a dns result", lines[1])
        self.assertIn("fw 4460 is older than 4570", lines[2])
        self.assertIn(r"a \x1b[2J result", lines[5])
        self.assertIn("not a JSON object", lines[0])
        self.assertIn("not JSON: ", lines[6])
        self.assertIn("not JSON: ", lines[7])
        out = json.loads(r.stdout)
        self.assertEqual((out["input"]["results"], out["input"]["skipped"]), (2, 8))
        self.assertEqual(out["summary"][0]["received"], 2)

    def test_strict_stops_at_the_first(self):
        r = report("--strict", data("bad_lines.jsonl"))
        self.assertEqual(r.returncode, 1)
        self.assertEqual(r.stdout, "")
        self.assertEqual(r.stderr, "mtool report: %s:2: not a JSON object (--strict)\n"
                         % data("bad_lines.jsonl"))

    def test_inputs_that_cannot_be_read_are_errors(self):
        cases = [
            (["/nonexistent/results.jsonl"], 2, "cannot read /nonexistent/results.jsonl: No such file"),
            (["--strict", DATA], 1, "bad_lines.jsonl:2: not a JSON object (--strict)"),
            ([], 2, "no results given"),
            (["--by", "colour", data("atlas_ping.jsonl")], 2, "--by: 'colour' is not one of"),
            (["--json", "--csv", data("atlas_ping.jsonl")], 2, "exclude each other"),
            (["--only", "hops", data("atlas_ping.jsonl")], 2, "--only: 'hops'"),
            (["/dev/null"], 1, "no ping or traceroute result in 1 input"),
            (["--plot", "out.pdf", data("atlas_ping.jsonl")], 2, "neither .svg nor .png"),
        ]
        for args, code, message in cases:
            r = report(*args)
            self.assertEqual(r.returncode, code, (args, r.stderr))
            self.assertIn(message, r.stderr, args)
            self.assertEqual(len(r.stderr.splitlines()), 1, (args, r.stderr))

    def test_a_missing_gnuplot_is_said_before_reading(self):
        env = dict(os.environ, PATH="/nonexistent")
        r = report("--plot", "x.svg", "/nonexistent/results.jsonl", env=env)
        self.assertEqual(r.returncode, 2)
        self.assertIn("--plot needs gnuplot, which is not on PATH", r.stderr)


class Plot(unittest.TestCase):
    files = [data("mtool_results.jsonl"), data("atlas_ping.jsonl"), data("atlas_traceroute.jsonl")]

    def test_svg_has_a_series_per_vantage_point_and_labelled_axes(self):
        with tempfile.TemporaryDirectory() as tmp:
            path = os.path.join(tmp, "report.svg")
            r = report("--plot", path, *self.files)
            self.assertEqual(r.returncode, 0, r.stderr)
            with open(path, encoding="utf-8") as f:
                svg = f.read()
        self.assertTrue(svg.lstrip().startswith("<?xml"), svg[:100])
        self.assertIn("<svg", svg)
        for text in ("ping 198.19.27.2: RTT raw (dashed) and corrected (solid)",
                     "ping k.root.example: RTT raw (dashed) and corrected (solid)",
                     "traceroute far.example: median RTT per hop, raw (dashed) and corrected (solid)",
                     "RTT (ms), log scale", "fraction of replies", "overhead (ms), log scale",
                     "median RTT (ms)", "7001@%s raw" % data("mtool_results.jsonl"),
                     "7001@%s corrected" % data("mtool_results.jsonl"),
                     "1001@198.18.50.7 raw", "2001@198.18.71.200 raw",
                     "no overheads in these results", "3 targets without any reply not drawn"):
            self.assertIn(text, svg)
        # One plotted line per series: gnuplot groups each in <g id="gnuplot_plot_N...">.
        self.assertGreaterEqual(svg.count('id="gnuplot_plot_'), 10)

    def test_png_is_a_png_of_the_size_asked(self):
        with tempfile.TemporaryDirectory() as tmp:
            path = os.path.join(tmp, "report.png")
            r = report("--plot", path, *self.files)
            self.assertEqual(r.returncode, 0, r.stderr)
            with open(path, "rb") as f:
                head = f.read(24)
                size = os.path.getsize(path)
        self.assertEqual(head[:8], b"\x89PNG\r\n\x1a\n")
        width, height = struct.unpack(">II", head[16:24])
        # Two panels a row, a row per target that answered: 3 ping targets and 3 traceroute
        # targets (nowhere.invalid twice and 198.18.60.33 never did).
        self.assertEqual((width, height), (1400, 6 * 420 + 40))
        self.assertLess(size, 2 << 20)


class Module(unittest.TestCase):
    """The report lives in a module (lib/mtool/mtool-report.so beside the executable's directory)
    so that no other command maps simdjson or the shared libstdc++."""

    def loaded(self, *args):
        env = dict(os.environ, LD_DEBUG="files")
        env.pop("LD_DEBUG_OUTPUT", None)
        r = subprocess.run([MTOOL, *args], capture_output=True, text=True, env=env, timeout=60)
        return r, [line for line in r.stderr.splitlines() if "file=" in line]

    def test_only_report_maps_simdjson_and_the_shared_libstdcxx(self):
        r, files = self.loaded("ping", "-V")
        self.assertEqual(r.returncode, 0, r.stderr)
        self.assertTrue(files, "LD_DEBUG=files printed nothing: the check would check nothing")
        # A sanitizer build's runtime (libasan, libubsan) needs the shared libstdc++ itself.
        sanitized = any("libasan" in line or "libubsan" in line for line in files)
        for line in files:
            self.assertNotIn("simdjson", line)
            if not sanitized:
                self.assertNotIn("libstdc++", line)
        r, files = self.loaded("report", data("atlas_ping.jsonl"))
        self.assertEqual(r.returncode, 0, r.stderr)
        self.assertTrue(any("mtool-report.so" in line for line in files), files)
        self.assertTrue(any("libsimdjson" in line for line in files), files)

    def test_without_the_module_one_line_and_exit_2_but_help_works(self):
        with tempfile.TemporaryDirectory() as tmp:
            os.mkdir(os.path.join(tmp, "bin"))
            copy = os.path.join(tmp, "bin", "mtool")
            with open(MTOOL, "rb") as src, open(copy, "wb") as dst:
                dst.write(src.read())
            os.chmod(copy, 0o755)
            r = subprocess.run([copy, "report", data("atlas_ping.jsonl")], capture_output=True,
                               text=True, timeout=60)
            self.assertEqual(r.returncode, 2, r.stderr)
            self.assertEqual(r.stderr.splitlines(), [
                "mtool report: needs the report module %s/lib/mtool/mtool-report.so: cannot open "
                "shared object file: No such file or directory" % tmp])
            self.assertEqual(r.stdout, "")
            # A module of another kind (or version) in its place: refused by its entry point.
            os.makedirs(os.path.join(tmp, "lib", "mtool"))
            exporter = os.path.join(os.path.dirname(os.path.dirname(MTOOL)), "lib", "mtool",
                                    "mtool-prometheus-exporter.so")
            with open(exporter, "rb") as src, open(
                    os.path.join(tmp, "lib", "mtool", "mtool-report.so"), "wb") as dst:
                dst.write(src.read())
            r = subprocess.run([copy, "report", data("atlas_ping.jsonl")], capture_output=True,
                               text=True, timeout=60)
            self.assertEqual(r.returncode, 2, r.stderr)
            self.assertIn("it has no mtool_report_v1 (a module of another mtool version)",
                          r.stderr)
            self.assertEqual(len(r.stderr.splitlines()), 1, r.stderr)
            r = subprocess.run([copy, "report", "--help"], capture_output=True, text=True,
                               timeout=60)
            self.assertEqual(r.returncode, 0, r.stderr)
            self.assertIn("usage: mtool report", r.stdout)


if __name__ == "__main__":
    MTOOL = os.path.abspath(sys.argv.pop(1))
    unittest.main(verbosity=1)
