// The correlator's kernel-side state machine, driven packet by packet with BPF_PROG_TEST_RUN:
// the test program (bpf/correlator.bpf.c, test_crossing) feeds synthetic crossings (skb id,
// device, namespace, hook + an IP packet) to the same code the tracepoints run. Root only.
#include <arpa/inet.h>
#include <bpf/bpf.h>
#include <bpf/libbpf.h>
#include <gtest/gtest.h>
#include <linux/bpf.h>
#include <netinet/in.h>
#include <unistd.h>

#include <algorithm>
#include <array>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <map>
#include <memory>
#include <optional>
#include <vector>

#include "correlator/kernel_programs.h"
#include "correlator_abi.h"
#include "harness.h"
#include "pinned_maps/record_reader.h"
#include "util/error.h"

namespace mtool::testing {
namespace {

using correlator::HookKind;
using correlator::KernelPrograms;

// Namespace cookies (the kernel's start at 1 and count up; these only need to differ).
constexpr std::uint64_t kHostNs = 1000;
constexpr std::uint64_t kContainerNs = 2000;
constexpr std::uint64_t kOtherContainerNs = 3000;
constexpr std::uint64_t kTargetNs = 4000;
constexpr std::uint32_t kContainerEth0 = 2;
constexpr std::uint32_t kVethPeer = 10;
constexpr std::uint32_t kBridge = 11;
constexpr std::uint32_t kUplink = 12;
constexpr std::uint32_t kOtherVethPeer = 13;
constexpr std::uint32_t kTargetEth0 = 2;

// skb addresses as the kernel's look: slab objects, 256-byte aligned.
constexpr std::uint64_t skb(std::uint64_t n) { return 0xffff888100000000ULL + n * 0x100; }

struct Echo {
  const char* src;
  const char* dst;
  std::uint16_t ident;
  std::uint16_t sequence;
  bool reply = false;
  std::uint8_t protocol = IPPROTO_ICMP;  // anything else: not a probe
  std::uint16_t fragment_offset = 0;
};

std::vector<std::uint8_t> ipv4_packet(const Echo& e) {
  std::vector<std::uint8_t> p(28, 0);
  p[0] = 0x45;
  p[3] = 28;
  p[6] = static_cast<std::uint8_t>(e.fragment_offset >> 8);
  p[7] = static_cast<std::uint8_t>(e.fragment_offset);
  p[8] = 64;
  p[9] = e.protocol;
  inet_pton(AF_INET, e.src, &p[12]);
  inet_pton(AF_INET, e.dst, &p[16]);
  p[20] = e.reply ? 0 : 8;
  p[24] = static_cast<std::uint8_t>(e.ident >> 8);
  p[25] = static_cast<std::uint8_t>(e.ident);
  p[26] = static_cast<std::uint8_t>(e.sequence >> 8);
  p[27] = static_cast<std::uint8_t>(e.sequence);
  return p;
}

std::vector<std::uint8_t> ipv6_packet(const char* src, const char* dst, std::uint16_t ident,
                                      std::uint16_t seq, bool reply) {
  std::vector<std::uint8_t> p(48, 0);
  p[0] = 0x60;
  p[5] = 8;
  p[6] = IPPROTO_ICMPV6;
  p[7] = 64;
  inet_pton(AF_INET6, src, &p[8]);
  inet_pton(AF_INET6, dst, &p[24]);
  p[40] = reply ? 129 : 128;
  p[44] = static_cast<std::uint8_t>(ident >> 8);
  p[45] = static_cast<std::uint8_t>(ident);
  p[46] = static_cast<std::uint8_t>(seq >> 8);
  p[47] = static_cast<std::uint8_t>(seq);
  return p;
}

// An IPv4 packet of `protocol` with `transport` after a 20-byte header.
std::vector<std::uint8_t> ipv4_with(const char* src, const char* dst, std::uint8_t protocol,
                                    std::uint8_t ttl, const std::vector<std::uint8_t>& transport) {
  std::vector<std::uint8_t> p(20, 0);
  p[0] = 0x45;
  p[3] = static_cast<std::uint8_t>(20 + transport.size());
  p[8] = ttl;
  p[9] = protocol;
  inet_pton(AF_INET, src, &p[12]);
  inet_pton(AF_INET, dst, &p[16]);
  p.insert(p.end(), transport.begin(), transport.end());
  return p;
}

void put16(std::vector<std::uint8_t>& b, std::size_t at, std::uint16_t v) {
  b[at] = static_cast<std::uint8_t>(v >> 8);
  b[at + 1] = static_cast<std::uint8_t>(v);
}

void put32(std::vector<std::uint8_t>& b, std::size_t at, std::uint32_t v) {
  put16(b, at, static_cast<std::uint16_t>(v >> 16));
  put16(b, at + 2, static_cast<std::uint16_t>(v));
}

// A traceroute UDP probe (its TTL small, as traceroute's are).
std::vector<std::uint8_t> udp_probe(const char* src, const char* dst, std::uint16_t sport,
                                    std::uint16_t dport, std::uint8_t ttl = 3,
                                    std::uint16_t checksum = 0) {
  std::vector<std::uint8_t> u(8, 0);
  put16(u, 0, sport);
  put16(u, 2, dport);
  put16(u, 4, 8);
  put16(u, 6, checksum);
  return ipv4_with(src, dst, IPPROTO_UDP, ttl, u);
}

constexpr std::uint8_t kSyn = 0x02;
constexpr std::uint8_t kRst = 0x04;
constexpr std::uint8_t kAck = 0x10;

std::vector<std::uint8_t> tcp_segment(const char* src, const char* dst, std::uint16_t sport,
                                      std::uint16_t dport, std::uint32_t seq, std::uint32_t ack,
                                      std::uint8_t flags, std::uint8_t ttl = 3) {
  std::vector<std::uint8_t> t(20, 0);
  put16(t, 0, sport);
  put16(t, 2, dport);
  put32(t, 4, seq);
  put32(t, 8, ack);
  t[12] = 0x50;
  t[13] = flags;
  return ipv4_with(src, dst, IPPROTO_TCP, ttl, t);
}

// An ICMP error from `from` to `to` quoting the first 28 bytes of `probe`.
std::vector<std::uint8_t> icmp_error(const char* from, const char* to, std::uint8_t type,
                                     std::uint8_t code, const std::vector<std::uint8_t>& probe) {
  std::vector<std::uint8_t> icmp(8, 0);
  icmp[0] = type;
  icmp[1] = code;
  icmp.insert(icmp.end(), probe.begin(), probe.begin() + 28);
  return ipv4_with(from, to, IPPROTO_ICMP, 64, icmp);
}

class BpfStateMachine : public ::testing::Test {
 protected:
  void SetUp() override {
    if (!running_as_root()) GTEST_SKIP() << "needs root: loads BPF programs";
    pin_dir_ = "/sys/fs/bpf/mtool-statemachine-" + std::to_string(getpid());
    load_programs(MTOOL_NAMESPACE_PROBE_RATE_DEFAULT);
  }
  // (Re)loads the test program on fresh maps, each namespace allowed `namespace_probe_rate`
  // followed probes a second (and the host's own too if `follow_host_probes`); both
  // containers subscribed.
  void load_programs(std::uint32_t namespace_probe_rate, bool follow_host_probes = false,
                     bool namespace_histograms = false) {
    programs_.reset();
    std::error_code ec;
    std::filesystem::remove_all(pin_dir_, ec);
    programs_ = std::make_unique<KernelPrograms>(
        pin_dir_, kHostNs, KernelPrograms::Purpose::kTest,
        correlator::ProgramTuning{namespace_probe_rate, follow_host_probes, namespace_histograms});
    programs_->set_uplinks({kUplink});
    programs_->subscribe(kContainerNs, mono_from_ns(1));
    programs_->subscribe(kOtherContainerNs, mono_from_ns(1));
  }
  void TearDown() override {
    programs_.reset();
    std::error_code ec;
    if (!pin_dir_.empty()) std::filesystem::remove_all(pin_dir_, ec);
  }

