// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/* The state machine: what one crossing of one probe packet means (observe()), from the start
 * of a flight at the sender's device to the record written at its reply's arrival. */
#pragma once

#include "vmlinux.h"

#include <bpf/bpf_core_read.h>
#include <bpf/bpf_endian.h>
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_tracing.h>

#include "correlator_abi.h"

#include "histograms.bpf.h"
#include "maps.bpf.h"
#include "packet.bpf.h"

#define FLIGHT_MAX_GAP_NS (1000ULL * 1000 * 1000) /* a buffer idle this long is not in flight */
/* How long an identifier stays "possibly waiting": MTOOL_FLIGHT_TTL_S at HZ <= 1000 (longer at
 * lower HZ, which only costs a few lookups). */
#define WAITING_WINDOW_JIFFIES (MTOOL_FLIGHT_TTL_S * 1000ULL)

static __always_inline void remember_device_name(__u64 netns, __u32 ifindex,
						 struct net_device *dev)
{
	if (!dev)
		return;
	struct mtool_device_key key = {.netns = netns, .ifindex = ifindex};
	if (bpf_map_lookup_elem(&devices, &key))
		return;
	struct mtool_device_name name = {};
	bpf_probe_read_kernel_str(name.name, sizeof(name.name), &dev->name);
	bpf_map_update_elem(&devices, &key, &name, BPF_NOEXIST);
}

static __always_inline void append_crossing(struct mtool_flight *f, __u64 now, __u32 ifindex,
					    __u64 netns, __u32 hook)
{
	struct mtool_crossing *slot;
	__u8 n;
	if (f->direction == 0) {
		n = f->record.egress_count;
		if (n >= MTOOL_MAX_CROSSINGS) {
			count(MTOOL_CTR_TOO_MANY_CROSSINGS);
			return;
		}
		slot = &f->record.egress[n & (MTOOL_MAX_CROSSINGS - 1)];
		f->record.egress_count = n + 1;
	} else {
		n = f->record.ingress_count;
		if (n >= MTOOL_MAX_CROSSINGS) {
			count(MTOOL_CTR_TOO_MANY_CROSSINGS);
			return;
		}
		slot = &f->record.ingress[n & (MTOOL_MAX_CROSSINGS - 1)];
		f->record.ingress_count = n + 1;
	}
	slot->time_ns = now;
	slot->ifindex = ifindex;
	slot->netns = netns;
	slot->hook = hook;
	f->last_seen_ns = now;
}

static __always_inline bool is_uplink(__u64 netns, __u32 ifindex)
{
	if (netns != host_netns)
		return false;
	__u32 slot = ifindex & (MTOOL_UPLINK_SLOTS - 1);
	__u32 *uplink = bpf_map_lookup_elem(&uplinks, &slot);
	return uplink && *uplink == ifindex && ifindex != 0;
}

/* `checksum`: what the key holds there (0, or a raw UDP probe's checksum: see the ABI). */
static __always_inline void wire_key_of(const struct probe_packet *p, bool reply, __u16 checksum,
					struct mtool_wire_key *k)
{
	__builtin_memset(k, 0, sizeof(*k));
	/* The request goes local -> remote; its reply remote -> local. */
	if (reply) {
		__builtin_memcpy(k->local, p->dst, 16);
		__builtin_memcpy(k->remote, p->src, 16);
	} else {
		__builtin_memcpy(k->local, p->src, 16);
		__builtin_memcpy(k->remote, p->dst, 16);
	}
	k->family = p->family;
	k->protocol = p->protocol;
	k->flow = p->flow;
	k->sequence = p->sequence;
	k->checksum = checksum;
}

/* The waiting probe a packet on the far side of NAT belongs to (its request reaching a local
 * target, or a reply), and its key in `k`. A raw UDP probe waits under its checksum, any other
 * under 0, and the packet cannot tell which: a UDP packet tries its checksum, then 0. */
static __always_inline struct mtool_flight *find_waiting(const struct probe_packet *p, bool reply,
							 struct mtool_wire_key *k)
{
	wire_key_of(p, reply, p->checksum, k);
	if (p->checksum != 0) {
		struct mtool_flight *w = bpf_map_lookup_elem(&waiting, k);
		if (w)
			return w;
		k->checksum = 0;
	}
	return bpf_map_lookup_elem(&waiting, k);
}

static __always_inline __u32 slot_of(__u64 skb_id)
{
	/* skbs are slab objects: drop the low bits, fold in higher ones. */
	return (__u32)((skb_id >> 8) ^ (skb_id >> 20)) & (MTOOL_FLIGHT_SLOTS - 1);
}

