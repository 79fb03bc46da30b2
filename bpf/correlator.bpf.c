// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/* mtool's correlator, kernel side.
 *
 * Follows each probe that a container sends through the host's virtual devices (ICMP echo;
 * UDP and TCP SYN with a traceroute's small TTL), and its reply back (echo reply, TCP SYN-ACK
 * or reset, or an ICMP error quoting the probe), and writes one record per answered probe
 * (bpf/correlator_abi.h):
 *
 *   request: sender's device (net_dev_queue, netns != host)    egress starts
 *            ... veth peer, bridge, NAT ...                    crossings
 *            uplink (net_dev_queue, host netns, uplinks map)   egress ends -> `waiting`
 *   reply:   uplink (netif_rx / netif_receive_skb)             matched in `waiting` by its
 *                                                              post-NAT identity; ingress starts
 *            ... bridge, veth peer ...                         crossings
 *            sender's device (receive, sender's netns)         ingress ends -> `records`
 *
 * Within the host a packet keeps its buffer (skb) from device to device, so a probe in flight
 * is found by its skb pointer; the protocol identity is checked at each step because buffers
 * are reused. Across the uplink the request and the reply are different buffers, joined by the
 * identity the uplink saw (addresses, identifier after NAT, sequence; for a raw socket's UDP
 * probe its checksum after NAT too: probes of a Paris flow share everything else). A reply the host makes
 * itself (its gateway address answering time exceeded; a host address as the target) never
 * reaches an uplink: it is joined to its probe by the probe's pre-NAT identity (`outbound`) and
 * recorded as answered inside the host.
 *
 * Cost: a packet that is not IPv4/IPv6 leaves after one field load; one that is not ICMP, UDP
 * or TCP after one 28/48-byte read (TCP: one more 20-byte read). Nothing is printed per
 * packet.
 *
 * Here: the programs (which hooks, what each packet costs before the state machine sees it).
 * packet.bpf.h parses, maps.bpf.h holds the state, state_machine.bpf.h decides. */
#include "vmlinux.h"

#include <bpf/bpf_core_read.h>
#include <bpf/bpf_endian.h>
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_tracing.h>

#include "correlator_abi.h"
#include "maps.bpf.h"
#include "packet.bpf.h"
#include "state_machine.bpf.h"

char LICENSE[] SEC("license") = "Dual BSD/GPL";

/* Whether the current task is sending `skb` itself: in a system call whose first argument
 * (the descriptor of send, sendto, sendmsg, sendmmsg, write, connect) is the skb's own socket.
 * The kernel also transmits from softirqs (a neighbour resolution's queue, a timer), in the
 * context of whatever task they interrupted, maybe one of the probe's namespace: that task is
 * not the sender. The preempt count cannot say so (a per-CPU kernel variable, unreachable
 * without CONFIG_KALLSYMS_ALL), nor the stack in use (BPF programs may run on a private stack;
 * an interrupt from user mode serves its softirqs on the task's own). Only probe packets that
 * start a flight pay for these reads. */
static __always_inline bool sending_itself(struct sk_buff *skb)
{
	struct file *socket_file = BPF_CORE_READ(skb, sk, sk_socket, file);
	if (!socket_file)
		return false;
	struct task_struct *task = bpf_get_current_task_btf();
	struct pt_regs *regs = (struct pt_regs *)bpf_task_pt_regs(task);
#ifdef bpf_target_x86
	if ((long)BPF_CORE_READ(regs, orig_ax) < 0)
		return false; /* interrupted in user space, not in a system call */
#endif
	long fd = PT_REGS_PARM1_CORE_SYSCALL(regs);
	struct fdtable *fdt = BPF_CORE_READ(task, files, fdt);
	if (fd < 0 || !fdt || fd >= BPF_CORE_READ(fdt, max_fds))
		return false;
	struct file **fds = BPF_CORE_READ(fdt, fd);
	struct file *file = NULL;
	bpf_probe_read_kernel(&file, sizeof(file), &fds[fd]);
	return file == socket_file;
}

/* Whether `skb` comes from a raw socket: the one kind whose UDP checksum is its sender's own,
 * final at every device (see the ABI). Read only for UDP probes that may start a flight. */
static __always_inline bool from_raw_socket(struct sk_buff *skb)
{
	return BPF_CORE_READ(skb, sk, sk_type) == SOCK_RAW;
}