  // One crossing; returns the program's verdict (XDP_DROP: seen as a probe, XDP_PASS: not).
  int cross(std::uint64_t skb, std::uint32_t ifindex, std::uint64_t netns, std::uint32_t hook,
            const std::vector<std::uint8_t>& packet, std::uint16_t ethertype = 0x0800,
            std::uint32_t input_ifindex = 0, std::uint32_t sender_pid = 0,
            bool raw_socket = false) {
    mtool_test_crossing c{};
    c.skb_id = skb;
    c.netns = netns;
    c.ifindex = ifindex;
    c.hook = hook;
    c.input_ifindex = input_ifindex;
    c.sender_pid = sender_pid;
    c.ethertype = ethertype;
    c.raw_socket = raw_socket ? 1 : 0;
    std::vector<std::uint8_t> data(sizeof c);
    std::memcpy(data.data(), &c, sizeof c);
    data.insert(data.end(), packet.begin(), packet.end());
    LIBBPF_OPTS(bpf_test_run_opts, opts, .data_in = data.data(),
                .data_size_in = static_cast<__u32>(data.size()), .repeat = 1);
    EXPECT_EQ(bpf_prog_test_run_opts(programs_->test_program_fd(), &opts), 0);
    last_run_ns_ = opts.duration;
    return static_cast<int>(opts.retval);
  }

  std::optional<mtool_record> record(std::uint64_t netns, std::uint16_t ident, std::uint16_t seq,
                                     int family = AF_INET, int protocol = IPPROTO_ICMP,
                                     std::uint16_t checksum = 0) {
    mtool_probe_key key{};
    key.netns = netns;
    key.family = static_cast<std::uint8_t>(family);
    key.protocol = static_cast<std::uint8_t>(protocol);
    key.flow = ident;
    key.sequence = seq;
    key.checksum = checksum;
    mtool_record r{};
    if (bpf_map_lookup_elem(programs_->records_fd(), &key, &r) != 0) return std::nullopt;
    return r;
  }

  // A full round trip of container `netns` through veth `peer`, the bridge, MASQUERADE (ident
  // rewritten to `wire_ident`) and the uplink to 198.19.0.2 and back. Returns how long the
  // program ran (as the kernel timed it) for the last crossing, where the record is completed.
  std::uint32_t round_trip(std::uint64_t netns, std::uint32_t peer, const char* container_addr,
                           std::uint16_t ident, std::uint16_t wire_ident, std::uint16_t seq,
                           std::uint64_t request_skb, std::uint64_t reply_skb) {
    const auto request = ipv4_packet({container_addr, "198.19.0.2", ident, seq});
    const auto request_natted = ipv4_packet({"198.19.0.1", "198.19.0.2", wire_ident, seq});
    const auto reply = ipv4_packet({"198.19.0.2", "198.19.0.1", wire_ident, seq, true});
    const auto reply_denatted = ipv4_packet({"198.19.0.2", container_addr, ident, seq, true});
    cross(request_skb, kContainerEth0, netns, MTOOL_HOOK_DEV_QUEUE, request);
    cross(request_skb, peer, kHostNs, MTOOL_HOOK_NETIF_RX, request);
    cross(request_skb, peer, kHostNs, MTOOL_HOOK_RECEIVE_SKB, request);
    cross(request_skb, kBridge, kHostNs, MTOOL_HOOK_RECEIVE_SKB, request);
    cross(request_skb, kUplink, kHostNs, MTOOL_HOOK_DEV_QUEUE, request_natted);
    cross(reply_skb, kUplink, kHostNs, MTOOL_HOOK_NETIF_RX, reply);
    cross(reply_skb, kUplink, kHostNs, MTOOL_HOOK_RECEIVE_SKB, reply);
    cross(reply_skb, kBridge, kHostNs, MTOOL_HOOK_DEV_QUEUE, reply_denatted);
    cross(reply_skb, peer, kHostNs, MTOOL_HOOK_DEV_QUEUE, reply_denatted);
    cross(reply_skb, kContainerEth0, netns, MTOOL_HOOK_NETIF_RX, reply_denatted);
    return last_run_ns_;
  }

