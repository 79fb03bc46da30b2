#!/usr/bin/env python3
"""Which router a UDP datagram's TTL runs out at: the multipath testbed's control.

Sends one datagram per socket (each a fresh socket, so a balancer that hashed the socket
rather than the header would scatter them) from SPORT to DEST:DPORT with TTL, and prints the
address of the router that said its TTL ran out (from the socket's error queue), or "*".

usage: path_probe.py DEST TTL SPORT DPORT [DPORT...] [--repeat N]
"""
import argparse
import select
import socket
import struct

IP_RECVERR = 11
WAIT_S = 1.0


def offender(dest, ttl, sport, dport):
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as s:
        s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        s.bind(("0.0.0.0", sport))
        s.setsockopt(socket.IPPROTO_IP, socket.IP_TTL, ttl)
        s.setsockopt(socket.IPPROTO_IP, IP_RECVERR, 1)
        s.connect((dest, dport))
        s.send(b"path_probe" * 2)
        poller = select.poll()
        poller.register(s, select.POLLERR)
        if not poller.poll(WAIT_S * 1000):
            return "*"
        _, ancillary, _, _ = s.recvmsg(256, 512, socket.MSG_ERRQUEUE)
        for level, kind, data in ancillary:
            # struct sock_extended_err (16 bytes), then the offender's sockaddr_in.
            if level == socket.IPPROTO_IP and kind == IP_RECVERR and len(data) >= 24:
                return socket.inet_ntoa(struct.unpack_from("4s", data, 20)[0])
        return "*"


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("dest")
    parser.add_argument("ttl", type=int)
    parser.add_argument("sport", type=int)
    parser.add_argument("dports", type=int, nargs="+")
    parser.add_argument("--repeat", type=int, default=1)
    args = parser.parse_args()
    for dport in args.dports:
        for _ in range(args.repeat):
            print(dport, offender(args.dest, args.ttl, args.sport, dport), flush=True)


if __name__ == "__main__":
    main()