static __always_inline bool same_wire_key(const struct mtool_wire_key *a,
					  const struct mtool_wire_key *b)
{
	const __u8 *x = (const __u8 *)a;
	const __u8 *y = (const __u8 *)b;
	__u8 differ = 0;
#pragma unroll
	for (int i = 0; i < (int)sizeof(*a); i++)
		differ |= x[i] ^ y[i];
	return differ == 0;
}

static __always_inline __u32 outbound_slot(__u16 flow, __u16 sequence, __u16 checksum)
{
	return ((__u32)flow * 0x9E37 ^ (__u32)sequence * 0x85EB ^ (__u32)checksum * 0xC2B3) &
	       (MTOOL_OUTBOUND_SLOTS - 1);
}

/* Claims slot `f` for a new flight of `skb_id`, counting a displaced live one. */
static __always_inline void claim(struct mtool_flight *f, __u64 skb_id, __u64 now)
{
	if (f->skb != 0 && now - f->last_seen_ns < FLIGHT_MAX_GAP_NS)
		count(MTOOL_CTR_SLOT_COLLISIONS);
	f->skb = skb_id;
}

static __always_inline bool may_be_waiting(__u16 flow)
{
	__u32 key = flow;
	__u64 *since = bpf_map_lookup_elem(&waiting_flows, &key);
	return since && *since != 0 && bpf_jiffies64() - *since < WAITING_WINDOW_JIFFIES;
}

/* Whether namespace `s` may have one more probe followed now (GCRA; racing CPUs may let a
 * few more through, which only loosens the bound). */
static __always_inline bool within_rate(struct mtool_subscriber *s, __u64 now)
{
	__u64 next = s->next_probe_ns;
	if (next < now)
		next = now;
	if (next - now > probe_burst_ns) {
		count(MTOOL_CTR_RATE_LIMITED);
		return false;
	}
	s->next_probe_ns = next + probe_interval_ns;
	return true;
}

static __always_inline void start_egress(struct mtool_flight *f, __u64 skb_id,
					 const struct probe_packet *p, __u64 now, __u32 ifindex,
					 __u64 netns, __u32 hook, __u32 sender_pid)
{
	claim(f, skb_id, now);
	__builtin_memset(&f->record, 0, sizeof(f->record));
	f->record.key.netns = netns;
	f->record.sender_pid = sender_pid;
	f->record.key.family = p->family;
	f->record.key.protocol = p->protocol;
	f->record.key.flow = p->flow;
	f->record.key.sequence = p->sequence;
	/* Only a raw socket's checksum is final here and known to its sender (see the ABI). */
	f->record.key.checksum = p->raw_socket ? p->checksum : 0;
	f->record.sender_tx_ns = now;
	f->current_flow = p->flow;
	f->direction = 0;
	append_crossing(f, now, ifindex, netns, hook);
	last_probe_jiffies = bpf_jiffies64();
	count(MTOOL_CTR_EGRESS_STARTED);
	/* Where this flight is, by the probe's own (pre-NAT) identity, in case the host itself
	 * answers it (start_inside). */
	__u32 at = outbound_slot(p->flow, p->sequence, f->record.key.checksum);
	struct mtool_outbound *o = bpf_map_lookup_elem(&outbound, &at);
	if (o) {
		wire_key_of(p, false, f->record.key.checksum, &o->key);
		o->slot = slot_of(skb_id);
		o->netns = netns;
	}
}

/* When the reply was stamped for its socket (SO_TIMESTAMP, CLOCK_REALTIME `rx_stamp`), on our
 * clock: the ingress then ends exactly where the tool's RTT does, even if something (an
 * interrupt, a stolen vCPU) ran between the stamp and this tracepoint. */
static __always_inline __u64 receive_time(__u64 now, __u64 rx_stamp)
{
	if (rx_stamp == 0)
		return now;
	__u32 zero = 0;
	struct mtool_info *info = bpf_map_lookup_elem(&info_map, &zero);
	if (!info)
		return now;
	__u64 real_now = bpf_ktime_get_tai_ns() - (__s64)info->tai_offset_s * 1000000000LL;
	__u64 age = real_now - rx_stamp;
	if (real_now < rx_stamp || age > 1000000 /* 1 ms: not this packet's stamp */)
		return now;
	return now - age;
}

