// The per-namespace histograms' buckets (bpf/correlator_abi.h, the same functions the kernel
// programs run) and their exposition (lib/correlator/namespace_histograms: merged, cumulative).
#include "correlator/namespace_histograms.h"

#include <gtest/gtest.h>

#include <cmath>
#include <cstdint>

#include "correlator_abi.h"

namespace mtool::correlator {
namespace {

TEST(HistogramBuckets, EveryBoundIsInclusiveAndTheNextNanosecondMovesOn) {
  for (std::uint32_t i = 0; i + 1 < MTOOL_HISTOGRAM_BUCKETS; ++i) {
    const std::uint64_t upper = mtool_histogram_upper_ns(i);
    EXPECT_EQ(mtool_histogram_bucket(upper), i) << "bucket " << i;
    EXPECT_EQ(mtool_histogram_bucket(upper + 1), i + 1) << "bucket " << i;
    if (i > 0) {
      EXPECT_GT(upper, mtool_histogram_upper_ns(i - 1));
      EXPECT_EQ(mtool_histogram_bucket(mtool_histogram_upper_ns(i - 1) + 1), i);
    }
  }
}

TEST(HistogramBuckets, RangeAndResolution) {
  EXPECT_EQ(mtool_histogram_bucket(0), 0U);
  EXPECT_EQ(mtool_histogram_bucket(256), 0U);
  EXPECT_EQ(mtool_histogram_upper_ns(MTOOL_HISTOGRAM_BUCKETS - 2), 1ULL << 34);  // 17.2 s
  EXPECT_EQ(mtool_histogram_bucket((1ULL << 34) + 1), MTOOL_HISTOGRAM_BUCKETS - 1U);
  EXPECT_EQ(mtool_histogram_bucket(~0ULL), MTOOL_HISTOGRAM_BUCKETS - 1U);
  EXPECT_EQ(mtool_histogram_upper_ns(MTOOL_HISTOGRAM_BUCKETS - 1), ~0ULL);
  // Four steps per power of two: 1-300 us overheads are told apart within 25 %, where powers
  // of two would lump 65-131 us together.
  EXPECT_EQ(mtool_histogram_upper_ns(mtool_histogram_bucket(70'000)), 81'920U);
  EXPECT_EQ(mtool_histogram_upper_ns(mtool_histogram_bucket(100'000)), 114'688U);
  EXPECT_EQ(mtool_histogram_upper_ns(mtool_histogram_bucket(130'000)), 131'072U);
  for (std::uint32_t i = 2; i + 1 < MTOOL_HISTOGRAM_BUCKETS; ++i) {
    const double ratio = static_cast<double>(mtool_histogram_upper_ns(i)) /
                         static_cast<double>(mtool_histogram_upper_ns(i - 1));
    EXPECT_LE(ratio, 1.25) << "bucket " << i;
  }
}

TEST(HistogramBuckets, Log2) {
  EXPECT_EQ(mtool_log2(1), 0U);
  EXPECT_EQ(mtool_log2(2), 1U);
  EXPECT_EQ(mtool_log2(3), 1U);
  EXPECT_EQ(mtool_log2(0xFFFFFFFFULL), 31U);
  EXPECT_EQ(mtool_log2(0x100000000ULL), 32U);
  EXPECT_EQ(mtool_log2(~0ULL), 63U);
}

LatencyDistribution one_sample_per_bucket() {
  LatencyDistribution d;
  d.buckets.fill(1);
  return d;
}

TEST(CumulativeBuckets, AllOfTheKernelsAtFourPerOctave) {
  const auto buckets = cumulative_buckets(one_sample_per_bucket(), 4);
  ASSERT_EQ(buckets.size(), static_cast<std::size_t>(MTOOL_HISTOGRAM_BUCKETS));
  EXPECT_DOUBLE_EQ(buckets.front().upper_s, 256e-9);
  EXPECT_EQ(buckets.front().count, 1U);
  EXPECT_DOUBLE_EQ(buckets[1].upper_s, 320e-9);
  EXPECT_EQ(buckets[1].count, 2U);
  EXPECT_TRUE(std::isinf(buckets.back().upper_s));
  EXPECT_EQ(buckets.back().count, static_cast<std::uint64_t>(MTOOL_HISTOGRAM_BUCKETS));
}

TEST(CumulativeBuckets, MergedBucketsKeepKernelBoundsAndLoseNoCount) {
  const LatencyDistribution d = one_sample_per_bucket();
  const auto two = cumulative_buckets(d, 2);
  ASSERT_EQ(two.size(), 54U);                // 256 ns, 2 per octave up to 2^34 ns, +Inf
  EXPECT_DOUBLE_EQ(two[1].upper_s, 384e-9);  // 1.5 x 256
  EXPECT_EQ(two[1].count, 3U);
  EXPECT_DOUBLE_EQ(two[2].upper_s, 512e-9);
  EXPECT_EQ(two[2].count, 5U);
  EXPECT_EQ(two.back().count, static_cast<std::uint64_t>(MTOOL_HISTOGRAM_BUCKETS));
  const auto one = cumulative_buckets(d, 1);
  ASSERT_EQ(one.size(), 28U);
  EXPECT_DOUBLE_EQ(one[1].upper_s, 512e-9);
  EXPECT_EQ(one[1].count, 5U);
  EXPECT_DOUBLE_EQ(one[one.size() - 2].upper_s, static_cast<double>(1ULL << 34) * 1e-9);
  EXPECT_EQ(one.back().count, static_cast<std::uint64_t>(MTOOL_HISTOGRAM_BUCKETS));
  for (std::size_t i = 1; i < one.size(); ++i) EXPECT_GE(one[i].count, one[i - 1].count);
}

}  // namespace
}  // namespace mtool::correlator
