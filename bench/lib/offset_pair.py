#!/usr/bin/env python3
"""Runs two `ping --json -i INTERVAL` commands side by side, their sends half an interval apart.

usage: offset_pair.py INTERVAL FIRST_OUT SECOND_OUT FIRST_CMD... --- SECOND_CMD...

FIRST (the one with the slower, less predictable start: `docker run`) starts at once; when its
first reply is written, SECOND starts so that its sends fall half an interval after FIRST's.
One process does both, so no interpreter start-up lands between the two. Each command's
stdout goes to its file, stderr to the file + ".err". The offset achieved is for the caller to
measure from the replies' times (send = time - rtt_ms).
"""
import json
import subprocess
import sys
import time

# From Popen to the tool's first send (exec of taskset, setpriv, env, mtool; its socket set-up).
SECOND_START_S = 0.016


def first_send(path):
    try:
        with open(path) as f:
            for line in f:
                if not line.startswith("{"):
                    continue
                try:
                    o = json.loads(line)
                except ValueError:
                    return None  # a line still being written
                if o.get("type") == "reply" and o.get("rtt_ms") is not None:
                    return o["time"] - o["rtt_ms"] / 1e3
    except OSError:
        pass
    return None


def start(cmd, out):
    return subprocess.Popen(cmd, stdout=open(out, "w"), stderr=open(out + ".err", "w"))


def main():
    interval, first_out, second_out = float(sys.argv[1]), sys.argv[2], sys.argv[3]
    rest = sys.argv[4:]
    cut = rest.index("---")
    first_cmd, second_cmd = rest[:cut], rest[cut + 1:]
    first = start(first_cmd, first_out)
    deadline = time.time() + 120  # docker run can take long next to floods
    sent = None
    while sent is None and first.poll() is None and time.time() < deadline:
        time.sleep(0.002)
        sent = first_send(first_out)
    if sent is not None:
        wait = (sent + interval / 2 - SECOND_START_S - time.time()) % interval
        if wait < 0.01:
            wait += interval
        time.sleep(wait)
    second = start(second_cmd, second_out)
    second.wait()
    first.wait()


main()