  std::uint32_t last_run_ns_ = 0;  // the last cross()'s run time
  std::string pin_dir_;
  std::unique_ptr<KernelPrograms> programs_;
};

TEST_F(BpfStateMachine, RoundTripThroughNatWritesOneRecord) {
  round_trip(kContainerNs, kVethPeer, "198.18.16.2", 4242, 27071, 1, skb(0xA000), skb(0xB000));
  const auto r = record(kContainerNs, 4242, 1);
  ASSERT_TRUE(r.has_value());
  EXPECT_EQ(r->wire_flow, 27071);
  EXPECT_EQ(r->uplink_ifindex, kUplink);
  ASSERT_EQ(r->egress_count, 5);
  ASSERT_EQ(r->ingress_count, 5);
  EXPECT_EQ(r->egress[0].ifindex, kContainerEth0);
  EXPECT_EQ(r->egress[0].netns, kContainerNs);
  EXPECT_EQ(r->egress[3].ifindex, kBridge);
  EXPECT_EQ(r->egress[4].ifindex, kUplink);
  EXPECT_EQ(r->ingress[0].ifindex, kUplink);
  EXPECT_EQ(r->ingress[4].netns, kContainerNs);
  EXPECT_LE(r->sender_tx_ns, r->uplink_tx_ns);
  EXPECT_LE(r->uplink_tx_ns, r->uplink_rx_ns);
  EXPECT_LE(r->uplink_rx_ns, r->sender_rx_ns);
  EXPECT_EQ(r->target_count, 0);
  const auto c = programs_->counters();
  EXPECT_EQ(c[MTOOL_CTR_RECORDS_WRITTEN], 1u);
  EXPECT_EQ(c[MTOOL_CTR_EGRESS_COMPLETED], 1u);
  EXPECT_EQ(c[MTOOL_CTR_UNMATCHED_REPLIES], 0u);
}

TEST_F(BpfStateMachine, SameIdentInTwoContainersGetsTwoRecords) {
  // Both send ident 4242 seq 7; NAT leaves the first alone and rewrites the second.
  round_trip(kContainerNs, kVethPeer, "198.18.16.2", 4242, 4242, 7, skb(0xA100), skb(0xB100));
  round_trip(kOtherContainerNs, kOtherVethPeer, "198.18.16.11", 4242, 555, 7, skb(0xA200),
             skb(0xB200));
  const auto first = record(kContainerNs, 4242, 7);
  const auto second = record(kOtherContainerNs, 4242, 7);
  ASSERT_TRUE(first && second);
  EXPECT_EQ(first->wire_flow, 4242);
  EXPECT_EQ(second->wire_flow, 555);
  EXPECT_EQ(first->egress[1].ifindex, kVethPeer);
  EXPECT_EQ(second->egress[1].ifindex, kOtherVethPeer);
}

TEST_F(BpfStateMachine, InterleavedProbesStayApart) {
  // Two containers' requests are in flight at once before either reply comes back.
  const auto a = ipv4_packet({"198.18.16.2", "198.19.0.2", 4242, 9});
  const auto b = ipv4_packet({"198.18.16.11", "198.19.0.2", 4242, 9});
  cross(skb(0xC1), kContainerEth0, kContainerNs, MTOOL_HOOK_DEV_QUEUE, a);
  cross(skb(0xC2), kContainerEth0, kOtherContainerNs, MTOOL_HOOK_DEV_QUEUE, b);
  cross(skb(0xC1), kUplink, kHostNs, MTOOL_HOOK_DEV_QUEUE,
        ipv4_packet({"198.19.0.1", "198.19.0.2", 4242, 9}));
  cross(skb(0xC2), kUplink, kHostNs, MTOOL_HOOK_DEV_QUEUE,
        ipv4_packet({"198.19.0.1", "198.19.0.2", 600, 9}));
  // Replies in the other order.
  cross(skb(0xD2), kUplink, kHostNs, MTOOL_HOOK_NETIF_RX,
        ipv4_packet({"198.19.0.2", "198.19.0.1", 600, 9, true}));
  cross(skb(0xD1), kUplink, kHostNs, MTOOL_HOOK_NETIF_RX,
        ipv4_packet({"198.19.0.2", "198.19.0.1", 4242, 9, true}));
  cross(skb(0xD2), kContainerEth0, kOtherContainerNs, MTOOL_HOOK_NETIF_RX,
        ipv4_packet({"198.19.0.2", "198.18.16.11", 4242, 9, true}));
  cross(skb(0xD1), kContainerEth0, kContainerNs, MTOOL_HOOK_NETIF_RX,
        ipv4_packet({"198.19.0.2", "198.18.16.2", 4242, 9, true}));
  const auto first = record(kContainerNs, 4242, 9);
  const auto second = record(kOtherContainerNs, 4242, 9);
  ASSERT_TRUE(first && second);
  EXPECT_EQ(first->wire_flow, 4242);
  EXPECT_EQ(second->wire_flow, 600);
}

TEST_F(BpfStateMachine, ReusedBufferStartsAFreshFlight) {
  // A request's buffer is dropped inside the host (its flight never ends) and then reused for
  // a reply of an unrelated probe: the stale flight must not be continued.
  cross(skb(0xE0), kContainerEth0, kContainerNs, MTOOL_HOOK_DEV_QUEUE,
        ipv4_packet({"198.18.16.2", "198.19.0.2", 1, 1}));
  round_trip(kContainerNs, kVethPeer, "198.18.16.2", 2, 2, 2, skb(0xE1), skb(0xE0));
  const auto r = record(kContainerNs, 2, 2);
  ASSERT_TRUE(r.has_value());
  EXPECT_EQ(r->ingress_count, 5);
  EXPECT_FALSE(record(kContainerNs, 1, 1).has_value());
  EXPECT_EQ(programs_->counters()[MTOOL_CTR_STALE_FLIGHTS], 1u);
}

TEST_F(BpfStateMachine, UnsubscribedNamespaceIsNotFollowed) {
  constexpr std::uint64_t kStranger = 5000;
  round_trip(kStranger, kVethPeer, "198.18.16.20", 9, 9, 1, skb(0xF0), skb(0xF1));
  EXPECT_FALSE(record(kStranger, 9, 1).has_value());
  EXPECT_EQ(programs_->counters()[MTOOL_CTR_EGRESS_STARTED], 0u);
}

TEST_F(BpfStateMachine, NonProbesPassUntouched) {
  EXPECT_EQ(cross(1, kContainerEth0, kContainerNs, MTOOL_HOOK_DEV_QUEUE,
                  ipv4_packet({"198.18.16.2", "198.19.0.2", 1, 1, false, IPPROTO_UDP})),
            XDP_PASS);
  EXPECT_EQ(cross(1, kContainerEth0, kContainerNs, MTOOL_HOOK_DEV_QUEUE,
                  ipv4_packet({"198.18.16.2", "198.19.0.2", 1, 1, false, IPPROTO_ICMP, 0x0010})),
            XDP_PASS);  // a non-first fragment
  auto unreachable = ipv4_packet({"198.18.16.2", "198.19.0.2", 1, 1});
  unreachable[20] = 3;
  EXPECT_EQ(cross(1, kContainerEth0, kContainerNs, MTOOL_HOOK_DEV_QUEUE, unreachable), XDP_PASS);
  EXPECT_EQ(cross(1, kContainerEth0, kContainerNs, MTOOL_HOOK_DEV_QUEUE,
                  ipv4_packet({"198.18.16.2", "198.19.0.2", 1, 1}), 0x0806),
            XDP_PASS);  // ARP
  EXPECT_EQ(cross(1, kContainerEth0, kContainerNs, MTOOL_HOOK_DEV_QUEUE,
                  ipv4_packet({"198.18.16.2", "198.19.0.2", 1, 1})),
            XDP_DROP);  // the one probe
  EXPECT_EQ(programs_->counters()[MTOOL_CTR_EGRESS_STARTED], 1u);
}

TEST_F(BpfStateMachine, Ipv6EchoIsFollowed) {
  const char* c = "fd00:6d74:10::2";
  const char* t = "fd00:6d74:20::2";
  cross(skb(0x61), kContainerEth0, kContainerNs, MTOOL_HOOK_DEV_QUEUE,
        ipv6_packet(c, t, 77, 3, false), 0x86DD);
  cross(skb(0x61), kVethPeer, kHostNs, MTOOL_HOOK_NETIF_RX, ipv6_packet(c, t, 77, 3, false),
        0x86DD);
  cross(skb(0x61), kUplink, kHostNs, MTOOL_HOOK_DEV_QUEUE, ipv6_packet(c, t, 77, 3, false), 0x86DD);
  cross(skb(0x62), kUplink, kHostNs, MTOOL_HOOK_NETIF_RX, ipv6_packet(t, c, 77, 3, true), 0x86DD);
  cross(skb(0x62), kContainerEth0, kContainerNs, MTOOL_HOOK_NETIF_RX,
        ipv6_packet(t, c, 77, 3, true), 0x86DD);
  const auto r = record(kContainerNs, 77, 3, AF_INET6, IPPROTO_ICMPV6);
  ASSERT_TRUE(r.has_value());
  EXPECT_EQ(r->egress_count, 3);
  EXPECT_EQ(r->ingress_count, 2);
}

TEST_F(BpfStateMachine, LocalTargetSideIsRecorded) {
  const auto natted = ipv4_packet({"198.19.0.1", "198.19.0.2", 31, 4});
  const auto reply = ipv4_packet({"198.19.0.2", "198.19.0.1", 31, 4, true});
  cross(skb(0x71), kContainerEth0, kContainerNs, MTOOL_HOOK_DEV_QUEUE,
        ipv4_packet({"198.18.16.2", "198.19.0.2", 31, 4}));
  cross(skb(0x71), kUplink, kHostNs, MTOOL_HOOK_DEV_QUEUE, natted);
  cross(skb(0x71), kTargetEth0, kTargetNs, MTOOL_HOOK_NETIF_RX, natted);
  cross(skb(0x71), kTargetEth0, kTargetNs, MTOOL_HOOK_RECEIVE_SKB, natted);
  cross(skb(0x72), kTargetEth0, kTargetNs, MTOOL_HOOK_DEV_QUEUE, reply);
  cross(skb(0x72), kUplink, kHostNs, MTOOL_HOOK_NETIF_RX, reply);
  cross(skb(0x72), kContainerEth0, kContainerNs, MTOOL_HOOK_NETIF_RX,
        ipv4_packet({"198.19.0.2", "198.18.16.2", 31, 4, true}));
  const auto r = record(kContainerNs, 31, 4);
  ASSERT_TRUE(r.has_value());
  ASSERT_EQ(r->target_count, 3);
  EXPECT_EQ(r->target[0].hook, static_cast<std::uint32_t>(MTOOL_HOOK_NETIF_RX));
  EXPECT_EQ(r->target[2].hook, static_cast<std::uint32_t>(MTOOL_HOOK_DEV_QUEUE));
  EXPECT_EQ(r->target[0].netns, kTargetNs);
}

TEST_F(BpfStateMachine, UnmatchedReplyIsCounted) {
  // A probe with uplink identifier 5 is waiting; a reply with that identifier but another
  // sequence matches nothing and is counted. A reply with an identifier nobody waits for (the
  // host's own ping, say) is passed over without a lookup, and not counted.
  cross(skb(0x80), kContainerEth0, kContainerNs, MTOOL_HOOK_DEV_QUEUE,
        ipv4_packet({"198.18.16.2", "198.19.0.2", 5, 1}));
  cross(skb(0x80), kUplink, kHostNs, MTOOL_HOOK_DEV_QUEUE,
        ipv4_packet({"198.19.0.1", "198.19.0.2", 5, 1}));
  cross(skb(0x81), kUplink, kHostNs, MTOOL_HOOK_NETIF_RX,
        ipv4_packet({"198.19.0.2", "198.19.0.1", 5, 6, true}));
  cross(skb(0x82), kUplink, kHostNs, MTOOL_HOOK_NETIF_RX,
        ipv4_packet({"198.19.0.2", "198.19.0.1", 9, 1, true}));
  EXPECT_EQ(programs_->counters()[MTOOL_CTR_UNMATCHED_REPLIES], 1u);
  EXPECT_EQ(programs_->counters()[MTOOL_CTR_RECORDS_WRITTEN], 0u);
}

TEST_F(BpfStateMachine, SlotCollisionIsCounted) {
  // Two buffers whose addresses share a slot, both in flight: the newer one wins.
  constexpr std::uint64_t kA = skb(0x10);
  constexpr std::uint64_t kB =
      kA + (std::uint64_t{1} << 32);  // differs only above the bits slots use
  cross(kA, kContainerEth0, kContainerNs, MTOOL_HOOK_DEV_QUEUE,
        ipv4_packet({"198.18.16.2", "198.19.0.2", 1, 1}));
  cross(kB, kContainerEth0, kContainerNs, MTOOL_HOOK_DEV_QUEUE,
        ipv4_packet({"198.18.16.2", "198.19.0.2", 1, 2}));
  EXPECT_EQ(programs_->counters()[MTOOL_CTR_SLOT_COLLISIONS], 1u);
}

// A UDP traceroute probe goes out through NAT (source port rewritten); a router beyond the
// uplink answers time exceeded, quoting the probe as the uplink sent it; conntrack rewrites the
// quote back on the way in. The record is the probe's, keyed by its own ports.
TEST_F(BpfStateMachine, UdpProbeAndItsTimeExceededMakeOneRecord) {
  const auto probe = udp_probe("198.18.16.2", "198.19.64.10", 40000, 33436);
  const auto natted = udp_probe("198.19.0.1", "198.19.64.10", 51000, 33436, 2);
  cross(skb(0x90), kContainerEth0, kContainerNs, MTOOL_HOOK_DEV_QUEUE, probe);
  cross(skb(0x90), kVethPeer, kHostNs, MTOOL_HOOK_NETIF_RX, probe);
  cross(skb(0x90), kUplink, kHostNs, MTOOL_HOOK_DEV_QUEUE, natted);
  const auto error = icmp_error("198.19.64.2", "198.19.0.1", 11, 0, natted);
  const auto error_back = icmp_error("198.19.64.2", "198.18.16.2", 11, 0, probe);
  EXPECT_EQ(cross(skb(0x91), kUplink, kHostNs, MTOOL_HOOK_NETIF_RX, error), XDP_DROP);
  cross(skb(0x91), kBridge, kHostNs, MTOOL_HOOK_DEV_QUEUE, error_back);
  cross(skb(0x91), kContainerEth0, kContainerNs, MTOOL_HOOK_NETIF_RX, error_back);
  const auto r = record(kContainerNs, 40000, 33436, AF_INET, IPPROTO_UDP);
  ASSERT_TRUE(r.has_value());
  EXPECT_EQ(r->wire_flow, 51000);
  EXPECT_EQ(r->flags & MTOOL_RECORD_ANSWERED_INSIDE, 0);
  EXPECT_GT(r->uplink_tx_ns, 0u);
  EXPECT_EQ(r->egress_count, 3);
  EXPECT_EQ(r->ingress_count, 3);
}

// TCP SYN out, the target's reset back: the reset names the probe by its ports and by
// acknowledging ISN + 1.
TEST_F(BpfStateMachine, TcpSynAndItsResetMakeOneRecord) {
  const std::uint32_t isn = 0x12345678;
  const auto syn = tcp_segment("198.18.16.2", "198.19.0.2", 41000, 80, isn, 0, kSyn);
  const auto syn_natted = tcp_segment("198.19.0.1", "198.19.0.2", 41000, 80, isn, 0, kSyn, 2);
  const auto reset =
      tcp_segment("198.19.0.2", "198.19.0.1", 80, 41000, 0, isn + 1, kRst | kAck, 64);
  const auto reset_back =
      tcp_segment("198.19.0.2", "198.18.16.2", 80, 41000, 0, isn + 1, kRst | kAck, 63);
  cross(skb(0xA0), kContainerEth0, kContainerNs, MTOOL_HOOK_DEV_QUEUE, syn);
  cross(skb(0xA0), kUplink, kHostNs, MTOOL_HOOK_DEV_QUEUE, syn_natted);
  cross(skb(0xA1), kUplink, kHostNs, MTOOL_HOOK_NETIF_RX, reset);
  cross(skb(0xA1), kContainerEth0, kContainerNs, MTOOL_HOOK_NETIF_RX, reset_back);
  EXPECT_TRUE(record(kContainerNs, 41000, isn & 0xFFFF, AF_INET, IPPROTO_TCP).has_value());
}

// The container's gateway answers a TTL-1 probe itself: the reply starts on the bridge (a host
// device, not an uplink), quoting the probe before NAT. It is joined to the probe and marked.
TEST_F(BpfStateMachine, ReplyMadeInsideTheHostIsJoinedAndMarked) {
  const auto probe = udp_probe("198.18.16.2", "198.19.64.10", 40001, 33434, 1);
  cross(skb(0xB0), kContainerEth0, kContainerNs, MTOOL_HOOK_DEV_QUEUE, probe);
  cross(skb(0xB0), kVethPeer, kHostNs, MTOOL_HOOK_NETIF_RX, probe);
  cross(skb(0xB0), kBridge, kHostNs, MTOOL_HOOK_RECEIVE_SKB, probe);
  const auto error = icmp_error("198.18.16.1", "198.18.16.2", 11, 0, probe);
  EXPECT_EQ(cross(skb(0xB1), kBridge, kHostNs, MTOOL_HOOK_DEV_QUEUE, error), XDP_DROP);
  cross(skb(0xB1), kVethPeer, kHostNs, MTOOL_HOOK_DEV_QUEUE, error);
  cross(skb(0xB1), kContainerEth0, kContainerNs, MTOOL_HOOK_NETIF_RX, error);
  const auto r = record(kContainerNs, 40001, 33434, AF_INET, IPPROTO_UDP);
  ASSERT_TRUE(r.has_value());
  EXPECT_NE(r->flags & MTOOL_RECORD_ANSWERED_INSIDE, 0);
  EXPECT_GE(r->uplink_tx_ns, r->sender_tx_ns);
  EXPECT_GE(r->uplink_rx_ns, r->uplink_tx_ns);
  EXPECT_GE(r->sender_rx_ns, r->uplink_rx_ns);
}

// A reply the host forwards from outside is not mistaken for one it made: the probe reached
// the uplink, so its flight no longer stands for an unanswered probe.
TEST_F(BpfStateMachine, ForwardedReplyIsNotMarkedInside) {
  const auto probe = udp_probe("198.18.16.2", "198.19.64.10", 40002, 33435, 2);
  cross(skb(0xC0), kContainerEth0, kContainerNs, MTOOL_HOOK_DEV_QUEUE, probe);
  cross(skb(0xC0), kUplink, kHostNs, MTOOL_HOOK_DEV_QUEUE,
        udp_probe("198.19.0.1", "198.19.64.10", 40002, 33435, 1));
  // Its reply arrives unseen on the uplink (say, the flight slot was taken), then shows on the
  // bridge already rewritten: no inside record may come of it.
  const auto error_back = icmp_error("198.19.0.2", "198.18.16.2", 11, 0, probe);
  cross(skb(0xC1), kBridge, kHostNs, MTOOL_HOOK_DEV_QUEUE, error_back);
  cross(skb(0xC1), kContainerEth0, kContainerNs, MTOOL_HOOK_NETIF_RX, error_back);
  EXPECT_FALSE(record(kContainerNs, 40002, 33435, AF_INET, IPPROTO_UDP).has_value());
}

// Paris: two probes of one flow (same ports) from a raw socket, in flight at once, told apart
// only by their checksums, which NAT rewrites with the source address. Each reply quotes its
// probe after NAT on the uplink, before NAT in the container: each probe gets its own record,
// under its checksum as sent; nothing is recorded under the ports alone.
TEST_F(BpfStateMachine, RawUdpProbesOfOneFlowAreToldApartByTheirChecksums) {
  const std::uint16_t sent[2] = {0x0101, 0x0102};
  const std::uint16_t natted_sum[2] = {0x7A11, 0x7A12};
  std::vector<std::uint8_t> probe[2];
  std::vector<std::uint8_t> natted[2];
  for (int i = 0; i < 2; ++i) {
    probe[i] = udp_probe("198.18.16.2", "198.19.64.10", 40010, 33437, 3, sent[i]);
    natted[i] = udp_probe("198.19.0.1", "198.19.64.10", 40010, 33437, 2, natted_sum[i]);
    const std::uint64_t out = skb(0xE0 + i);
    EXPECT_EQ(cross(out, kContainerEth0, kContainerNs, MTOOL_HOOK_DEV_QUEUE, probe[i], 0x0800, 0, 0,
                    true),
              XDP_DROP);
    cross(out, kVethPeer, kHostNs, MTOOL_HOOK_NETIF_RX, probe[i]);
    cross(out, kUplink, kHostNs, MTOOL_HOOK_DEV_QUEUE, natted[i]);
  }
  for (int i = 1; i >= 0; --i) {  // answered in the other order
    const std::uint64_t back = skb(0xE8 + i);
    cross(back, kUplink, kHostNs, MTOOL_HOOK_NETIF_RX,
          icmp_error("198.19.64.2", "198.19.0.1", 11, 0, natted[i]));
    const auto error_back = icmp_error("198.19.64.2", "198.18.16.2", 11, 0, probe[i]);
    cross(back, kBridge, kHostNs, MTOOL_HOOK_DEV_QUEUE, error_back);
    cross(back, kContainerEth0, kContainerNs, MTOOL_HOOK_NETIF_RX, error_back);
  }
  for (int i = 0; i < 2; ++i) {
    const auto r = record(kContainerNs, 40010, 33437, AF_INET, IPPROTO_UDP, sent[i]);
    ASSERT_TRUE(r.has_value()) << i;
    EXPECT_EQ(r->key.checksum, sent[i]);
    EXPECT_EQ(r->egress_count, 3);
    EXPECT_EQ(r->ingress_count, 3);
  }
  EXPECT_FALSE(record(kContainerNs, 40010, 33437, AF_INET, IPPROTO_UDP).has_value());
  const auto c = programs_->counters();
  EXPECT_EQ(c[MTOOL_CTR_RECORDS_WRITTEN], 2u);
  EXPECT_EQ(c[MTOOL_CTR_UNMATCHED_REPLIES], 0u);
}

// The same flow's first hop: the container's gateway answers two TTL-1 raw probes itself; each
// answer is joined to its own probe by the checksum it quotes.
TEST_F(BpfStateMachine, RawUdpProbesOfOneFlowAnsweredInsideAreToldApart) {
  const std::uint16_t sent[2] = {0x0201, 0x0202};
  std::vector<std::uint8_t> probe[2];
  for (int i = 0; i < 2; ++i) {
    probe[i] = udp_probe("198.18.16.2", "198.19.64.10", 40011, 33437, 1, sent[i]);
    const std::uint64_t out = skb(0xF0 + i);
    cross(out, kContainerEth0, kContainerNs, MTOOL_HOOK_DEV_QUEUE, probe[i], 0x0800, 0, 0, true);
    cross(out, kVethPeer, kHostNs, MTOOL_HOOK_NETIF_RX, probe[i]);
    cross(out, kBridge, kHostNs, MTOOL_HOOK_RECEIVE_SKB, probe[i]);
  }
  for (int i = 0; i < 2; ++i) {
    const std::uint64_t back = skb(0xF8 + i);
    const auto error = icmp_error("198.18.16.1", "198.18.16.2", 11, 0, probe[i]);
    EXPECT_EQ(cross(back, kBridge, kHostNs, MTOOL_HOOK_DEV_QUEUE, error), XDP_DROP);
    cross(back, kContainerEth0, kContainerNs, MTOOL_HOOK_NETIF_RX, error);
  }
  for (int i = 0; i < 2; ++i) {
    const auto r = record(kContainerNs, 40011, 33437, AF_INET, IPPROTO_UDP, sent[i]);
    ASSERT_TRUE(r.has_value()) << i;
    EXPECT_NE(r->flags & MTOOL_RECORD_ANSWERED_INSIDE, 0);
  }
}

// A kernel-made UDP checksum (a connected socket's) may be partial where the correlator sees
// it, and its sender cannot know it: such a probe is keyed by its ports alone.
TEST_F(BpfStateMachine, UdpFromANonRawSocketIsKeyedByItsPorts) {
  const auto probe = udp_probe("198.18.16.2", "198.19.64.10", 40012, 33437, 3, 0x5555);
  const auto natted = udp_probe("198.19.0.1", "198.19.64.10", 40012, 33437, 2, 0x6666);
  cross(skb(0x1E0), kContainerEth0, kContainerNs, MTOOL_HOOK_DEV_QUEUE, probe);
  cross(skb(0x1E0), kUplink, kHostNs, MTOOL_HOOK_DEV_QUEUE, natted);
  // The device filled the checksum in after the correlator saw the packet: the quote differs.
  const auto on_the_wire = udp_probe("198.19.0.1", "198.19.64.10", 40012, 33437, 2, 0x1234);
  cross(skb(0x1E1), kUplink, kHostNs, MTOOL_HOOK_NETIF_RX,
        icmp_error("198.19.64.2", "198.19.0.1", 11, 0, on_the_wire));
  const auto error_back = icmp_error("198.19.64.2", "198.18.16.2", 11, 0, probe);
  cross(skb(0x1E1), kContainerEth0, kContainerNs, MTOOL_HOOK_NETIF_RX, error_back);
  EXPECT_TRUE(record(kContainerNs, 40012, 33437, AF_INET, IPPROTO_UDP).has_value());
}

// Ordinary UDP and TCP from a subscribed container (TTL 64) are not probes.
TEST_F(BpfStateMachine, OrdinaryUdpAndTcpAreNotFollowed) {
  EXPECT_EQ(cross(skb(0xD0), kContainerEth0, kContainerNs, MTOOL_HOOK_DEV_QUEUE,
                  udp_probe("198.18.16.2", "198.19.0.2", 5353, 53, 64)),
            XDP_PASS);
  EXPECT_EQ(cross(skb(0xD1), kContainerEth0, kContainerNs, MTOOL_HOOK_DEV_QUEUE,
                  tcp_segment("198.18.16.2", "198.19.0.2", 43000, 443, 7, 0, kSyn, 64)),
            XDP_PASS);
  EXPECT_EQ(cross(skb(0xD2), kContainerEth0, kContainerNs, MTOOL_HOOK_DEV_QUEUE,
                  tcp_segment("198.18.16.2", "198.19.0.2", 43000, 443, 7, 9, kAck, 3)),
            XDP_PASS);  // a plain ACK is neither a probe nor an answer
  EXPECT_EQ(programs_->counters()[MTOOL_CTR_EGRESS_STARTED], 0u);
}

// A neighbour on the bridge (a container with NET_RAW) forges the local target's reply to a
// waiting probe, and a copy of its request: neither may enter the probe's target side (which
// the correction gives back), only the real request's buffer and the namespace it reached.
TEST_F(BpfStateMachine, ForgedTargetSideIsIgnored) {
  const auto natted = ipv4_packet({"198.19.0.1", "198.19.0.2", 31, 4});
  const auto reply = ipv4_packet({"198.19.0.2", "198.19.0.1", 31, 4, true});
  cross(skb(0x71), kContainerEth0, kContainerNs, MTOOL_HOOK_DEV_QUEUE,
        ipv4_packet({"198.18.16.2", "198.19.0.2", 31, 4}));
  cross(skb(0x71), kUplink, kHostNs, MTOOL_HOOK_DEV_QUEUE, natted);
  // Forgeries, before and after the real request arrives.
  cross(skb(0x90), kContainerEth0, kOtherContainerNs, MTOOL_HOOK_DEV_QUEUE, reply);
  cross(skb(0x91), kTargetEth0, kTargetNs, MTOOL_HOOK_NETIF_RX, natted);
  cross(skb(0x71), kTargetEth0, kTargetNs, MTOOL_HOOK_NETIF_RX, natted);
  cross(skb(0x92), kContainerEth0, kOtherContainerNs, MTOOL_HOOK_DEV_QUEUE, reply);
  cross(skb(0x72), kTargetEth0, kTargetNs, MTOOL_HOOK_DEV_QUEUE, reply);
  cross(skb(0x72), kUplink, kHostNs, MTOOL_HOOK_NETIF_RX, reply);
  cross(skb(0x72), kContainerEth0, kContainerNs, MTOOL_HOOK_NETIF_RX,
        ipv4_packet({"198.19.0.2", "198.18.16.2", 31, 4, true}));
  const auto r = record(kContainerNs, 31, 4);
  ASSERT_TRUE(r.has_value());
  ASSERT_EQ(r->target_count, 2);
  EXPECT_EQ(r->target[0].netns, kTargetNs);
  EXPECT_EQ(r->target[0].hook, static_cast<std::uint32_t>(MTOOL_HOOK_NETIF_RX));
  EXPECT_EQ(r->target[1].netns, kTargetNs);
  EXPECT_EQ(r->target[1].hook, static_cast<std::uint32_t>(MTOOL_HOOK_DEV_QUEUE));
  EXPECT_EQ(programs_->counters()[MTOOL_CTR_FOREIGN_CROSSINGS], 3u);
}

// A neighbour forges the gateway's time exceeded for another container's TTL-1 probe: the
// bridge forwards it toward the victim, but the host did not make it (it came in on a device),
// so it is not joined to the probe as an answer from inside the host.
TEST_F(BpfStateMachine, ForgedInsideAnswerIsIgnored) {
  const auto probe = udp_probe("198.18.16.2", "198.19.64.10", 40001, 33434, 1);
  cross(skb(0xB0), kContainerEth0, kContainerNs, MTOOL_HOOK_DEV_QUEUE, probe);
  cross(skb(0xB0), kVethPeer, kHostNs, MTOOL_HOOK_NETIF_RX, probe);
  const auto forged = icmp_error("198.18.16.1", "198.18.16.2", 11, 0, probe);
  EXPECT_EQ(
      cross(skb(0xB1), kVethPeer, kHostNs, MTOOL_HOOK_DEV_QUEUE, forged, 0x0800, kOtherVethPeer),
      XDP_DROP);
  cross(skb(0xB1), kContainerEth0, kContainerNs, MTOOL_HOOK_NETIF_RX, forged);
  EXPECT_FALSE(record(kContainerNs, 40001, 33434, AF_INET, IPPROTO_UDP).has_value());
  EXPECT_EQ(programs_->counters()[MTOOL_CTR_FOREIGN_CROSSINGS], 1u);
}

// The record names the process that sent the probe, so that only it can take the record
// through the socket; a neighbour of the same namespace asking for it gets nothing and leaves
// it in place.
TEST_F(BpfStateMachine, RecordNamesItsSenderAndOnlyItTakesIt) {
  const auto request = ipv4_packet({"198.18.16.2", "198.19.0.2", 61, 1});
  cross(skb(0x61), kContainerEth0, kContainerNs, MTOOL_HOOK_DEV_QUEUE, request, 0x0800, 0, 4321);
  cross(skb(0x61), kUplink, kHostNs, MTOOL_HOOK_DEV_QUEUE,
        ipv4_packet({"198.19.0.1", "198.19.0.2", 61, 1}));
  cross(skb(0x62), kUplink, kHostNs, MTOOL_HOOK_NETIF_RX,
        ipv4_packet({"198.19.0.2", "198.19.0.1", 61, 1, true}));
  cross(skb(0x62), kContainerEth0, kContainerNs, MTOOL_HOOK_NETIF_RX,
        ipv4_packet({"198.19.0.2", "198.18.16.2", 61, 1, true}));
  const auto r = record(kContainerNs, 61, 1);
  ASSERT_TRUE(r.has_value());
  EXPECT_EQ(r->sender_pid, 4321u);
  pinned_maps::RecordReader reader(programs_->records_fd(), programs_->devices_fd());
  mtool_record taken{};
  std::array<mtool_device_name, MTOOL_NAMED_CROSSINGS> names{};
  EXPECT_FALSE(reader.take(r->key, taken, names.data(), 999));
  EXPECT_TRUE(record(kContainerNs, 61, 1).has_value());
  EXPECT_TRUE(reader.take(r->key, taken, names.data(), 4321));
  EXPECT_FALSE(record(kContainerNs, 61, 1).has_value());
}

// The host's own probes: never followed in production, even if the host subscribed.
TEST_F(BpfStateMachine, HostProbesAreNotFollowedByDefault) {
  programs_->subscribe(kHostNs, mono_from_ns(1));
  cross(skb(0x7A00), kUplink, kHostNs, MTOOL_HOOK_DEV_QUEUE,
        ipv4_packet({"198.19.0.1", "198.19.0.2", 31, 1}));
  cross(skb(0x7B00), kUplink, kHostNs, MTOOL_HOOK_NETIF_RX,
        ipv4_packet({"198.19.0.2", "198.19.0.1", 31, 1, true}));
  EXPECT_FALSE(record(kHostNs, 31, 1).has_value());
  EXPECT_EQ(programs_->counters()[MTOOL_CTR_EGRESS_STARTED], 0u);
}

// --follow-host-probes (tests and benchmarks): a subscribed host's probe is timed from the
// uplink's transmission to its reception, nothing before or after; containers as ever.
TEST_F(BpfStateMachine, FollowedHostProbeTimesTheWireOnly) {
  load_programs(MTOOL_NAMESPACE_PROBE_RATE_DEFAULT, /*follow_host_probes=*/true);
  const auto request = ipv4_packet({"198.19.0.1", "198.19.0.2", 32, 1});
  const auto reply = ipv4_packet({"198.19.0.2", "198.19.0.1", 32, 1, true});
  // Not subscribed (no host tool asked): not followed.
  cross(skb(0x7C00), kUplink, kHostNs, MTOOL_HOOK_DEV_QUEUE, request);
  cross(skb(0x7D00), kUplink, kHostNs, MTOOL_HOOK_NETIF_RX, reply);
  EXPECT_FALSE(record(kHostNs, 32, 1).has_value());

  programs_->subscribe(kHostNs, mono_from_ns(1));
  // Leaving by a device that is not an uplink (the host pinging a container): not a probe of
  // the wire.
  cross(skb(0x7E00), kBridge, kHostNs, MTOOL_HOOK_DEV_QUEUE,
        ipv4_packet({"198.18.16.1", "198.18.16.2", 33, 1}));
  EXPECT_EQ(programs_->counters()[MTOOL_CTR_EGRESS_STARTED], 0u);

  cross(skb(0x7C00), kUplink, kHostNs, MTOOL_HOOK_DEV_QUEUE, request);
  cross(skb(0x7D00), kUplink, kHostNs, MTOOL_HOOK_NETIF_RX, reply);
  cross(skb(0x7D00), kUplink, kHostNs, MTOOL_HOOK_RECEIVE_SKB, reply);
  const auto r = record(kHostNs, 32, 1);
  ASSERT_TRUE(r.has_value());
  EXPECT_EQ(r->uplink_ifindex, kUplink);
  ASSERT_EQ(r->egress_count, 1);
  ASSERT_EQ(r->ingress_count, 1);
  EXPECT_EQ(r->sender_tx_ns, r->uplink_tx_ns);  // no egress
  EXPECT_LE(r->uplink_tx_ns, r->uplink_rx_ns);
  EXPECT_EQ(r->sender_rx_ns, r->uplink_rx_ns);  // no ingress (no receive stamp here)
  EXPECT_EQ(programs_->counters()[MTOOL_CTR_RECORDS_WRITTEN], 1u);

  // A container's round trip is followed as without the option.
  round_trip(kContainerNs, kVethPeer, "198.18.16.2", 4242, 27071, 1, skb(0xA000), skb(0xB000));
  const auto c = record(kContainerNs, 4242, 1);
  ASSERT_TRUE(c.has_value());
  EXPECT_EQ(c->egress_count, 5);
  EXPECT_EQ(c->ingress_count, 5);
}

// One namespace may have only so many probes a second followed: a flood beyond the burst is
// not followed (and costs the others nothing), while another namespace's probe still is.
TEST_F(BpfStateMachine, NamespaceRateLimitsItsOwnProbesOnly) {
  load_programs(/*namespace_probe_rate=*/10);
  const int flood = MTOOL_NAMESPACE_PROBE_BURST + 100;
  for (int i = 0; i < flood; ++i) {
    cross(
        skb(0x10000 + static_cast<std::uint64_t>(i)), kContainerEth0, kContainerNs,
        MTOOL_HOOK_DEV_QUEUE,
        udp_probe("198.18.16.2", "198.19.0.2", 40000, static_cast<std::uint16_t>(33434 + i % 30)));
  }
  auto c = programs_->counters();
  EXPECT_GE(c[MTOOL_CTR_RATE_LIMITED], 90u);
  EXPECT_LE(c[MTOOL_CTR_EGRESS_STARTED],
            static_cast<std::uint64_t>(MTOOL_NAMESPACE_PROBE_BURST + 10));
  round_trip(kOtherContainerNs, kOtherVethPeer, "198.18.16.11", 77, 77, 1, skb(0x9A00),
             skb(0x9B00));
  EXPECT_TRUE(record(kOtherContainerNs, 77, 1).has_value());
}

// Probes nobody answers wait in a map every tenant shares; one namespace may fill only its
// quota of it, so another's probe still finds room and is corrected.
TEST_F(BpfStateMachine, NamespaceWaitingQuotaLeavesRoomForOthers) {
  load_programs(/*namespace_probe_rate=*/100000000);
  const int unanswered = MTOOL_WAITING_PER_NAMESPACE + 50;
  for (int i = 0; i < unanswered; ++i) {
    const std::uint64_t id = skb(0x20000 + static_cast<std::uint64_t>(i));
    const auto sport = static_cast<std::uint16_t>(20000 + i / 60);
    const auto dport = static_cast<std::uint16_t>(33434 + i % 60);
    cross(id, kContainerEth0, kContainerNs, MTOOL_HOOK_DEV_QUEUE,
          udp_probe("198.18.16.2", "198.19.64.10", sport, dport));
    cross(id, kUplink, kHostNs, MTOOL_HOOK_DEV_QUEUE,
          udp_probe("198.19.0.1", "198.19.64.10", sport, dport, 2));
  }
  const auto c = programs_->counters();
  EXPECT_EQ(c[MTOOL_CTR_QUOTA_FULL], 50u);
  EXPECT_EQ(c[MTOOL_CTR_EGRESS_COMPLETED], static_cast<std::uint64_t>(MTOOL_WAITING_PER_NAMESPACE));
  round_trip(kOtherContainerNs, kOtherVethPeer, "198.18.16.11", 78, 78, 1, skb(0x9C00),
             skb(0x9D00));
  EXPECT_TRUE(record(kOtherContainerNs, 78, 1).has_value());
}

// The namespace's histograms (--metrics) as the kernel keeps them: `netns`'s entry, if any.
std::optional<mtool_namespace_histograms> histograms_of(const KernelPrograms& programs,
                                                        std::uint64_t netns) {
  mtool_namespace_histograms h{};
  if (bpf_map_lookup_elem(programs.histograms_fd(), &netns, &h) != 0) return std::nullopt;
  return h;
}

std::uint64_t samples(const mtool_latency_histogram& h) {
  std::uint64_t n = 0;
  for (const std::uint64_t count : h.buckets) n += count;
  return n;
}

// Each completed record is counted once in its namespace's three histograms, in the bucket of
// exactly the stage the record measured.
TEST_F(BpfStateMachine, CompletedRecordsAreCountedInTheirNamespacesHistograms) {
  load_programs(MTOOL_NAMESPACE_PROBE_RATE_DEFAULT, false, /*namespace_histograms=*/true);
  round_trip(kContainerNs, kVethPeer, "198.18.16.2", 4242, 27071, 1, skb(0xA000), skb(0xB000));
  round_trip(kContainerNs, kVethPeer, "198.18.16.2", 4242, 27071, 2, skb(0xA100), skb(0xB100));
  round_trip(kOtherContainerNs, kOtherVethPeer, "198.18.16.11", 7, 7, 1, skb(0xA200), skb(0xB200));
  const auto r = record(kContainerNs, 4242, 2);
  ASSERT_TRUE(r.has_value());
  const auto h = histograms_of(*programs_, kContainerNs);
  ASSERT_TRUE(h.has_value());
  for (const auto& kind : h->kind) EXPECT_EQ(samples(kind), 2U);
  const auto& egress = h->kind[MTOOL_HISTOGRAM_EGRESS];
  EXPECT_GE(egress.buckets[mtool_histogram_bucket(r->uplink_tx_ns - r->sender_tx_ns)], 1U);
  const auto first = record(kContainerNs, 4242, 1);
  ASSERT_TRUE(first.has_value());
  EXPECT_EQ(h->kind[MTOOL_HISTOGRAM_INGRESS].sum_ns,
            (r->sender_rx_ns - r->uplink_rx_ns) + (first->sender_rx_ns - first->uplink_rx_ns));
  EXPECT_EQ(h->kind[MTOOL_HISTOGRAM_WIRE].sum_ns,
            (r->uplink_rx_ns - r->uplink_tx_ns) + (first->uplink_rx_ns - first->uplink_tx_ns));
  const auto other = histograms_of(*programs_, kOtherContainerNs);
  ASSERT_TRUE(other.has_value());
  EXPECT_EQ(samples(other->kind[MTOOL_HISTOGRAM_WIRE]), 1U);
  EXPECT_EQ(programs_->counters()[MTOOL_CTR_HISTOGRAMS_FULL], 0U);
}

// Over a long run every record is counted once, and nothing without --metrics. What counting
// adds to the crossing that completes a record is printed, as the kernel timed each run
// (bench/correlator_cost.sh runs this with MTOOL_HISTOGRAM_ROUNDS=20000 and reports the line):
// histograms off, on, on, off, each load on fresh maps.
TEST_F(BpfStateMachine, HistogramsCountEveryRecordOfALongRun) {
  const char* rounds_text = std::getenv("MTOOL_HISTOGRAM_ROUNDS");
  const int rounds = rounds_text != nullptr ? std::atoi(rounds_text) : 300;
  ASSERT_GT(rounds, 0);
  std::map<bool, std::vector<double>> medians;
  for (const bool histograms : {false, true, true, false}) {
    load_programs(/*namespace_probe_rate=*/100000000, false, histograms);
    std::vector<std::uint32_t> completing;
    for (int i = 0; i < rounds; ++i) {
      const auto n = static_cast<std::uint64_t>(i);
      const auto sequence = static_cast<std::uint16_t>(i);
      completing.push_back(round_trip(kContainerNs, kVethPeer, "198.18.16.2",
                                      static_cast<std::uint16_t>(1 + i / 65536), 4242, sequence,
                                      skb(0x1000000 + 2 * n), skb(0x1000001 + 2 * n)));
    }
    ASSERT_EQ(programs_->counters()[MTOOL_CTR_RECORDS_WRITTEN], static_cast<std::uint64_t>(rounds));
    const auto h = histograms_of(*programs_, kContainerNs);
    ASSERT_EQ(h.has_value(), histograms);
    if (histograms) {
      for (const auto& kind : h->kind) EXPECT_EQ(samples(kind), static_cast<std::uint64_t>(rounds));
    }
    std::sort(completing.begin(), completing.end());
    medians[histograms].push_back(completing[completing.size() / 2]);
  }
  std::printf(
      "histograms: ns per run completing a record (median of %d), off %.0f %.0f, on %.0f %.0f\n",
      rounds, medians[false][0], medians[false][1], medians[true][0], medians[true][1]);
}

// Without --metrics the programs keep no histogram at all.
TEST_F(BpfStateMachine, NoHistogramsUnlessAsked) {
  round_trip(kContainerNs, kVethPeer, "198.18.16.2", 4242, 27071, 1, skb(0xA000), skb(0xB000));
  ASSERT_TRUE(record(kContainerNs, 4242, 1).has_value());
  EXPECT_FALSE(histograms_of(*programs_, kContainerNs).has_value());
}

// Tenants that make namespaces by the thousand fill the histograms' map and no more: a
// namespace beyond it is counted, not kept, and evicts nobody (its probes are still corrected).
TEST_F(BpfStateMachine, HistogramsHoldABoundedNumberOfNamespaces) {
  load_programs(MTOOL_NAMESPACE_PROBE_RATE_DEFAULT, false, /*namespace_histograms=*/true);
  constexpr std::uint64_t kFirstNs = 100000;
  constexpr int kNamespaces = MTOOL_HISTOGRAM_NAMESPACES + 3;
  for (int i = 0; i < kNamespaces; ++i) {
    const std::uint64_t ns = kFirstNs + static_cast<std::uint64_t>(i);
    programs_->subscribe(ns, mono_from_ns(1));
    round_trip(ns, kVethPeer, "198.18.16.2", 9, 9, 1,
               skb(0x100000 + 2 * static_cast<std::uint64_t>(i)),
               skb(0x100001 + 2 * static_cast<std::uint64_t>(i)));
  }
  EXPECT_EQ(programs_->counters()[MTOOL_CTR_RECORDS_WRITTEN],
            static_cast<std::uint64_t>(kNamespaces));
  EXPECT_EQ(programs_->counters()[MTOOL_CTR_HISTOGRAMS_FULL], 3U);
  EXPECT_TRUE(histograms_of(*programs_, kFirstNs).has_value());
  EXPECT_FALSE(histograms_of(*programs_, kFirstNs + kNamespaces - 1).has_value());
  EXPECT_TRUE(record(kFirstNs + kNamespaces - 1, 9, 1).has_value());
}

// The tracing programs load and attach on this kernel's BTF tracepoints, the cheap typed hook
// (raw tracepoints are only the fallback): a change that trips the verifier in tp_btf mode
// must fail here, not silently cost more.
// Removes a pin directory when the test ends, also when it fails or throws.
class PinDirCleanup {
 public:
  explicit PinDirCleanup(std::string dir) : dir_(std::move(dir)) {}
  PinDirCleanup(const PinDirCleanup&) = delete;
  PinDirCleanup& operator=(const PinDirCleanup&) = delete;
  ~PinDirCleanup() {
    std::error_code ec;
    std::filesystem::remove_all(dir_, ec);
  }

