// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/* Per-namespace histograms of what each completed record measured (`--metrics`): counted
 * where a record is written, so packets that are not probes pay nothing, and the daemon reads
 * counts instead of records. Shared by every CPU, incremented atomically (as libbpf-tools'
 * biolatency does), so a namespace costs one value, not one per CPU. */
#pragma once

#include "vmlinux.h"

#include <bpf/bpf_core_read.h>
#include <bpf/bpf_helpers.h>

#include "correlator_abi.h"

#include "maps.bpf.h"

/* What a namespace's entry starts from (too large for the stack). */
static struct mtool_namespace_histograms empty_histograms;

static __always_inline void add_sample(struct mtool_latency_histogram *h, __u64 ns)
{
	__u32 i = mtool_histogram_bucket(ns);
	if (i >= MTOOL_HISTOGRAM_BUCKETS)
		return;
	__sync_fetch_and_add(&h->buckets[i], 1);
	__sync_fetch_and_add(&h->sum_ns, ns);
}

/* Counts record `r`, just written, in its namespace's histograms. `dev` is the sender's device
 * (NULL in tests): its namespace's inode number is noted when the entry is made. */
static __always_inline void note_overheads(const struct mtool_record *r, struct net_device *dev)
{
	if (!keep_histograms)
		return;
	/* The stages a tool computes (lib/correlate/probe_overhead): a record whose stages do not
	 * follow each other is not counted, as no tool uses it. */
	if (r->sender_tx_ns == 0 || r->uplink_tx_ns < r->sender_tx_ns ||
	    r->uplink_rx_ns < r->uplink_tx_ns || r->sender_rx_ns < r->uplink_rx_ns)
		return;
	__u64 netns = r->key.netns;
	struct mtool_namespace_histograms *h = bpf_map_lookup_elem(&histograms, &netns);
	if (!h) {
		/* NOEXIST: a CPU racing us made it first, or the map is full (nobody is evicted). */
		if (bpf_map_update_elem(&histograms, &netns, &empty_histograms, BPF_NOEXIST) == 0) {
			h = bpf_map_lookup_elem(&histograms, &netns);
			if (h && dev)
				h->netns_inum = BPF_CORE_READ(dev, nd_net.net, ns.inum);
		} else {
			h = bpf_map_lookup_elem(&histograms, &netns);
		}
		if (!h) {
			count(MTOOL_CTR_HISTOGRAMS_FULL);
			return;
		}
	}
	if (r->sender_pid != 0)
		h->sender_pid = r->sender_pid;
	add_sample(&h->kind[MTOOL_HISTOGRAM_EGRESS], r->uplink_tx_ns - r->sender_tx_ns);
	add_sample(&h->kind[MTOOL_HISTOGRAM_INGRESS], r->sender_rx_ns - r->uplink_rx_ns);
	add_sample(&h->kind[MTOOL_HISTOGRAM_WIRE], r->uplink_rx_ns - r->uplink_tx_ns);
}
