#!/usr/bin/env python3
"""Binds the correlator's abstract name ("\\0mtool-correlator") in the network namespace it runs
in and answers like a correlator would, with made-up records: a squatter, or (seen from outside
its pid namespace) a stand-in for the real one. Prints "pid N" once listening, then "query K"
for every query it gets.
usage: fake_correlator.py HELLO_ANSWER_HEX RECORD_ANSWER_HEX TIMES_OFFSET
A RECORD query is answered with RECORD_ANSWER, whose four record times (sender_tx, uplink_tx,
uplink_rx, sender_rx; u64 at TIMES_OFFSET) are made fresh: now, +100, +200, +300 ns."""
import os
import socket
import struct
import sys
import time

hello = bytes.fromhex(sys.argv[1])
record = bytearray.fromhex(sys.argv[2])
times_at = int(sys.argv[3])

server = socket.socket(socket.AF_UNIX, socket.SOCK_SEQPACKET)
server.bind("\0mtool-correlator")
server.listen(8)
print("pid", os.getpid(), flush=True)
while True:
    conn, _ = server.accept()
    with conn:
        while True:
            try:
                query = conn.recv(4096)
            except OSError:
                break
            if len(query) < 8:
                break
            kind = struct.unpack_from("=I", query, 4)[0]
            print("query", kind, flush=True)
            if kind == 3:
                conn.send(hello)
            else:
                now = time.clock_gettime_ns(time.CLOCK_MONOTONIC)
                struct.pack_into("=QQQQ", record, times_at, now, now + 100, now + 200, now + 300)
                conn.send(bytes(record))