static __always_inline int handle(const void *ctx, struct sk_buff *skb, __u32 hook, const bool btf)
{
#ifdef MTOOL_BPF_EMPTY
	return 0; /* benchmark floor: the cost of being attached at all (bench/correlator_cost.sh) */
#endif
	__u16 ethertype = btf ? skb->protocol : BPF_CORE_READ(skb, protocol);
	if (ethertype != bpf_htons(ETH_P_IP) && ethertype != bpf_htons(ETH_P_IPV6))
		return 0;

	struct net_device *dev = btf ? skb->dev : BPF_CORE_READ(skb, dev);
	if (!dev)
		return 0;
	__u64 netns = btf ? dev->nd_net.net->net_cookie : BPF_CORE_READ(dev, nd_net.net, net_cookie);
	/* Without a probe in the host lately, only a container's transmission can matter (it may
	 * start one; with follow_host_probes, the host's too): everything else leaves here,
	 * before any packet read. */
	const bool may_start_probe =
		hook == MTOOL_HOOK_DEV_QUEUE && (netns != host_netns || follow_host_probes);
	if (!may_start_probe) {
		__u64 jiffies = bpf_jiffies64();
		if (jiffies - last_probe_jiffies > RECENT_PROBE_JIFFIES)
			return 0;
	}

	/* Sending, the skb's data starts at the link-layer header; receiving, at the network
	 * header (the link layer has been pulled). */
	const void *l3;
	if (hook == MTOOL_HOOK_DEV_QUEUE) {
		if (btf)
			l3 = skb->head + skb->network_header;
		else
			l3 = BPF_CORE_READ(skb, head) + BPF_CORE_READ(skb, network_header);
	} else {
		l3 = btf ? skb->data : BPF_CORE_READ(skb, data);
	}
	struct probe_packet p;
	if (parse_probe(l3, ethertype, &p) == KIND_NONE)
		return 0;

	/* The skb's address identifies the packet. A BTF-typed pointer allows no arithmetic, so
	 * take the tracepoint's raw argument as a number (only probe packets get this far). */
	__u64 skb_id = 0;
	if (btf)
		bpf_probe_read_kernel(&skb_id, sizeof(skb_id), ctx);
	else
		skb_id = (__u64)skb;
	__u32 ifindex = btf ? dev->ifindex : BPF_CORE_READ(dev, ifindex);
	if (netns != host_netns && hook == MTOOL_HOOK_DEV_QUEUE) {
		/* A namespace sending: no flight can be on this packet yet (flights start here or at
		 * the uplink), so settle it without looking one up. */
		if (p.kind == KIND_REPLY) {
			at_local_target(skb_id, &p, ifindex, netns, hook, dev); /* a local target answering */
			return 0;
		}
		if (!bpf_map_lookup_elem(&subscribers, &netns))
			return 0; /* nobody in that namespace asked for corrections */
	}
	/* The receive timestamp the kernel gave the packet, if any (realtime stamps only). */
	__u64 rx_stamp = 0;
	if (btf && hook != MTOOL_HOOK_DEV_QUEUE) {
		/* tstamp_type (6.x) says which clock; older kernels lack it and stamp realtime
		 * unless a delivery time is set, which receive_time()'s age check rejects. */
		if (bpf_core_field_exists(skb->tstamp_type)) {
			if (BPF_CORE_READ_BITFIELD(skb, tstamp_type) == 0)
				rx_stamp = skb->tstamp;
		} else {
			rx_stamp = skb->tstamp;
		}
	}
	/* Who sent it, when a namespace starts a probe in its sender's own send call (the usual
	 * case: the call runs down to the device); 0 when the kernel sends it later from
	 * elsewhere (sending_itself()). */
	__u32 sender_pid = 0;
	if (may_start_probe && sending_itself(skb))
		sender_pid = bpf_get_current_pid_tgid() >> 32;
	if (may_start_probe && p.protocol == IPPROTO_UDP_ && p.kind == KIND_REQUEST)
		p.raw_socket = from_raw_socket(skb);
	/* Where it came in (0: the host made it), for telling the host's own answers from a
	 * neighbour's forgeries; only sends toward a container need it. */
	__u32 input_ifindex = 0;
	if (netns == host_netns && hook == MTOOL_HOOK_DEV_QUEUE)
		input_ifindex = btf ? skb->skb_iif : BPF_CORE_READ(skb, skb_iif);
	observe(skb_id, &p, rx_stamp, ifindex, netns, hook, dev, input_ifindex, sender_pid);
	return 0;
}

/* BTF-typed tracepoints: direct, fault-safe loads from the skb. */
SEC("tp_btf/net_dev_queue")
int BPF_PROG(btf_dev_queue, struct sk_buff *skb)
{
	return handle(ctx, skb, MTOOL_HOOK_DEV_QUEUE, true);
}

SEC("tp_btf/netif_rx")
int BPF_PROG(btf_netif_rx, struct sk_buff *skb)
{
	return handle(ctx, skb, MTOOL_HOOK_NETIF_RX, true);
}

SEC("tp_btf/netif_receive_skb")
int BPF_PROG(btf_receive_skb, struct sk_buff *skb)
{
	return handle(ctx, skb, MTOOL_HOOK_RECEIVE_SKB, true);
}

/* Raw tracepoints: the fallback where tp_btf does not load (the tests drive observe() through
 * test_crossing below instead). */
SEC("raw_tp/net_dev_queue")
int BPF_PROG(raw_dev_queue, struct sk_buff *skb)
{
	return handle(ctx, skb, MTOOL_HOOK_DEV_QUEUE, false);
}

SEC("raw_tp/netif_rx")
int BPF_PROG(raw_netif_rx, struct sk_buff *skb)
{
	return handle(ctx, skb, MTOOL_HOOK_NETIF_RX, false);
}

SEC("raw_tp/netif_receive_skb")
int BPF_PROG(raw_receive_skb, struct sk_buff *skb)
{
	return handle(ctx, skb, MTOOL_HOOK_RECEIVE_SKB, false);
}

/* For tests only (not loaded by the daemon): drives observe() with a synthetic crossing under
 * BPF_PROG_TEST_RUN. The packet is a struct mtool_test_crossing followed by an IP packet. */
SEC("xdp")
int test_crossing(struct xdp_md *ctx)
{
	void *data = (void *)(long)ctx->data;
	void *end = (void *)(long)ctx->data_end;
	struct mtool_test_crossing *c = data;
	if ((void *)(c + 1) > end)
		return XDP_ABORTED;
	struct probe_packet p;
	if (parse_probe((void *)(c + 1), bpf_htons(c->ethertype), &p) == KIND_NONE)
		return XDP_PASS;
	p.raw_socket = c->raw_socket != 0;
	observe(c->skb_id, &p, 0, c->ifindex, c->netns, c->hook, NULL, c->input_ifindex,
		c->sender_pid);
	return XDP_DROP;
}
