// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/* Prototype for issue 14 (not product code): stamp the entry of a send call made by a task of a
 * subscribed network namespace, so that the correlator could start a probe's egress at the
 * send call instead of at the first net_dev_queue. Three attachment variants, to measure what
 * each costs every other syscall on the host:
 *   tp_sendto   tracepoint/syscalls/sys_enter_sendto (+ sendmsg): perf's per-syscall bitmap
 *               filters the others before any BPF runs
 *   raw_enter   raw_tp/sys_enter: runs for every syscall, filters on the syscall number
 *   at_queue    tp_btf/net_dev_queue: reads the stamp back (the join the correlator would do) */
#include "vmlinux.h"
#include <bpf/bpf_core_read.h>
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_tracing.h>

char LICENSE[] SEC("license") = "Dual BSD/GPL";
const volatile __u64 host_netns = 0;

struct stamp { __u32 tid; __u32 pad; __u64 ns; };
struct { __uint(type, BPF_MAP_TYPE_PERCPU_ARRAY); __uint(max_entries, 1); __type(key, __u32); __type(value, struct stamp); } stamps SEC(".maps");
struct { __uint(type, BPF_MAP_TYPE_HASH); __uint(max_entries, 1024); __type(key, __u64); __type(value, __u64); } subscribers SEC(".maps");
struct { __uint(type, BPF_MAP_TYPE_PERCPU_ARRAY); __uint(max_entries, 4); __type(key, __u32); __type(value, __u64); } hits SEC(".maps");

static __always_inline void bump(__u32 k) { __u64 *v = bpf_map_lookup_elem(&hits, &k); if (v) (*v)++; }

static __always_inline int stamp_if_subscribed(void)
{
	struct task_struct *task = (struct task_struct *)bpf_get_current_task();
	__u64 netns = BPF_CORE_READ(task, nsproxy, net_ns, net_cookie);
	if (netns == host_netns)
		return 0;
	if (!bpf_map_lookup_elem(&subscribers, &netns))
		return 0;
	__u32 zero = 0;
	struct stamp *s = bpf_map_lookup_elem(&stamps, &zero);
	if (!s)
		return 0;
	s->tid = (__u32)bpf_get_current_pid_tgid();
	s->ns = bpf_ktime_get_ns();
	bump(0);
	return 0;
}

SEC("tracepoint/syscalls/sys_enter_sendto")
int tp_sendto(void *ctx) { return stamp_if_subscribed(); }

SEC("tracepoint/syscalls/sys_enter_sendmsg")
int tp_sendmsg(void *ctx) { return stamp_if_subscribed(); }

SEC("raw_tp/sys_enter")
int BPF_PROG(raw_enter, struct pt_regs *regs, long id)
{
	if (id != 44 /* sendto */ && id != 46 /* sendmsg */)
		return 0;
	return stamp_if_subscribed();
}

SEC("tp_btf/net_dev_queue")
int BPF_PROG(at_queue, struct sk_buff *skb)
{
	__u32 zero = 0;
	struct stamp *s = bpf_map_lookup_elem(&stamps, &zero);
	if (!s || s->tid != (__u32)bpf_get_current_pid_tgid() || s->ns == 0)
		return 0;
	s->ns = 0;
	bump(1);
	return 0;
}
