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
 * identity the uplink saw (addresses, identifier after NAT, sequence). A reply the host makes
 * itself (its gateway address answering time exceeded; a host address as the target) never
 * reaches an uplink: it is joined to its probe by the probe's pre-NAT identity (`outbound`) and
 * recorded as answered inside the host.
 *
 * Cost: a packet that is not IPv4/IPv6 leaves after one field load; one that is not ICMP, UDP
 * or TCP after one 28/48-byte read (TCP: one more 20-byte read). Nothing is printed per
 * packet. */
#include "vmlinux.h"

#include <bpf/bpf_core_read.h>
#include <bpf/bpf_endian.h>
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_tracing.h>

#include "correlator_abi.h"

char LICENSE[] SEC("license") = "Dual BSD/GPL";

#define ETH_P_IP 0x0800
#define ETH_P_IPV6 0x86DD
#define AF_INET 2
#define AF_INET6 10
#define IPPROTO_ICMP_ 1
#define IPPROTO_ICMPV6_ 58
#define ICMP_ECHO_REQUEST 8
#define ICMP_ECHO_REPLY 0
#define ICMPV6_ECHO_REQUEST 128
#define ICMPV6_ECHO_REPLY 129
#define IPPROTO_TCP_ 6
#define IPPROTO_UDP_ 17
#define ICMP_DEST_UNREACH_ 3
#define ICMP_TIME_EXCEEDED_ 11
#define ICMPV6_DEST_UNREACH_ 1
#define ICMPV6_PKT_TOOBIG_ 2
#define ICMPV6_TIME_EXCEED_ 3
#define TCP_SYN 0x02
#define TCP_RST 0x04
#define TCP_ACK 0x10
#define FLIGHT_MAX_GAP_NS (1000ULL * 1000 * 1000) /* a buffer idle this long is not in flight */
/* How long an identifier stays "possibly waiting": MTOOL_FLIGHT_TTL_S at HZ <= 1000 (longer at
 * lower HZ, which only costs a few lookups). */
#define WAITING_WINDOW_JIFFIES (MTOOL_FLIGHT_TTL_S * 1000ULL)

/* Set by the loader: the host's network namespace (cookie); everything else is a container. */
const volatile __u64 host_netns = 0;
/* Set by the loader: each namespace's followed probes are spaced by this on average, with
 * bursts of up to probe_burst_ns ahead of that pace (MTOOL_NAMESPACE_PROBE_*). */
const volatile __u64 probe_interval_ns = 1000000000ULL / MTOOL_NAMESPACE_PROBE_RATE_DEFAULT;
const volatile __u64 probe_burst_ns =
	MTOOL_NAMESPACE_PROBE_BURST * (1000000000ULL / MTOOL_NAMESPACE_PROBE_RATE_DEFAULT);
/* Set by the loader, for tests and benchmarks only (`mtool correlator --follow-host-probes`):
 * the host's own probes are followed too, from the uplink's transmission to its reception, so
 * the wire time a host-run tool sees can be set beside its container twin's (a target is fair
 * only if both see the same). False in production, where the verifier prunes every branch it
 * guards: the host's own traffic then costs what the cost table says. */
const volatile bool follow_host_probes = false;

/* When a followed probe last started or moved (jiffies). While it is older than
 * RECENT_PROBE_JIFFIES, nothing can be in flight or waiting, so the programs skip all packets
 * except a container's transmissions. The window covers MTOOL_FLIGHT_TTL_S at HZ <= 1000. */
__u64 last_probe_jiffies = 0;
#define RECENT_PROBE_JIFFIES (MTOOL_FLIGHT_TTL_S * 1000ULL)

