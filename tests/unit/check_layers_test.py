#!/usr/bin/env python3
"""scripts/check_layers.py on tiny fake trees: it must pass a tree that keeps to its list and
fail, naming file:line, on a forbidden arrow, a cycle, an include it cannot place, a stale or
unexplained exception and a list that is not bottom-up; so a broken checker cannot pass
silently.

    usage: tests/unit/check_layers_test.py
"""
import os
import subprocess
import sys
import tempfile
import unittest

HERE = os.path.dirname(os.path.abspath(__file__))
CHECKER = os.path.join(os.path.dirname(os.path.dirname(HERE)), "scripts", "check_layers.py")

LAYERS = """\
header abi.h = abi
abi:
util:
net: util abi
# util -> abi: not allowed, here to be tolerated and printed.
except lib/util/clock.h -> abi.h
tools: net util
"""


def make_tree(root, layers, files):
    for path, text in {"lib/LAYERS": layers, **files}.items():
        full = os.path.join(root, path)
        os.makedirs(os.path.dirname(full), exist_ok=True)
        with open(full, "w", encoding="utf-8") as f:
            f.write(text)


def run_checker(layers, files):
    with tempfile.TemporaryDirectory() as root:
        make_tree(root, layers, files)
        done = subprocess.run([sys.executable, CHECKER, root], capture_output=True, text=True,
                              check=False)
        return done.returncode, done.stdout


GOOD = {
    "lib/util/clock.h": '#pragma once\n#include "abi.h"\n',
    "lib/util/fd.h": "#pragma once\n#include <net/if.h>\n",  # the system's net/, not lib/net/
    "lib/net/socket.h": '#pragma once\n#include "util/fd.h"\n#include "abi.h"\n',
    "lib/net/socket.cpp": '#include "net/socket.h"\n',
    "tools/main/main.cpp": '#include "net/socket.h"\n',
}


class CheckLayersTest(unittest.TestCase):
    def test_a_tree_that_keeps_to_its_list_passes_and_shows_its_exceptions(self):
        code, out = run_checker(LAYERS, GOOD)
        self.assertEqual(code, 0, out)
        self.assertIn("lib/util/clock.h:2: tolerated for now (lib/LAYERS:6)", out)
        self.assertIn("1 temporary exception(s) tolerated", out)

    def test_a_forbidden_arrow_fails_with_file_and_line(self):
        files = dict(GOOD, **{"lib/util/fd.h": '#pragma once\n\n#include "net/socket.h"\n'})
        code, out = run_checker(LAYERS, files)
        self.assertEqual(code, 1, out)
        self.assertIn("lib/util/fd.h:3: util -> net is not an allowed arrow", out)

    def test_a_cycle_fails_even_when_its_upward_arrow_is_tolerated(self):
        layers = LAYERS + "# up again, so a cycle\nexcept lib/util/fd.h -> net/socket.h\n"
        files = dict(GOOD, **{"lib/util/fd.h": '#pragma once\n#include "net/socket.h"\n'})
        code, out = run_checker(layers, files)
        self.assertEqual(code, 1, out)
        self.assertIn("cycle net -> util -> net: net -> util at lib/net/socket.h:2; "
                      "util -> net at lib/util/fd.h:2", out)

    def test_a_cycle_between_two_files_of_one_directory_fails(self):
        files = dict(GOOD, **{"lib/util/fd.h": '#pragma once\n#include "util/clock.h"\n',
                              "lib/util/clock.h": '#pragma once\n#include "util/fd.h"\n'})
        code, out = run_checker(LAYERS, files)
        self.assertEqual(code, 1, out)
        self.assertIn("include cycle lib/util/clock.h -> lib/util/fd.h -> lib/util/clock.h", out)
        self.assertIn("check_layers: 2 problem(s)", out)  # and clock.h's exception, now stale

    def test_an_include_in_no_layer_fails(self):
        files = dict(GOOD, **{"lib/net/socket.cpp": '#include "socket.h"\n'})
        code, out = run_checker(LAYERS, files)
        self.assertEqual(code, 1, out)
        self.assertIn('lib/net/socket.cpp:1: "socket.h" is in no layer', out)

    def test_a_directory_the_list_does_not_name_fails(self):
        files = dict(GOOD, **{"lib/extra/thing.h": "#pragma once\n"})
        code, out = run_checker(LAYERS, files)
        self.assertEqual(code, 1, out)
        self.assertIn("lib/extra/: a directory lib/LAYERS does not list", out)

    def test_a_stale_exception_fails(self):
        files = dict(GOOD, **{"lib/util/clock.h": "#pragma once\n"})
        code, out = run_checker(LAYERS, files)
        self.assertEqual(code, 1, out)
        self.assertIn("lib/LAYERS:6: exception lib/util/clock.h -> abi.h matches no", out)

    def test_an_exception_without_a_reason_fails(self):
        layers = LAYERS.replace("# util -> abi: not allowed, here to be tolerated and printed.\n",
                                "")
        code, out = run_checker(layers, GOOD)
        self.assertEqual(code, 1, out)
        self.assertIn("an exception needs a comment above it", out)

    def test_a_list_that_is_not_bottom_up_fails(self):
        layers = LAYERS.replace("util:\n", "") + "util:\n"
        code, out = run_checker(layers, GOOD)
        self.assertEqual(code, 1, out)
        self.assertIn("net -> util: util is not listed above it", out)


if __name__ == "__main__":
    unittest.main()
