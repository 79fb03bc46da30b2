// The correction model (lib/correlate/correction) and the record -> overhead conversion
// (lib/correlate/probe_overhead): what is subtracted, what is given back, and what is refused.
#include "correlate/correction.h"

#include <gtest/gtest.h>

#include <cstdint>

#include "correlate/probe_overhead.h"

namespace mtool::correlate {
namespace {

DeviceCrossing at(std::uint32_t ifindex, std::uint32_t netns, std::uint32_t hook,
                  std::int64_t offset_ns) {
  return DeviceCrossing{"", ifindex, netns, hook, offset_ns};
}

// A container path: eth0 xmit -> veth peer rx -> peer receive -> bridge receive -> uplink xmit.
ProbeOverhead container_path(std::int64_t handoff_ns, std::int64_t backlog_ns) {
  ProbeOverhead o;
  o.egress = {at(2, 20, MTOOL_HOOK_DEV_QUEUE, 0), at(10, 1, MTOOL_HOOK_NETIF_RX, handoff_ns),
              at(10, 1, MTOOL_HOOK_RECEIVE_SKB, handoff_ns + backlog_ns),
              at(11, 1, MTOOL_HOOK_RECEIVE_SKB, handoff_ns + backlog_ns + 5000),
              at(12, 1, MTOOL_HOOK_DEV_QUEUE, handoff_ns + backlog_ns + 9000)};
  o.egress_ns = handoff_ns + backlog_ns + 9000;
  o.ingress_ns = 6000;
  o.wire_ns = 20000;
  return o;
}

TEST(CorrectRtt, RemoteTargetIsPlainSubtraction) {
  const ProbeOverhead o = container_path(3000, 1000);
  const CorrectedRtt c = *correct_rtt(100000, o);
  EXPECT_EQ(c.shared_ns, 0);
  EXPECT_EQ(c.overhead_ns, 13000 + 6000);
  EXPECT_EQ(c.corrected_ns, 100000 - 19000);
}

TEST(CorrectRtt, LocalTargetGivesBackColdExcessOfSharedStages) {
  ProbeOverhead o = container_path(10000, 4000);  // cold hand-off and backlog
  // The target's side: uplink -> target rx after 2 us (warm hand-off), backlog 1 us.
  o.target = {at(2, 40, MTOOL_HOOK_NETIF_RX, 2000), at(2, 40, MTOOL_HOOK_RECEIVE_SKB, 3000),
              at(2, 40, MTOOL_HOOK_DEV_QUEUE, 9000)};
  EXPECT_EQ(shared_with_local_target(o), (10000 - 2000) + (4000 - 1000));
  const CorrectedRtt c = *correct_rtt(100000, o);
  EXPECT_EQ(c.shared_ns, 11000);
  EXPECT_EQ(c.overhead_ns, o.egress_ns + o.ingress_ns - 11000);
  EXPECT_EQ(c.corrected_ns, 100000 - c.overhead_ns);
}

TEST(CorrectRtt, WarmEgressGivesNothingBack) {
  ProbeOverhead o = container_path(1500, 500);
  o.target = {at(2, 40, MTOOL_HOOK_NETIF_RX, 2000), at(2, 40, MTOOL_HOOK_RECEIVE_SKB, 3000)};
  EXPECT_EQ(shared_with_local_target(o), 0);  // egress stages no slower than their twins
}

TEST(CorrectRtt, UnexpectedPathShapeGivesNothingBack) {
  ProbeOverhead o = container_path(10000, 4000);
  o.egress[1].hook = MTOOL_HOOK_RECEIVE_SKB;  // no hand-off stage where expected
  o.egress[2].ifindex = 99;                   // backlog on another device
  o.target = {at(2, 40, MTOOL_HOOK_NETIF_RX, 2000), at(2, 40, MTOOL_HOOK_RECEIVE_SKB, 3000)};
  EXPECT_EQ(shared_with_local_target(o), 0);
}

TEST(CorrectRtt, RefusesOverheadThatDoesNotFitTheRtt) {
  const ProbeOverhead o = container_path(3000, 1000);  // egress 13 + wire 20 + ingress 6 us
  EXPECT_FALSE(correct_rtt(38999, o).has_value());
  ASSERT_TRUE(correct_rtt(39000, o).has_value());
  EXPECT_EQ(correct_rtt(39000, o)->corrected_ns, 20000);
  ProbeOverhead none;
  EXPECT_EQ(correct_rtt(5000, none)->corrected_ns, 5000);
}

TEST(CorrectRtt, HugePartsThatEachFitButNotTogetherAreRefused) {
  // Found by correlator_record_fuzz: the parts' sum overflowed int64 and passed the check.
  ProbeOverhead o;
  constexpr std::int64_t kRaw = INT64_MAX - 1;
  o.egress_ns = kRaw / 2 + 10;
  o.wire_ns = kRaw / 2 + 10;
  o.ingress_ns = kRaw / 2 + 10;
  EXPECT_FALSE(correct_rtt(kRaw, o).has_value());
}

mtool_record sample_record() {
  mtool_record r{};
  r.key = {20, 2, 1, 4242, 7, 0};
  r.sender_tx_ns = 1000;
  r.uplink_tx_ns = 31000;
  r.uplink_rx_ns = 51000;
  r.sender_rx_ns = 58000;
  r.wire_flow = 27071;
  r.egress_count = 2;
  r.egress[0] = {1000, 20, 2, MTOOL_HOOK_DEV_QUEUE};
  r.egress[1] = {31000, 1, 12, MTOOL_HOOK_DEV_QUEUE};
  r.ingress_count = 1;
  r.ingress[0] = {51000, 1, 12, MTOOL_HOOK_NETIF_RX};
  return r;
}

TEST(OverheadFromRecord, StagesAndOffsets) {
  mtool_device_name names[MTOOL_NAMED_CROSSINGS] = {};
  std::snprintf(names[0].name, sizeof names[0].name, "eth0");
  std::snprintf(names[1].name, sizeof names[1].name, "uplink0");
  std::snprintf(names[MTOOL_MAX_CROSSINGS].name, sizeof names[0].name, "uplink0");
  const auto o = overhead_from_record(sample_record(), names);
  ASSERT_TRUE(o.has_value());
  EXPECT_EQ(o->egress_ns, 30000);
  EXPECT_EQ(o->ingress_ns, 7000);
  EXPECT_EQ(o->wire_ns, 20000);
  EXPECT_EQ(o->wire_flow, 27071);
  ASSERT_EQ(o->egress.size(), 2u);
  EXPECT_EQ(o->egress[0].device, "eth0");
  EXPECT_EQ(o->egress[1].device, "uplink0");
  EXPECT_EQ(o->egress[1].offset_ns, 30000);
  ASSERT_EQ(o->ingress.size(), 1u);
  EXPECT_EQ(o->ingress[0].device, "uplink0");
  EXPECT_TRUE(o->target.empty());
}

TEST(OverheadFromRecord, RefusesInconsistentRecords) {
  mtool_record r = sample_record();
  r.uplink_rx_ns = r.uplink_tx_ns - 1;  // reply before request
  EXPECT_FALSE(overhead_from_record(r, nullptr).has_value());
  r = sample_record();
  r.sender_tx_ns = 0;
  EXPECT_FALSE(overhead_from_record(r, nullptr).has_value());
}

TEST(OverheadFromRecord, ClampsCountsFromTheKernel) {
  mtool_record r = sample_record();
  r.egress_count = 200;  // never written by the kernel side, but must not read past the array
  r.target_count = 9;
  const auto o = overhead_from_record(r, nullptr);
  ASSERT_TRUE(o.has_value());
  EXPECT_EQ(o->egress.size(), static_cast<std::size_t>(MTOOL_MAX_CROSSINGS));
  EXPECT_EQ(o->target.size(), static_cast<std::size_t>(MTOOL_MAX_TARGET_CROSSINGS));
}

}  // namespace
}  // namespace mtool::correlate