struct {
	__uint(type, BPF_MAP_TYPE_LRU_HASH);
	__uint(max_entries, MTOOL_RECORDS_MAX);
	__type(key, struct mtool_probe_key);
	__type(value, struct mtool_record);
	__uint(pinning, LIBBPF_PIN_BY_NAME);
} records SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_LRU_HASH);
	__uint(max_entries, MTOOL_DEVICES_MAX);
	__type(key, struct mtool_device_key);
	__type(value, struct mtool_device_name);
	__uint(pinning, LIBBPF_PIN_BY_NAME);
} devices SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, MTOOL_CTR_COUNT);
	__type(key, __u32);
	__type(value, __u64);
	__uint(pinning, LIBBPF_PIN_BY_NAME);
} counters SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, struct mtool_info);
	__uint(pinning, LIBBPF_PIN_BY_NAME);
} info_map SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_LRU_HASH);
	__uint(max_entries, MTOOL_SUBSCRIBERS_MAX);
	__type(key, __u64);
	__type(value, struct mtool_subscriber);
	__uint(pinning, LIBBPF_PIN_BY_NAME);
} subscribers SEC(".maps");

/* Probes inside the host, in slots chosen by skb address. Every ICMP echo crossing a device
 * looks here, so the lookup must be cheap: an array index (inlined by the verifier), not a
 * hash. Flights last microseconds, so two live ones rarely share a slot (counted when they do). */
struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, MTOOL_FLIGHT_SLOTS);
	__type(key, __u32);
	__type(value, struct mtool_flight);
} flights SEC(".maps");

/* When a probe with this uplink identifier last started waiting (jiffies): replies and
 * local-target packets with other identifiers skip the `waiting` hash lookup. */
struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, 65536);
	__type(key, __u32);
	__type(value, __u64);
} waiting_flows SEC(".maps");

/* Probes gone out of the uplink, awaiting their reply, by what the uplink saw. A plain hash,
 * not an LRU: a tenant sending probes nobody answers must not evict the others' entries. Each
 * namespace holds at most MTOOL_WAITING_PER_NAMESPACE; the daemon deletes what waited longer
 * than MTOOL_FLIGHT_TTL_S. */
struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, MTOOL_WAITING_MAX);
	__type(key, struct mtool_wire_key);
	__type(value, struct mtool_flight);
} waiting SEC(".maps");

/* Probes that left a container, by their identity before NAT (the sender's addresses): where
 * their flight is, so a reply the host itself makes can be joined to its probe. Direct-mapped
 * by a hash of the identity, like `flights`: the write every followed probe pays at egress
 * start is an array store, not a hash update (it lands inside the egress time it measures).
 * A newer probe overwrites an older one in its slot; only the older one's inside-host answer is
 * then missed (the key is checked on lookup). */
struct mtool_outbound {
	struct mtool_wire_key key;
	__u32 slot;   /* in `flights` */
	__u32 pad;
	__u64 netns;  /* the sender's */
};

struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, MTOOL_OUTBOUND_SLOTS);
	__type(key, __u32);
	__type(value, struct mtool_outbound);
} outbound SEC(".maps");

/* Uplinks in the host namespace (kept by the daemon): slot ifindex % size holds the ifindex.
 * An array, so the check every echo reply in the host namespace makes is an index. */
struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, MTOOL_UPLINK_SLOTS);
	__type(key, __u32);
	__type(value, __u32);
} uplinks SEC(".maps");


enum probe_kind { KIND_NONE = 0, KIND_REQUEST = 1, KIND_REPLY = 2 };

struct probe_packet {
	__u8 family;
	__u8 protocol;
	__u8 kind;
	__u16 flow;
	__u16 sequence;
	__u8 src[16];
	__u8 dst[16];
};

struct headers_v4 {
	struct iphdr ip;
	__u8 l4[8];
};

struct headers_v6 {
	struct ipv6hdr ip;
	__u8 l4[8];
};

static __always_inline void count(__u32 which)
{
	__u64 *value = bpf_map_lookup_elem(&counters, &which);
	if (value)
		*value += 1;
}

static __always_inline __u16 load16(const __u8 *b)
{
	return ((__u16)b[0] << 8) | b[1];
}

static __always_inline __u32 load32(const __u8 *b)
{
	return ((__u32)b[0] << 24) | ((__u32)b[1] << 16) | ((__u32)b[2] << 8) | b[3];
}

