/* The contract between the kernel side (bpf/correlator.bpf.c) and user space (lib/correlate,
 * lib/correlator): map keys, the per-probe record, counters and the query protocol of the
 * correlator's socket. One definition, included by both; C and C++ alike.
 *
 * Times are CLOCK_MONOTONIC nanoseconds (bpf_ktime_get_ns). */
#ifndef MTOOL_CORRELATOR_ABI_H
#define MTOOL_CORRELATOR_ABI_H

#ifndef __VMLINUX_H__
#include <linux/types.h>
#endif

/* 4: keys carry a UDP probe's checksum (Paris: raw probes of one flow share their ports). A
 * tool and a daemon of different versions refuse each other: an older daemon would answer a
 * newer tool's Paris query with the record of another probe of the same flow. */
#define MTOOL_ABI_VERSION 4
#define MTOOL_MAX_CROSSINGS 8  /* per direction */
#define MTOOL_MAX_TARGET_CROSSINGS 4
/* Device names travel with a record in this order: egress, ingress, target crossings. */
#define MTOOL_NAMED_CROSSINGS (2 * MTOOL_MAX_CROSSINGS + MTOOL_MAX_TARGET_CROSSINGS)
#define MTOOL_IFNAMSIZ 16

/* The probe as its sender sees it: in its own namespace, before any NAT. `flow` is the ICMP
 * identifier (UDP/TCP: the source port) and `sequence` the ICMP sequence (UDP: destination
 * port; TCP: the low 16 bits of the initial sequence number), both in host byte order.
 * `checksum` is a UDP probe's checksum when a raw socket sent it, else 0: probes of one Paris
 * flow share every port and differ only there (the tool steers it, one per probe in flight, and
 * wrote it itself, so it is final at every device; a kernel-made checksum may still be partial
 * there under checksum offload, and nothing else of the first 8 bytes, all an ICMP error is
 * sure to quote, differs).
 * A reply carries the same identity: an echo reply its own header, a TCP SYN-ACK or reset its
 * ports and acknowledgement (ISN + 1), an ICMP error the probe it quotes. */
struct mtool_probe_key {
	/* The sender's network namespace by its cookie (the kernel's net->net_cookie, what
	 * SO_NETNS_COOKIE returns): unlike the inode number, never reused while the machine runs,
	 * so a new container cannot inherit a dead one's records. */
	__u64 netns;
	__u8 family;    /* AF_INET or AF_INET6 */
	__u8 protocol;  /* IPPROTO_ICMP, IPPROTO_ICMPV6, IPPROTO_UDP, IPPROTO_TCP */
	__u16 flow;
	__u16 sequence;
	__u16 checksum;
};

/* The probe as the uplink sees it (after NAT), which is how its reply is recognised there.
 * Addresses are in network byte order; IPv4 uses the first 4 bytes. */
struct mtool_wire_key {
	__u8 local[16];   /* the probe's source on the uplink */
	__u8 remote[16];  /* its destination */
	__u8 family;
	__u8 protocol;
	__u16 flow;
	__u16 sequence;
	__u16 checksum;  /* the checksum on the uplink (NAT changes it with the addresses), or 0 */
};

enum mtool_hook {
	MTOOL_HOOK_DEV_QUEUE = 0,    /* net_dev_queue: a device is handed the packet to send */
	MTOOL_HOOK_NETIF_RX = 1,     /* netif_rx: a (virtual) device receives it */
	MTOOL_HOOK_RECEIVE_SKB = 2,  /* netif_receive_skb: the stack takes it from a device */
};

/* One crossing of a device: when, where, and at which hook. */
struct mtool_crossing {
	__u64 time_ns;
	__u64 netns;  /* cookie of the device's network namespace */
	__u32 ifindex;
	__u32 hook;
};

