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

#define MTOOL_ABI_VERSION 3
#define MTOOL_MAX_CROSSINGS 8  /* per direction */
#define MTOOL_MAX_TARGET_CROSSINGS 4
/* Device names travel with a record in this order: egress, ingress, target crossings. */
#define MTOOL_NAMED_CROSSINGS (2 * MTOOL_MAX_CROSSINGS + MTOOL_MAX_TARGET_CROSSINGS)
#define MTOOL_IFNAMSIZ 16

/* The probe as its sender sees it: in its own namespace, before any NAT. `flow` is the ICMP
 * identifier (UDP/TCP: the source port) and `sequence` the ICMP sequence (UDP: destination
 * port; TCP: the low 16 bits of the initial sequence number), both in host byte order.
 * A reply carries the same identity: an echo reply its own header, a TCP SYN-ACK or reset its
 * ports and acknowledgement (ISN + 1), an ICMP error the probe it quotes. */
struct mtool_probe_key {
	__u32 netns;    /* inode number of the sender's network namespace */
	__u8 family;    /* AF_INET or AF_INET6 */
	__u8 protocol;  /* IPPROTO_ICMP, IPPROTO_ICMPV6, IPPROTO_UDP, IPPROTO_TCP */
	__u16 flow;
	__u16 sequence;
	__u16 pad;
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
	__u16 pad;
};

enum mtool_hook {
	MTOOL_HOOK_DEV_QUEUE = 0,    /* net_dev_queue: a device is handed the packet to send */
	MTOOL_HOOK_NETIF_RX = 1,     /* netif_rx: a (virtual) device receives it */
	MTOOL_HOOK_RECEIVE_SKB = 2,  /* netif_receive_skb: the stack takes it from a device */
};

/* One crossing of a device: when, where, and at which hook. */
struct mtool_crossing {
	__u64 time_ns;
	__u32 ifindex;
	__u32 netns;
	__u32 hook;
	__u32 pad;
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
	__u8 pad[6];
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
	__u32 netns;
	__u32 ifindex;
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
	MTOOL_CTR_COUNT,
};

/* Pinned names under the pin directory (default /sys/fs/bpf/mtool). */
#define MTOOL_PIN_DIR_DEFAULT "/sys/fs/bpf/mtool"
#define MTOOL_MAP_RECORDS "records"
#define MTOOL_MAP_DEVICES "devices"
#define MTOOL_MAP_COUNTERS "counters"
#define MTOOL_MAP_INFO "info_map"
/* Namespaces whose probes are followed: netns inode -> last refresh (CLOCK_MONOTONIC ns).
 * A tool subscribes its namespace when it connects (directly, or the daemon does it for a
 * socket client) and refreshes it while it runs; echoes from other namespaces (a co-located
 * flood, an application's pings) are not followed and cost one lookup. */
#define MTOOL_MAP_SUBSCRIBERS "subscribers"

/* The single entry of the `info` map, written by the daemon. */
struct mtool_info {
	__u32 version;     /* MTOOL_ABI_VERSION */
	__u32 host_netns;  /* probes from this namespace are not corrected: nothing to correct */
	__s32 tai_offset_s;  /* CLOCK_TAI - CLOCK_REALTIME (adjtimex), to read skb receive stamps */
	__u32 pad;
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
#define MTOOL_OUTBOUND_SLOTS 4096  /* probes that left a container, by pre-NAT identity */
#define MTOOL_DEVICES_MAX 4096
#define MTOOL_UPLINK_SLOTS 4096  /* uplinks whose ifindexes collide modulo this: one is used */
#define MTOOL_SUBSCRIBERS_MAX 4096
#define MTOOL_SUBSCRIPTION_TTL_S 120  /* the daemon drops subscriptions not refreshed since */
#define MTOOL_SUBSCRIPTION_REFRESH_S 30
#define MTOOL_FLIGHT_TTL_S 5
#define MTOOL_RECORD_TTL_S 60

/* The correlator's socket (SOCK_SEQPACKET): one query per message, one answer per query.
 * The caller names only its probe; the correlator supplies the namespace itself, from the
 * peer's credentials, so a container can read its own records and nobody else's. */
#define MTOOL_SOCKET_DEFAULT "/run/mtool/correlator.sock"

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
	__u16 pad;
};

enum mtool_answer_status {
	MTOOL_ANSWER_FOUND = 0,
	MTOOL_ANSWER_NOT_FOUND = 1,
	MTOOL_ANSWER_BAD_QUERY = 2,
};

struct mtool_answer {
	__u32 version;
	__u32 status;  /* enum mtool_answer_status */
	__u32 caller_netns;           /* the namespace the correlator found the caller in */
	__u32 caller_in_host_netns;   /* 1: the caller runs on the host itself */
	struct mtool_record record;
	/* Names of the devices crossed, as far as known (order: MTOOL_NAMED_CROSSINGS). */
	struct mtool_device_name names[MTOOL_NAMED_CROSSINGS];
};

/* Tests drive the kernel-side state machine with BPF_PROG_TEST_RUN: one of these, then the IP
 * packet, is what the test program receives. */
struct mtool_test_crossing {
	__u64 skb_id;
	__u32 ifindex;
	__u32 netns;
	__u32 hook;
	__u16 ethertype;  /* host byte order */
	__u16 pad;
};

#endif /* MTOOL_CORRELATOR_ABI_H */
