// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/* The correlator's state: what the loader sets (read-only data), the maps (bounded, evicted
 * least-recently-used or by slot), and the counters the daemon reports. */
#pragma once

#include "vmlinux.h"

#include <bpf/bpf_core_read.h>
#include <bpf/bpf_endian.h>
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_tracing.h>

#include "correlator_abi.h"

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
/* Set by the loader with `mtool correlator --metrics`: each completed record is also counted in
 * its namespace's histograms (histograms.bpf.h). False otherwise, and the verifier prunes that
 * code: a daemon that exports nothing pays nothing. */
const volatile bool keep_histograms = false;

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

/* Per measuring namespace (cookie): its records' egress, ingress and wire RTT distributions.
 * The daemon's own (not pinned): it reads them for its exposition and deletes the namespaces
 * that are gone. */
struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, MTOOL_HISTOGRAM_NAMESPACES);
	__type(key, __u64);
	__type(value, struct mtool_namespace_histograms);
} histograms SEC(".maps");

static __always_inline void count(__u32 which)
{
	__u64 *value = bpf_map_lookup_elem(&counters, &which);
	if (value)
		*value += 1;
}
