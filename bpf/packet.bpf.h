// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/* Parsing: which packets are probes or their replies, and their identity. Reads the packet only
 * (no map, no clock), so that a packet that is not a probe costs a field load or one read. */
#pragma once

#include "vmlinux.h"

#include <bpf/bpf_core_read.h>
#include <bpf/bpf_endian.h>
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_tracing.h>

#include "correlator_abi.h"

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

enum probe_kind { KIND_NONE = 0, KIND_REQUEST = 1, KIND_REPLY = 2 };

struct probe_packet {
	__u8 family;
	__u8 protocol;
	__u8 kind;
	__u16 flow;
	__u16 sequence;
	__u16 checksum;    /* UDP: the checksum as this packet (or the quote) carries it; else 0 */
	__u8 raw_socket;   /* a request a raw socket sent (set by the caller, where it can tell) */
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

static __always_inline __u16 load16(const __u8 *b)
{
	return ((__u16)b[0] << 8) | b[1];
}

static __always_inline __u32 load32(const __u8 *b)
{
	return ((__u32)b[0] << 24) | ((__u32)b[1] << 16) | ((__u32)b[2] << 8) | b[3];
}

/* What the first 8 bytes of a probe's transport header say about its identity: ICMP echo
 * (identifier, sequence), UDP (source port, destination port; its checksum too, which names a
 * Paris probe), TCP (source port, low half of the sequence number). False for anything that is not a probe. Both words are loaded before
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
		p->checksum = w1 & 0xFFFF;
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
	p->checksum = 0;
	p->raw_socket = 0;
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