/* Whether the reply belonged to a waiting probe (whose flight `f` now carries). */
static __always_inline bool start_ingress(struct mtool_flight *f, __u64 skb_id,
					  const struct probe_packet *p, __u64 now, __u64 rx_stamp,
					  __u32 ifindex, __u64 netns, __u32 hook)
{
	struct mtool_wire_key k;
	struct mtool_flight *w = find_waiting(p, true, &k);
	if (!w) {
		count(MTOOL_CTR_UNMATCHED_REPLIES);
		return false;
	}
	claim(f, skb_id, now);
	__builtin_memcpy(&f->record, &w->record, sizeof(f->record));
	if (bpf_map_delete_elem(&waiting, &k) == 0) {
		struct mtool_subscriber *s = bpf_map_lookup_elem(&subscribers, &f->record.key.netns);
		if (s)
			__sync_fetch_and_add(&s->waiting, -1);
	}
	f->direction = 1;
	f->current_flow = p->flow;
	/* The reply reached the host when the kernel stamped it on this device, before this
	 * program ran (other programs on the tracepoint, an interrupt, a stolen vCPU may come
	 * between): where a tool on the host ends its RTT, so the ingress starts there too (the
	 * program's own reading made it look shorter by that delay). A stamp from before the
	 * request left cannot be this reply's (seen once in 20000 replies here). */
	__u64 stamped = receive_time(now, rx_stamp);
	f->record.uplink_rx_ns = stamped >= f->record.uplink_tx_ns ? stamped : now;
	append_crossing(f, now, ifindex, netns, hook);
	count(MTOOL_CTR_REPLIES_MATCHED);
	return true;
}

/* The host itself answers a probe that never reached an uplink (time exceeded from the
 * container's gateway, or a host address as the target): the reply starts its way in here, on
 * a host device, and is joined to the probe's flight by the probe's pre-NAT identity. */
static __always_inline bool start_inside(__u64 skb_id, const struct probe_packet *p,
					 __u32 ifindex, __u64 netns, __u32 hook, __u32 input_ifindex)
{
	/* A raw UDP probe is in the slot of its checksum, any other in that of 0 (as in
	 * find_waiting()). */
	__u16 checksum = p->checksum;
	__u32 at = outbound_slot(p->flow, p->sequence, checksum);
	struct mtool_outbound *o = bpf_map_lookup_elem(&outbound, &at);
	if (checksum != 0 && !(o && o->key.checksum == checksum)) {
		checksum = 0;
		at = outbound_slot(p->flow, p->sequence, 0);
		o = bpf_map_lookup_elem(&outbound, &at);
	}
	/* Most replies here are forwarded ones, for probes not in this slot: two compares. */
	if (!o || o->key.flow != p->flow || o->key.sequence != p->sequence)
		return false;
	struct mtool_wire_key k;
	wire_key_of(p, true, checksum, &k);
	if (!same_wire_key(&o->key, &k))
		return false;
	/* Made by the host, not forwarded: a neighbour on the bridge forging the answer arrived
	 * through a device (skb_iif), a reply the host's own stack makes did not. */
	if (input_ifindex != 0) {
		count(MTOOL_CTR_FOREIGN_CROSSINGS);
		return false;
	}
	__u64 now = bpf_ktime_get_ns();
	__u32 slot = o->slot;
	__u64 sender_netns = o->netns;
	struct mtool_flight *f = bpf_map_lookup_elem(&flights, &slot);
	/* The flight must still be this probe's, on its way out, and never have left the host. */
	if (!f || f->direction != 0 || f->record.uplink_tx_ns != 0 ||
	    f->record.key.netns != sender_netns || f->record.key.protocol != p->protocol ||
	    f->record.key.flow != p->flow || f->record.key.sequence != p->sequence ||
	    f->record.key.checksum != checksum || now - f->last_seen_ns >= FLIGHT_MAX_GAP_NS)
		return false;
	o->slot = MTOOL_FLIGHT_SLOTS; /* used: a second reply finds nothing */
	__u64 turned_at = f->last_seen_ns; /* the request's last crossing */
	__u32 reply_slot = slot_of(skb_id);
	struct mtool_flight *g = bpf_map_lookup_elem(&flights, &reply_slot);
	if (!g)
		return false;
	if (g != f) {
		claim(g, skb_id, now);
		__builtin_memcpy(&g->record, &f->record, sizeof(g->record));
		f->skb = 0;
	} else {
		g->skb = skb_id;
	}
	g->record.uplink_tx_ns = turned_at;
	g->record.uplink_rx_ns = now;
	g->record.flags |= MTOOL_RECORD_ANSWERED_INSIDE;
	g->direction = 1;
	g->current_flow = p->flow;
	append_crossing(g, now, ifindex, netns, hook);
	count(MTOOL_CTR_REPLIES_MATCHED);
	return true;
}

