#!/usr/bin/env python3
"""Opens COUNT connections to the correlator's socket at PATH, says HELLO on each, prints how
many were answered, and holds them all open until killed: a tenant trying to exhaust the
daemon. usage: hold_connections.py PATH COUNT ABI_VERSION"""
import socket
import struct
import sys
import time

path, count, version = sys.argv[1], int(sys.argv[2]), int(sys.argv[3])
hello = struct.pack("=IIBBHHH", version, 3, 0, 0, 0, 0, 0)  # struct mtool_query, kind HELLO
held, answered = [], 0
for _ in range(count):
    s = socket.socket(socket.AF_UNIX, socket.SOCK_SEQPACKET)
    s.settimeout(2)
    try:
        s.connect(path)
        s.send(hello)
        if s.recv(65536):
            answered += 1
    except OSError:
        pass
    held.append(s)
print(answered, flush=True)
time.sleep(120)