/* What the first 8 bytes of a probe's transport header say about its identity: ICMP echo
 * (identifier, sequence), UDP (source port, destination port), TCP (source port, low half of
 * the sequence number). False for anything that is not a probe. Both words are loaded before
 * any branch: offsets chosen per protocol would become pointer arithmetic the verifier
 * refuses. */
static __always_inline bool probe_identity(__u8 protocol, const __u8 *l4, __u8 echo_request,
					   struct probe_packet *p)
{
	__u32 w0 = load32(l4);
	__u32 w1 = load32(l4 + 4);
	if (protocol == IPPROTO_ICMP_ || protocol == IPPROTO_ICMPV6_) {
		if ((w0 >> 24) != echo_request)
			return false;
		p->flow = w1 >> 16;
		p->sequence = w1 & 0xFFFF;
	} else if (protocol == IPPROTO_UDP_) {
		p->flow = w0 >> 16;
		p->sequence = w0 & 0xFFFF;
	} else if (protocol == IPPROTO_TCP_) {
		p->flow = w0 >> 16;
		p->sequence = w1 & 0xFFFF;
	} else {
		return false;
	}
	p->protocol = protocol;
	return true;
}

/* A TCP segment at `l4`: a SYN (a probe) or a SYN-ACK / reset answering one. */
static __always_inline int parse_tcp(const void *l4, __u8 ttl, struct probe_packet *p)
{
	__u8 t[20];
	if (bpf_probe_read_kernel(t, sizeof(t), l4))
		return KIND_NONE;
	__u8 flags = t[13];
	if ((flags & TCP_SYN) && !(flags & TCP_ACK)) {
		if (ttl > MTOOL_MAX_PROBE_TTL)
			return KIND_NONE;
		p->flow = load16(t);
		p->sequence = load16(t + 6);
		p->kind = KIND_REQUEST;
	} else if ((flags & TCP_ACK) && (flags & (TCP_SYN | TCP_RST))) {
		/* The answer acknowledges ISN + 1. */
		__u32 ack = ((__u32)load16(t + 8) << 16) | load16(t + 10);
		p->flow = load16(t + 2);
		p->sequence = (__u16)(ack - 1);
		p->kind = KIND_REPLY;
	} else {
		return KIND_NONE;
	}
	p->protocol = IPPROTO_TCP_;
	return p->kind;
}

static __always_inline void addresses_v4(struct probe_packet *p, const __be32 *src, const __be32 *dst)
{
	__builtin_memset(p->src, 0, sizeof(p->src));
	__builtin_memset(p->dst, 0, sizeof(p->dst));
	__builtin_memcpy(p->src, src, 4);
	__builtin_memcpy(p->dst, dst, 4);
}

/* Recognises a probe or a reply at `l3`; anything else is KIND_NONE, decided on the first read
 * wherever possible (the protocol, then the TTL or ICMP type). For a reply, src is the remote
 * end and dst our end, as on the wire; for an ICMP error they come from the quoted probe (dst =
 * its source), so a reply of any kind keys the same as its request. */