/* Puts a probe that left through the uplink into `waiting`, within its namespace's quota. */
static __always_inline bool enter_waiting(const struct mtool_wire_key *k, struct mtool_flight *f)
{
	struct mtool_subscriber *s = bpf_map_lookup_elem(&subscribers, &f->record.key.netns);
	if (s && s->waiting >= MTOOL_WAITING_PER_NAMESPACE) {
		count(MTOOL_CTR_QUOTA_FULL);
		return false;
	}
	/* The same identity again (a retransmission, a wrapped sequence) replaces its entry and
	 * is counted once. */
	if (bpf_map_update_elem(&waiting, k, f, BPF_NOEXIST) == 0) {
		if (s)
			__sync_fetch_and_add(&s->waiting, 1);
		return true;
	}
	if (bpf_map_update_elem(&waiting, k, f, BPF_EXIST) == 0)
		return true;
	count(MTOOL_CTR_MAP_FULL);
	return false;
}

/* The probe leaves the host: it waits for its reply under its identity on the wire. */
static __always_inline void leave_by_uplink(struct mtool_flight *f, const struct probe_packet *p,
					    __u64 now, __u32 ifindex)
{
	f->record.uplink_tx_ns = now;
	f->record.uplink_ifindex = ifindex;
	f->record.wire_flow = p->flow;
	struct mtool_wire_key k;
	/* NAT rewrote a raw probe's checksum with its addresses: its reply quotes this one. */
	wire_key_of(p, false, f->record.key.checksum != 0 ? p->checksum : 0, &k);
	if (enter_waiting(&k, f)) {
		__u32 flow = p->flow;
		__u64 *since = bpf_map_lookup_elem(&waiting_flows, &flow);
		if (since)
			*since = bpf_jiffies64();
		count(MTOOL_CTR_EGRESS_COMPLETED);
	}
	f->skb = 0;
}

/* The reply reached its sender's namespace (on `dev`): the record is complete. */
static __always_inline void arrive(struct mtool_flight *f, __u64 now, __u64 rx_stamp,
				   struct net_device *dev)
{
	f->record.sender_rx_ns = receive_time(now, rx_stamp);
	if (f->record.sender_rx_ns < f->record.uplink_rx_ns)
		f->record.sender_rx_ns = now;
	if (bpf_map_update_elem(&records, &f->record.key, &f->record, BPF_ANY)) {
		count(MTOOL_CTR_MAP_FULL);
	} else {
		count(MTOOL_CTR_RECORDS_WRITTEN);
		note_overheads(&f->record, dev);
	}
	f->skb = 0;
}

/* One step of a probe already in flight. */
static __always_inline void follow(struct mtool_flight *f, const struct probe_packet *p,
				   __u64 now, __u64 rx_stamp, __u32 ifindex, __u64 netns, __u32 hook,
				   struct net_device *dev)
{
	f->current_flow = p->flow;
	append_crossing(f, now, ifindex, netns, hook);
	if (f->direction == 0) {
		if (hook == MTOOL_HOOK_DEV_QUEUE && is_uplink(netns, ifindex))
			leave_by_uplink(f, p, now, ifindex);
		return;
	}
	if (hook == MTOOL_HOOK_DEV_QUEUE || netns != f->record.key.netns ||
	    p->flow != f->record.key.flow)
		return;
	arrive(f, now, rx_stamp, dev);
}

/* A probe that left through the uplink reached a target in another namespace of this host (or
 * that target's reply is leaving): note it on the waiting probe. */
static __always_inline void at_local_target(__u64 skb_id, const struct probe_packet *p,
					    __u32 ifindex, __u64 netns, __u32 hook,
					    struct net_device *dev)
{
	if (!may_be_waiting(p->flow))
		return;
	struct mtool_wire_key k;
	struct mtool_flight *f = find_waiting(p, p->kind == KIND_REPLY, &k);
	if (!f)
		return;
	__u8 n = f->record.target_count;
	if (n >= MTOOL_MAX_TARGET_CROSSINGS)
		return;
	/* Only where the probe went: the request in the very buffer that left the uplink (a
	 * forged copy is another buffer), the reply from the namespace that request reached (a
	 * neighbour forging it sends from its own). Anything else would skew the give-back. */
	if (p->kind == KIND_REQUEST ? skb_id != f->skb
				    : n == 0 || f->record.target[0].netns != netns) {
		count(MTOOL_CTR_FOREIGN_CROSSINGS);
		return;
	}
	struct mtool_crossing *slot = &f->record.target[n & (MTOOL_MAX_TARGET_CROSSINGS - 1)];
	slot->time_ns = bpf_ktime_get_ns();
	slot->ifindex = ifindex;
	slot->netns = netns;
	slot->hook = hook;
	f->record.target_count = n + 1;
	remember_device_name(netns, ifindex, dev);
}

