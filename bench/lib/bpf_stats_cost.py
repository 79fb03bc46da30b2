#!/usr/bin/env python3
"""What BPF run-time statistics (BPF_ENABLE_STATS, kernel.bpf_stats_enabled) add to each run of
any BPF program, such as the correlator's: an empty XDP program run REPEAT times by
BPF_PROG_TEST_RUN (the kernel times the loop), with statistics off and on, alternated ROUNDS
times. Prints "ROUND NS_OFF NS_ON" per round. Root; x86_64 (the bpf() syscall number).
   usage: bench/lib/bpf_stats_cost.py [ROUNDS] [REPEAT]"""
import ctypes
import os
import sys

BPF_PROG_LOAD, BPF_PROG_TEST_RUN, BPF_ENABLE_STATS = 5, 10, 32
BPF_PROG_TYPE_XDP = 6
SYS_BPF = 321  # x86_64
libc = ctypes.CDLL(None, use_errno=True)


def bpf(cmd, attr):
    r = libc.syscall(SYS_BPF, cmd, ctypes.byref(attr), ctypes.sizeof(attr))
    if r < 0:
        raise OSError(ctypes.get_errno(), f"bpf({cmd}): {os.strerror(ctypes.get_errno())}")
    return r


class Load(ctypes.Structure):
    _fields_ = [("prog_type", ctypes.c_uint32), ("insn_cnt", ctypes.c_uint32),
                ("insns", ctypes.c_uint64), ("license", ctypes.c_uint64),
                ("log_level", ctypes.c_uint32), ("log_size", ctypes.c_uint32),
                ("log_buf", ctypes.c_uint64), ("kern_version", ctypes.c_uint32),
                ("prog_flags", ctypes.c_uint32), ("prog_name", ctypes.c_char * 16),
                ("pad", ctypes.c_uint8 * 64)]


class TestRun(ctypes.Structure):
    _fields_ = [("prog_fd", ctypes.c_uint32), ("retval", ctypes.c_uint32),
                ("data_size_in", ctypes.c_uint32), ("data_size_out", ctypes.c_uint32),
                ("data_in", ctypes.c_uint64), ("data_out", ctypes.c_uint64),
                ("repeat", ctypes.c_uint32), ("duration", ctypes.c_uint32),
                ("pad", ctypes.c_uint8 * 64)]


class EnableStats(ctypes.Structure):
    _fields_ = [("type", ctypes.c_uint32), ("pad", ctypes.c_uint8 * 60)]


def main():
    rounds = int(sys.argv[1]) if len(sys.argv) > 1 else 5
    repeat = int(sys.argv[2]) if len(sys.argv) > 2 else 5_000_000
    # r0 = XDP_PASS (2); exit
    insns = (ctypes.c_uint64 * 2)(0x00000002000000b7, 0x0000000000000095)
    license = ctypes.create_string_buffer(b"GPL")
    load = Load(prog_type=BPF_PROG_TYPE_XDP, insn_cnt=2, insns=ctypes.addressof(insns),
                license=ctypes.addressof(license), prog_name=b"mtool_bench")
    prog = bpf(BPF_PROG_LOAD, load)
    packet = ctypes.create_string_buffer(64)

    def ns_per_run():
        run = TestRun(prog_fd=prog, data_size_in=64, data_in=ctypes.addressof(packet),
                      repeat=repeat)
        bpf(BPF_PROG_TEST_RUN, run)
        return run.duration

    for r in range(1, rounds + 1):
        off = ns_per_run()
        stats = bpf(BPF_ENABLE_STATS, EnableStats(type=0))  # BPF_STATS_RUN_TIME, held by the fd
        on = ns_per_run()
        os.close(stats)
        print(f"{r} {off} {on}")
    os.close(prog)


main()