static __noinline int parse_probe(const void *l3, __u16 ethertype, struct probe_packet *p)
{
	if (ethertype == bpf_htons(ETH_P_IP)) {
		struct headers_v4 h;
		if (bpf_probe_read_kernel(&h, sizeof(h), l3))
			return KIND_NONE;
		__u8 protocol = h.ip.protocol;
		if (protocol == IPPROTO_UDP_) {
			if (h.ip.ttl > MTOOL_MAX_PROBE_TTL)
				return KIND_NONE; /* ordinary traffic */
		} else if (protocol != IPPROTO_ICMP_ && protocol != IPPROTO_TCP_) {
			return KIND_NONE;
		}
		if ((h.ip.frag_off & bpf_htons(0x1FFF)) || h.ip.ihl < 5)
			return KIND_NONE;
		const void *l4 = l3 + h.ip.ihl * 4;
		if (h.ip.ihl != 5 && bpf_probe_read_kernel(h.l4, sizeof(h.l4), l4))
			return KIND_NONE; /* options: the transport header is further on */
		p->family = AF_INET;
		if (protocol == IPPROTO_TCP_) {
			if (parse_tcp(l4, h.ip.ttl, p) == KIND_NONE)
				return KIND_NONE;
			addresses_v4(p, &h.ip.saddr, &h.ip.daddr);
			return p->kind;
		}
		if (protocol == IPPROTO_UDP_) {
			probe_identity(protocol, h.l4, 0, p);
			addresses_v4(p, &h.ip.saddr, &h.ip.daddr);
			return p->kind = KIND_REQUEST;
		}
		__u8 type = h.l4[0];
		if (type == ICMP_ECHO_REQUEST || type == ICMP_ECHO_REPLY) {
			p->protocol = IPPROTO_ICMP_;
			p->flow = load16(h.l4 + 4);
			p->sequence = load16(h.l4 + 6);
			addresses_v4(p, &h.ip.saddr, &h.ip.daddr);
			return p->kind = type == ICMP_ECHO_REQUEST ? KIND_REQUEST : KIND_REPLY;
		}
		if (type != ICMP_DEST_UNREACH_ && type != ICMP_TIME_EXCEEDED_)
			return KIND_NONE;
		/* An error: the probe it quotes is after its 8-byte header. */
		struct headers_v4 q;
		const void *quote = l4 + 8;
		if (bpf_probe_read_kernel(&q, sizeof(q), quote) || q.ip.ihl < 5)
			return KIND_NONE;
		if (q.ip.ihl != 5 && bpf_probe_read_kernel(q.l4, sizeof(q.l4), quote + q.ip.ihl * 4))
			return KIND_NONE;
		if (!probe_identity(q.ip.protocol, q.l4, ICMP_ECHO_REQUEST, p))
			return KIND_NONE;
		addresses_v4(p, &q.ip.daddr, &q.ip.saddr);
		return p->kind = KIND_REPLY;
	}
	if (ethertype == bpf_htons(ETH_P_IPV6)) {
		struct headers_v6 h;
		if (bpf_probe_read_kernel(&h, sizeof(h), l3))
			return KIND_NONE;
		__u8 protocol = h.ip.nexthdr;
		if (protocol == IPPROTO_UDP_) {
			if (h.ip.hop_limit > MTOOL_MAX_PROBE_TTL)
				return KIND_NONE;
		} else if (protocol != IPPROTO_ICMPV6_ && protocol != IPPROTO_TCP_) {
			return KIND_NONE;
		}
		p->family = AF_INET6;
		const void *l4 = l3 + sizeof(struct ipv6hdr);
		if (protocol == IPPROTO_TCP_) {
			if (parse_tcp(l4, h.ip.hop_limit, p) == KIND_NONE)
				return KIND_NONE;
		} else if (protocol == IPPROTO_UDP_) {
			probe_identity(protocol, h.l4, 0, p);
			p->kind = KIND_REQUEST;
		} else if (h.l4[0] == ICMPV6_ECHO_REQUEST || h.l4[0] == ICMPV6_ECHO_REPLY) {
			p->protocol = IPPROTO_ICMPV6_;
			p->flow = load16(h.l4 + 4);
			p->sequence = load16(h.l4 + 6);
			p->kind = h.l4[0] == ICMPV6_ECHO_REQUEST ? KIND_REQUEST : KIND_REPLY;
		} else {
			if (h.l4[0] != ICMPV6_DEST_UNREACH_ && h.l4[0] != ICMPV6_PKT_TOOBIG_ &&
			    h.l4[0] != ICMPV6_TIME_EXCEED_)
				return KIND_NONE;
			struct headers_v6 q;
			if (bpf_probe_read_kernel(&q, sizeof(q), l4 + 8))
				return KIND_NONE;
			if (!probe_identity(q.ip.nexthdr, q.l4, ICMPV6_ECHO_REQUEST, p))
				return KIND_NONE;
			__builtin_memcpy(p->src, &q.ip.daddr, 16);
			__builtin_memcpy(p->dst, &q.ip.saddr, 16);
			return p->kind = KIND_REPLY;
		}
		__builtin_memcpy(p->src, &h.ip.saddr, 16);
		__builtin_memcpy(p->dst, &h.ip.daddr, 16);
		return p->kind;
	}
	return KIND_NONE;
}

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