/* Everything the correlator knows about one answered probe. */
struct mtool_record {
	struct mtool_probe_key key;
	__u64 sender_tx_ns;     /* sent on the sender's own device (egress starts) */
	__u64 uplink_tx_ns;     /* sent on the host uplink (egress ends) */
	__u64 uplink_rx_ns;     /* reply received on the uplink (ingress starts) */
	__u64 sender_rx_ns;     /* reply received on the sender's device (ingress ends): the moment
	                         * of the kernel receive timestamp the tool reads, when it has one */
	__u32 uplink_ifindex;
	__u16 wire_flow;        /* the identifier or port on the uplink, after NAT */
	__u8 egress_count;      /* crossings recorded (at most MTOOL_MAX_CROSSINGS) */
	__u8 ingress_count;
	struct mtool_crossing egress[MTOOL_MAX_CROSSINGS];
	struct mtool_crossing ingress[MTOOL_MAX_CROSSINGS];
	/* When the target is on this host too (another namespace): its side of the exchange, the
	 * request arriving and the reply leaving. Empty for a target out on the network. */
	__u8 target_count;
	__u8 flags;             /* MTOOL_RECORD_* */
	__u16 pad;
	/* The process that sent the probe (its thread group id in the initial pid namespace), when
	 * the kernel sent it in that process's context; 0 when unknown. Only that process may take
	 * the record through the correlator's socket. */
	__u32 sender_pid;
	struct mtool_crossing target[MTOOL_MAX_TARGET_CROSSINGS];
};

/* The reply was made inside the host (the container's gateway answering with time exceeded, a
 * host address as the target): the probe never reached an uplink. uplink_tx_ns is then its last
 * crossing before the host answered and uplink_rx_ns the reply's first crossing. */
#define MTOOL_RECORD_ANSWERED_INSIDE 0x01

/* UDP and TCP requests are followed only with a TTL / hop limit up to this: traceroute probes,
 * not a container's ordinary traffic (sent with 64 or more). */
#define MTOOL_MAX_PROBE_TTL 63

/* A probe followed through the host: the record being filled and where the packet is. */
struct mtool_flight {
	__u64 skb;  /* the buffer carrying it inside the host; 0: slot free */
	struct mtool_record record;
	__u64 last_seen_ns;
	__u16 current_flow;  /* identifier as last seen, to tell a reused buffer from NAT */
	__u8 direction;      /* 0: request on its way out; 1: reply on its way in */
	__u8 pad[5];
};

/* Device names, for the breakdown. Keyed by (netns, ifindex). */
struct mtool_device_key {
	__u64 netns;
	__u32 ifindex;
	__u32 pad;
};
struct mtool_device_name {
	char name[MTOOL_IFNAMSIZ];
};

/* Counters, one slot each in a per-CPU array. */
enum mtool_counter {
	MTOOL_CTR_EGRESS_STARTED = 0,  /* probes seen leaving a container */
	MTOOL_CTR_EGRESS_COMPLETED,    /* ... and reaching an uplink */
	MTOOL_CTR_REPLIES_MATCHED,     /* replies on an uplink matched to a probe */
	MTOOL_CTR_RECORDS_WRITTEN,     /* replies followed back into their container */
	MTOOL_CTR_UNMATCHED_REPLIES,   /* echo replies on an uplink with no probe waiting */
	MTOOL_CTR_STALE_FLIGHTS,       /* buffer reused before its flight ended: replaced */
	MTOOL_CTR_TOO_MANY_CROSSINGS,  /* crossings beyond MTOOL_MAX_CROSSINGS (not recorded) */
	MTOOL_CTR_MAP_FULL,            /* a map refused an update */
	MTOOL_CTR_SLOT_COLLISIONS,     /* a flight displaced another one still in the host */
	MTOOL_CTR_RATE_LIMITED,        /* probes not followed: their namespace exceeded its rate */
	MTOOL_CTR_QUOTA_FULL,          /* probes not followed: their namespace's waiting quota full */
	MTOOL_CTR_FOREIGN_CROSSINGS,   /* packets posing as a probe's target side or host answer */
	MTOOL_CTR_HISTOGRAMS_FULL,     /* records not put in a histogram: no room for their namespace */
	MTOOL_CTR_COUNT,
};

