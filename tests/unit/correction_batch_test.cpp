// A burst of ping replies' corrections, asked of a fake correlator in one batch.
#include "campaign/correction_batch.h"

#include <gtest/gtest.h>
#include <netinet/in.h>

#include <map>
#include <vector>

namespace mtool::campaign {
namespace {

// Answers from a table keyed by sequence number, and counts how it was asked.
class FakeOverheads final : public correlate::OverheadSource {
 public:
  std::optional<correlate::ProbeOverhead> take(const correlate::ProbeIdentity& probe,
                                               MonoNs) override {
    ++single_takes;
    const auto it = by_sequence.find(probe.sequence);
    if (it == by_sequence.end()) return std::nullopt;
    return it->second;
  }
  void take_many(const std::vector<Request>& requests, Answers& answers) override {
    ++batches;
    asked.insert(asked.end(), requests.begin(), requests.end());
    answers.clear();
    for (const auto& r : requests) answers.push_back(take(r.probe, r.sent_mono));
  }
  std::map<std::uint16_t, correlate::ProbeOverhead> by_sequence;
  std::vector<Request> asked;
  int batches = 0;
  int single_takes = 0;
};

correlate::ProbeOverhead overhead_us(std::int64_t egress, std::int64_t ingress) {
  correlate::ProbeOverhead o;
  o.egress_ns = egress * kNsPerUs;
  o.ingress_ns = ingress * kNsPerUs;
  return o;
}

correlate::OverheadSource::Request request(std::uint16_t sequence) {
  return {correlate::ProbeIdentity{AF_INET, IPPROTO_ICMP, 0x4242, sequence},
          mono_from_ns(7 * kNsPerSec)};
}

struct Applied {
  SlotHandle run;
  unsigned packet;
  report::AtlasCorrection correction;
};

TEST(CorrectionBatch, OneBatchForTheBurstAndEachCorrectionToItsReply) {
  FakeOverheads source;
  source.by_sequence[1] = overhead_us(10, 20);
  source.by_sequence[3] = overhead_us(5, 5);
  CorrectionBatch batch;
  batch.add({SlotHandle{0, 1}, 0, 100 * kNsPerUs}, request(1));
  batch.add({SlotHandle{1, 1}, 2, 100 * kNsPerUs}, request(2));  // the correlator saw nothing
  batch.add({SlotHandle{2, 4}, 1, 50 * kNsPerUs}, request(3));
  EXPECT_EQ(batch.size(), 3U);

  std::vector<Applied> applied;
  batch.settle(source, false, [&](SlotHandle run, unsigned packet, report::AtlasCorrection c) {
    applied.push_back({run, packet, std::move(c)});
  });
  EXPECT_EQ(source.batches, 1);
  ASSERT_EQ(source.asked.size(), 3U);
  EXPECT_EQ(source.asked[2].probe.sequence, 3);
  EXPECT_EQ(source.asked[2].sent_mono, mono_from_ns(7 * kNsPerSec));
  ASSERT_EQ(applied.size(), 2U);
  EXPECT_EQ(applied[0].run, (SlotHandle{0, 1}));
  EXPECT_EQ(applied[0].packet, 0U);
  EXPECT_DOUBLE_EQ(applied[0].correction.corrected_ms, 0.07);
  EXPECT_DOUBLE_EQ(applied[0].correction.overhead_ms, 0.03);
  EXPECT_EQ(applied[1].run, (SlotHandle{2, 4}));
  EXPECT_EQ(applied[1].packet, 1U);
  EXPECT_TRUE(applied[1].correction.breakdown.is_null());
  EXPECT_TRUE(batch.empty());
}

TEST(CorrectionBatch, AnOverheadLargerThanTheRttCorrectsNothing) {
  FakeOverheads source;
  source.by_sequence[1] = overhead_us(80, 80);
  CorrectionBatch batch;
  batch.add({SlotHandle{0, 1}, 0, 100 * kNsPerUs}, request(1));
  int applied = 0;
  batch.settle(source, false, [&](SlotHandle, unsigned, report::AtlasCorrection) { ++applied; });
  EXPECT_EQ(applied, 0);
  EXPECT_TRUE(batch.empty());
}

TEST(CorrectionBatch, AnEmptyBatchAsksNothingAndTheBreakdownIsOnRequest) {
  FakeOverheads source;
  CorrectionBatch batch;
  batch.settle(source, true, [](SlotHandle, unsigned, report::AtlasCorrection) { FAIL(); });
  EXPECT_EQ(source.batches, 0);

  source.by_sequence[1] = overhead_us(10, 20);
  batch.add({SlotHandle{0, 1}, 0, 100 * kNsPerUs}, request(1));
  batch.settle(source, true, [](SlotHandle, unsigned, report::AtlasCorrection c) {
    EXPECT_TRUE(c.breakdown.contains("egress_ms"));
  });
  EXPECT_EQ(source.batches, 1);
}

}  // namespace
}  // namespace mtool::campaign