 private:
  std::string dir_;
};

TEST(CorrelatorPrograms, AttachToBtfTracepoints) {
  if (!running_as_root()) GTEST_SKIP() << "needs root: loads BPF programs";
  const std::string pin_dir = "/sys/fs/bpf/mtool-attach-" + std::to_string(getpid());
  const PinDirCleanup cleanup(pin_dir);
  {
    KernelPrograms programs(pin_dir, 1);
    EXPECT_EQ(programs.hook_kind(), HookKind::kBtfTracepoint);
    EXPECT_FALSE(programs.reused_pins());
    EXPECT_EQ(programs.costs().size(), 3U);
  }
  {
    // With the histograms' code in (--metrics) too.
    KernelPrograms with_histograms(pin_dir, 1, KernelPrograms::Purpose::kTrace,
                                   {MTOOL_NAMESPACE_PROBE_RATE_DEFAULT, false, true});
    EXPECT_EQ(with_histograms.hook_kind(), HookKind::kBtfTracepoint);
  }
  {
    KernelPrograms again(pin_dir, 1);  // a restart finds the maps pinned and reuses them
    EXPECT_TRUE(again.reused_pins());
  }
}

// A second correlator on the same pin directory would attach twice to the same maps and count
// every probe twice: it must refuse to start, whatever socket it was given.
TEST(CorrelatorPrograms, OnePerPinDirectory) {
  if (!running_as_root()) GTEST_SKIP() << "needs root: loads BPF programs";
  const std::string pin_dir = "/sys/fs/bpf/mtool-lock-" + std::to_string(getpid());
  const PinDirCleanup cleanup(pin_dir);
  {
    KernelPrograms first(pin_dir, 1);
    try {
      KernelPrograms second(pin_dir, 1);
      ADD_FAILURE() << "a second correlator started on " << pin_dir;
    } catch (const FatalError& e) {
      EXPECT_NE(std::string(e.what()).find("already running on " + pin_dir), std::string::npos)
          << e.what();
    }
  }
  KernelPrograms after(pin_dir, 1);  // the lock went with the first
  EXPECT_TRUE(after.reused_pins());
}

}  // namespace
}  // namespace mtool::testing