/* Pinned names under the pin directory (default /sys/fs/bpf/mtool). */
#define MTOOL_PIN_DIR_DEFAULT "/sys/fs/bpf/mtool"
#define MTOOL_MAP_RECORDS "records"
#define MTOOL_MAP_DEVICES "devices"
#define MTOOL_MAP_COUNTERS "counters"
#define MTOOL_MAP_INFO "info_map"
/* Namespaces whose probes are followed: netns cookie -> struct mtool_subscriber.
 * A tool subscribes its namespace when it connects (directly, or the daemon does it for a
 * socket client) and refreshes it while it runs; echoes from other namespaces (a co-located
 * flood, an application's pings) are not followed and cost one lookup. */
#define MTOOL_MAP_SUBSCRIBERS "subscribers"

/* One subscribed namespace's share of the host: no namespace may crowd the others out of the
 * maps every tenant shares. Written by the daemon (refreshed_ns, the waiting count it
 * recounts every second) and by the programs (the rate state, the waiting count). */
struct mtool_subscriber {
	__u64 refreshed_ns;    /* last subscription (CLOCK_MONOTONIC ns) */
	__u64 next_probe_ns;   /* the rate limit (GCRA): the theoretical time of the next probe */
	__s64 waiting;         /* its probes in `waiting` (at most MTOOL_WAITING_PER_NAMESPACE) */
};

/* The single entry of the `info` map, written by the daemon. */
struct mtool_info {
	__u32 version;     /* MTOOL_ABI_VERSION */
	__s32 tai_offset_s;  /* CLOCK_TAI - CLOCK_REALTIME (adjtimex), to read skb receive stamps */
	__u64 host_netns;  /* cookie; probes from this namespace are not corrected: nothing to
			    * (0 when the daemon measures the host too: --follow-host-probes) */
	/* CLOCK_MONOTONIC ns of the daemon's last publish (every second); 0 once it stopped. The
	 * maps stay pinned when the daemon stops: a tool trusts them only while this is recent. */
	__u64 heartbeat_ns;
};
#define MTOOL_HEARTBEAT_FRESH_S 3  /* a tool ignores pins whose heartbeat is older than this */

/* Sizes: bounded, and evicted least-recently-used when full (records also by the daemon's
 * sweep after MTOOL_RECORD_TTL_S). */
#define MTOOL_RECORDS_MAX 16384
#define MTOOL_FLIGHT_SLOTS 4096     /* direct-mapped by skb address: a lookup is an array index */
#define MTOOL_WAITING_MAX 16384
/* One namespace's probes waiting for their reply at once: a quarter of the map, so one tenant
 * (or three) sending probes nobody answers cannot leave the others without room. */
#define MTOOL_WAITING_PER_NAMESPACE 4096
/* Probes per second one namespace may have followed (a burst of that many at once), unless the
 * daemon is told otherwise (--namespace-probe-rate). Bounds how often one tenant's probes can
 * take a direct-mapped slot (`flights`, `outbound`) that another's is using. */
#define MTOOL_NAMESPACE_PROBE_RATE_DEFAULT 10000
#define MTOOL_NAMESPACE_PROBE_BURST 1000
#define MTOOL_OUTBOUND_SLOTS 4096  /* probes that left a container, by pre-NAT identity */
#define MTOOL_DEVICES_MAX 4096
#define MTOOL_UPLINK_SLOTS 4096  /* uplinks whose ifindexes collide modulo this: one is used */
#define MTOOL_SUBSCRIBERS_MAX 4096
#define MTOOL_SUBSCRIPTION_TTL_S 120  /* the daemon drops subscriptions not refreshed since */
#define MTOOL_SUBSCRIPTION_REFRESH_S 30
#define MTOOL_FLIGHT_TTL_S 5
#define MTOOL_RECORD_TTL_S 60