/* A subscribed namespace's probe within its rate starts a flight here; whether it did. */
static __always_inline bool start_followed(struct mtool_flight *f, __u64 skb_id,
					   const struct probe_packet *p, __u32 ifindex, __u64 netns,
					   __u32 hook, struct net_device *dev, __u32 sender_pid,
					   __u64 *now)
{
	struct mtool_subscriber *s = bpf_map_lookup_elem(&subscribers, &netns);
	if (!s)
		return false; /* nobody in that namespace asked for corrections */
	*now = bpf_ktime_get_ns();
	if (!within_rate(s, *now))
		return false;
	remember_device_name(netns, ifindex, dev);
	start_egress(f, skb_id, p, *now, ifindex, netns, hook, sender_pid);
	return true;
}

/* A flight found under this skb belongs to this packet only if the packet still looks like
 * it: same direction, same sequence (NAT keeps it), and not idle for long. */
static __always_inline bool same_packet(const struct mtool_flight *f, const struct probe_packet *p,
					__u64 now)
{
	__u8 expected = f->direction == 0 ? KIND_REQUEST : KIND_REPLY;
	return p->kind == expected && p->sequence == f->record.key.sequence &&
	       p->family == f->record.key.family && now - f->last_seen_ns < FLIGHT_MAX_GAP_NS;
}

/* The state machine: what one crossing of one probe packet means. `dev` may be NULL (tests).
 * Only the packets it acts on pay for a clock read or a hash lookup. */
static __always_inline void observe(__u64 skb_id, const struct probe_packet *p, __u64 rx_stamp,
				    __u32 ifindex, __u64 netns, __u32 hook, struct net_device *dev,
				    __u32 input_ifindex, __u32 sender_pid)
{
	__u32 slot = slot_of(skb_id);
	struct mtool_flight *f = bpf_map_lookup_elem(&flights, &slot);
	if (!f)
		return;
	if (f->skb == skb_id) {
		__u64 now = bpf_ktime_get_ns();
		if (same_packet(f, p, now)) {
			remember_device_name(netns, ifindex, dev);
			follow(f, p, now, rx_stamp, ifindex, netns, hook, dev);
			return;
		}
		/* The buffer was freed and reused: the old flight ended unseen. */
		f->skb = 0;
		count(MTOOL_CTR_STALE_FLIGHTS);
	}

	const bool sending = hook == MTOOL_HOOK_DEV_QUEUE;
	if (p->kind == KIND_REQUEST) {
		__u64 now;
		if (netns == host_netns) {
			/* --follow-host-probes: a host probe starts and leaves at the uplink at once
			 * (its egress is nil by definition). */
			if (follow_host_probes && sending && is_uplink(netns, ifindex) &&
			    start_followed(f, skb_id, p, ifindex, netns, hook, dev, sender_pid, &now))
				leave_by_uplink(f, p, now, ifindex);
			return;
		}
		if (sending) {
			start_followed(f, skb_id, p, ifindex, netns, hook, dev, sender_pid, &now);
		} else {
			at_local_target(skb_id, p, ifindex, netns, hook, dev);
		}
	} else if (!sending && is_uplink(netns, ifindex)) {
		if (!may_be_waiting(p->flow))
			return; /* e.g. the host's own pings */
		remember_device_name(netns, ifindex, dev);
		if (!start_ingress(f, skb_id, p, bpf_ktime_get_ns(), rx_stamp, ifindex, netns, hook))
			return;
		if (follow_host_probes && f->record.key.netns == host_netns)
			arrive(f, f->record.uplink_rx_ns, 0, dev); /* its socket is right here: ingress nil */
	} else if (sending && netns != host_netns) {
		at_local_target(skb_id, p, ifindex, netns, hook, dev);
	} else if (sending && !is_uplink(netns, ifindex)) {
		/* The host sending a reply toward a container: maybe one it made itself. */
		if (start_inside(skb_id, p, ifindex, netns, hook, input_ifindex))
			remember_device_name(netns, ifindex, dev);
	}
}