static __always_inline void wire_key_of(const struct probe_packet *p, bool reply,
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

static __always_inline __u32 outbound_slot(__u16 flow, __u16 sequence)
{
	return ((__u32)flow * 0x9E37 ^ (__u32)sequence * 0x85EB) & (MTOOL_OUTBOUND_SLOTS - 1);
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
	f->record.sender_tx_ns = now;
	f->current_flow = p->flow;
	f->direction = 0;
	append_crossing(f, now, ifindex, netns, hook);
	last_probe_jiffies = bpf_jiffies64();
	count(MTOOL_CTR_EGRESS_STARTED);
	/* Where this flight is, by the probe's own (pre-NAT) identity, in case the host itself
	 * answers it (start_inside). */
	__u32 at = outbound_slot(p->flow, p->sequence);
	struct mtool_outbound *o = bpf_map_lookup_elem(&outbound, &at);
	if (o) {
		wire_key_of(p, false, &o->key);
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
	wire_key_of(p, true, &k);
	struct mtool_flight *w = bpf_map_lookup_elem(&waiting, &k);
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
	__u32 at = outbound_slot(p->flow, p->sequence);
	struct mtool_outbound *o = bpf_map_lookup_elem(&outbound, &at);
	/* Most replies here are forwarded ones, for probes not in this slot: two compares. */
	if (!o || o->key.flow != p->flow || o->key.sequence != p->sequence)
		return false;
	struct mtool_wire_key k;
	wire_key_of(p, true, &k);
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
	    now - f->last_seen_ns >= FLIGHT_MAX_GAP_NS)
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
	wire_key_of(p, false, &k);
	if (enter_waiting(&k, f)) {
		__u32 flow = p->flow;
		__u64 *since = bpf_map_lookup_elem(&waiting_flows, &flow);
		if (since)
			*since = bpf_jiffies64();
		count(MTOOL_CTR_EGRESS_COMPLETED);
	}
	f->skb = 0;
}

/* The reply reached its sender's namespace: the record is complete. */
static __always_inline void arrive(struct mtool_flight *f, __u64 now, __u64 rx_stamp)
{
	f->record.sender_rx_ns = receive_time(now, rx_stamp);
	if (f->record.sender_rx_ns < f->record.uplink_rx_ns)
		f->record.sender_rx_ns = now;
	if (bpf_map_update_elem(&records, &f->record.key, &f->record, BPF_ANY))
		count(MTOOL_CTR_MAP_FULL);
	else
		count(MTOOL_CTR_RECORDS_WRITTEN);
	f->skb = 0;
}

/* One step of a probe already in flight. */
static __always_inline void follow(struct mtool_flight *f, const struct probe_packet *p,
				   __u64 now, __u64 rx_stamp, __u32 ifindex, __u64 netns, __u32 hook)
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
	arrive(f, now, rx_stamp);
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
	wire_key_of(p, p->kind == KIND_REPLY, &k);
	struct mtool_flight *f = bpf_map_lookup_elem(&waiting, &k);
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
			follow(f, p, now, rx_stamp, ifindex, netns, hook);
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
			arrive(f, f->record.uplink_rx_ns, 0); /* its socket is right here: ingress nil */
	} else if (sending && netns != host_netns) {
		at_local_target(skb_id, p, ifindex, netns, hook, dev);
	} else if (sending && !is_uplink(netns, ifindex)) {
		/* The host sending a reply toward a container: maybe one it made itself. */
		if (start_inside(skb_id, p, ifindex, netns, hook, input_ifindex))
			remember_device_name(netns, ifindex, dev);
	}
}

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
	observe(c->skb_id, &p, 0, c->ifindex, c->netns, c->hook, NULL, c->input_ifindex,
		c->sender_pid);
	return XDP_DROP;
}