/* Per measuring namespace, the distributions of its records' egress, ingress and wire RTT
 * (`mtool correlator --metrics`), counted by the programs as each record is completed, so the
 * daemon reads counts, not records. Buckets are log2 with MTOOL_HISTOGRAM_SUB_BUCKETS linear
 * steps per power of two (as HDR histograms), so 1-300 us overheads are told apart within 25%:
 *   bucket 0                        ns <= 2^MIN_SHIFT
 *   bucket 1 + (k - MIN) * SUB + s  2^k + s * 2^k / SUB < ns <= 2^k + (s + 1) * 2^k / SUB
 *   bucket MTOOL_HISTOGRAM_BUCKETS - 1   ns > 2^MAX_SHIFT
 * Upper bounds are inclusive, as Prometheus' `le`. 256 ns to 17.2 s. */
#define MTOOL_HISTOGRAM_MIN_SHIFT 8
#define MTOOL_HISTOGRAM_MAX_SHIFT 34
#define MTOOL_HISTOGRAM_SUB_BITS 2
#define MTOOL_HISTOGRAM_SUB_BUCKETS (1 << MTOOL_HISTOGRAM_SUB_BITS)
#define MTOOL_HISTOGRAM_BUCKETS \
	(2 + (MTOOL_HISTOGRAM_MAX_SHIFT - MTOOL_HISTOGRAM_MIN_SHIFT) * MTOOL_HISTOGRAM_SUB_BUCKETS)
/* Namespaces with histograms at once: a plain hash (a full map refuses a new namespace, counted
 * as MTOOL_CTR_HISTOGRAMS_FULL, and evicts nobody); the daemon deletes the namespaces that are
 * gone. */
#define MTOOL_HISTOGRAM_NAMESPACES 1024

enum mtool_histogram_kind {
	MTOOL_HISTOGRAM_EGRESS = 0,  /* sender's device -> uplink */
	MTOOL_HISTOGRAM_INGRESS = 1, /* uplink -> sender's device */
	MTOOL_HISTOGRAM_WIRE = 2,    /* uplink transmission -> uplink reception */
	MTOOL_HISTOGRAM_KINDS = 3,
};

struct mtool_latency_histogram {
	__u64 buckets[MTOOL_HISTOGRAM_BUCKETS];
	__u64 sum_ns;
};

/* Value of the `histograms` map, keyed by the measuring namespace's cookie. */
struct mtool_namespace_histograms {
	/* Who to ask about the namespace (its labels, whether it still exists): its inode number
	 * (what /proc/PID/ns/net shows) and the sender of its latest record (0: unknown). */
	__u32 netns_inum;
	__u32 sender_pid;
	struct mtool_latency_histogram kind[MTOOL_HISTOGRAM_KINDS];
};

#ifdef __bpf__
#define MTOOL_ABI_INLINE static __always_inline
#else
#define MTOOL_ABI_INLINE static inline
#endif

/* floor(log2(v)) for v > 0, without loops (the verifier's taste), as libbpf-tools' log2l. */
MTOOL_ABI_INLINE __u32 mtool_log2(__u64 v)
{
	__u32 r = (__u32)(v > 0xFFFFFFFFULL) << 5;
	v >>= r;
	__u32 shift = (__u32)(v > 0xFFFF) << 4;
	v >>= shift;
	r |= shift;
	shift = (__u32)(v > 0xFF) << 3;
	v >>= shift;
	r |= shift;
	shift = (__u32)(v > 0xF) << 2;
	v >>= shift;
	r |= shift;
	shift = (__u32)(v > 0x3) << 1;
	v >>= shift;
	r |= shift;
	r |= (__u32)(v >> 1);
	return r;
}

/* The bucket that counts a duration of `ns`. */
MTOOL_ABI_INLINE __u32 mtool_histogram_bucket(__u64 ns)
{
	if (ns <= (1ULL << MTOOL_HISTOGRAM_MIN_SHIFT))
		return 0;
	if (ns > (1ULL << MTOOL_HISTOGRAM_MAX_SHIFT))
		return MTOOL_HISTOGRAM_BUCKETS - 1;
	const __u64 below = ns - 1; /* inclusive upper bounds */
	const __u32 k = mtool_log2(below);
	const __u32 step = (__u32)(below >> (k - MTOOL_HISTOGRAM_SUB_BITS)) &
			   (MTOOL_HISTOGRAM_SUB_BUCKETS - 1);
	return 1 + (k - MTOOL_HISTOGRAM_MIN_SHIFT) * MTOOL_HISTOGRAM_SUB_BUCKETS + step;
}

/* The largest duration bucket `i` counts, in ns (inclusive); ~0 for the last (no bound). */
MTOOL_ABI_INLINE __u64 mtool_histogram_upper_ns(__u32 i)
{
	if (i == 0)
		return 1ULL << MTOOL_HISTOGRAM_MIN_SHIFT;
	if (i >= MTOOL_HISTOGRAM_BUCKETS - 1)
		return ~0ULL;
	const __u32 k = MTOOL_HISTOGRAM_MIN_SHIFT + (i - 1) / MTOOL_HISTOGRAM_SUB_BUCKETS;
	const __u32 step = (i - 1) % MTOOL_HISTOGRAM_SUB_BUCKETS;
	return (1ULL << k) + (__u64)(step + 1) * (1ULL << (k - MTOOL_HISTOGRAM_SUB_BITS));
}

/* The correlator's socket (SOCK_SEQPACKET): one query per message, one answer per query.
 * The caller names only its probe; the correlator supplies the namespace itself, from the
 * peer's credentials, so a container can read its own records and nobody else's. */
#define MTOOL_SOCKET_DEFAULT "/run/mtool/correlator.sock"
/* The same socket, without any volume: the correlator also listens on this abstract name
 * (sun_path[0] = 0, then the name) inside every network namespace in use (abstract names are
 * scoped by network namespace). They carry no permissions, so a tool checks who holds it
 * before trusting the answers (lib/correlate/correlator_peer.h). */
#define MTOOL_SOCKET_ABSTRACT_NAME "mtool-correlator"

enum mtool_query_kind {
	MTOOL_QUERY_RECORD = 1,  /* take the record of one probe */
	MTOOL_QUERY_STATUS = 2,  /* the daemon's status as text (answer: status, then text) */
	MTOOL_QUERY_HELLO = 3,   /* which namespace the correlator sees the caller in */
};

struct mtool_query {
	__u32 version;  /* MTOOL_ABI_VERSION */
	__u32 kind;     /* enum mtool_query_kind */
	__u8 family;
	__u8 protocol;
	__u16 flow;
	__u16 sequence;
	__u16 checksum;
};

enum mtool_answer_status {
	MTOOL_ANSWER_FOUND = 0,
	MTOOL_ANSWER_NOT_FOUND = 1,
	MTOOL_ANSWER_BAD_QUERY = 2,
};

struct mtool_answer {
	__u32 version;
	__u32 status;  /* enum mtool_answer_status */
	__u32 caller_in_host_netns;   /* 1: the caller runs on the host itself (and the host's
				       * probes are not followed) */
	__u32 pad;
	__u64 caller_netns;           /* the namespace (cookie) the correlator found the caller in */
	struct mtool_record record;
	/* Names of the devices crossed, as far as known (order: MTOOL_NAMED_CROSSINGS). */
	struct mtool_device_name names[MTOOL_NAMED_CROSSINGS];
};

/* Tests drive the kernel-side state machine with BPF_PROG_TEST_RUN: one of these, then the IP
 * packet, is what the test program receives. */
struct mtool_test_crossing {
	__u64 skb_id;
	__u64 netns;
	__u32 ifindex;
	__u32 hook;
	__u32 input_ifindex;  /* skb->skb_iif: 0 for a packet the host itself made */
	__u32 sender_pid;     /* the sending process, as the tracepoint would find it */
	__u16 ethertype;      /* host byte order */
	__u16 raw_socket;     /* 1: sent by a raw socket (its UDP checksum is part of its key) */
	__u16 pad[2];
};

#endif /* MTOOL_CORRELATOR_ABI_H */
