// IputilsRttStatistics against iputils ping 20221126's finish() arithmetic, worked by hand, and
// the LatencyHistogram's precision promises.
//
// iputils 20221126 keeps tsum and tsum2 as doubles (checked in the disassembly of
// /usr/bin/ping 3:20221126-1+deb12u1) and computes, with total = nreceived + nrepeats:
//   tmavg = (long)(tsum / total)
//   tmvar = (long long)((tsum2 - tsum * tsum / total) / total)      when tsum < INT_MAX
//   mdev  = llsqrt(tmvar)   (Newton's iteration; it stops one step late, so e.g. llsqrt(3) = 2)
#include "stats/rtt_statistics.h"

#include <gtest/gtest.h>

#include <cmath>
#include <cstdint>
#include <initializer_list>
#include <vector>

namespace mtool::stats {
namespace {

IputilsRttStatistics stats_of(std::initializer_list<std::int64_t> samples) {
  IputilsRttStatistics s;
  for (const auto v : samples) s.add(v);
  return s;
}

TEST(IputilsRttStatistics, EmptyReportsZeros) {
  const IputilsRttStatistics s;
  EXPECT_EQ(s.count(), 0);
  EXPECT_EQ(s.avg_us(), 0);
  EXPECT_EQ(s.mdev_us(), 0);
  EXPECT_EQ(s.max_us(), 0);
}

TEST(IputilsRttStatistics, ThreeRepliesAndTwoDuplicatesAllCount) {
  // 3 replies + 2 duplicates, every one a sample (total = nreceived + nrepeats = 5).
  //   tsum  = 60+64+39+45+41 = 249           tmavg = 249/5 = 49 (49.8 truncated)
  //   tsum2 = 3600+4096+1521+2025+1681 = 12923
  //   tsum*tsum/total = 62001/5 = 12400.2
  //   tmvar = (12923 - 12400.2)/5 = 104.56 -> 104
  //   llsqrt(104): 104, 52, 27, 15, 10, 10 -> 10
  const auto s = stats_of({60, 64, 39, 45, 41});
  EXPECT_EQ(s.count(), 5);
  EXPECT_EQ(s.min_us(), 39);
  EXPECT_EQ(s.avg_us(), 49);
  EXPECT_EQ(s.max_us(), 64);
  EXPECT_EQ(s.mdev_us(), 10);
}

TEST(IputilsRttStatistics, RealLoopbackSample) {
  // From a real run: rtt min/avg/max/mdev = 0.023/0.039/0.058/0.014 ms.
  //   tsum = 118, tmavg = 39; tsum2 = 529+1369+3364 = 5262
  //   tmvar = (5262 - 13924/3)/3 = (5262 - 4641.33)/3 = 206.89 -> 206
  //   llsqrt(206): 206, 103, 52, 27, 17, 14, 14 -> 14
  const auto s = stats_of({23, 37, 58});
  EXPECT_EQ(s.min_us(), 23);
  EXPECT_EQ(s.avg_us(), 39);
  EXPECT_EQ(s.max_us(), 58);
  EXPECT_EQ(s.mdev_us(), 14);
}

TEST(IputilsRttStatistics, SquareOfSumDividedInFloatingPoint) {
  // tsum = 74, tsum2 = 400+441+1089 = 1930, tsum*tsum = 5476.
  //   iputils (doubles):  (1930 - 5476/3.0)/3 = (1930 - 1825.33)/3 = 34.89 -> 34 -> llsqrt 5
  //   integer 5476/3 = 1825 would give (1930 - 1825)/3 = 35 -> llsqrt(35) = 6 (wrong).
  const auto s = stats_of({20, 21, 33});
  EXPECT_EQ(s.avg_us(), 24);
  EXPECT_EQ(s.mdev_us(), 5);
}

TEST(IputilsRttStatistics, IputilsSquareRootQuirk) {
  // tsum = 304, tsum2 = 30816; tmvar = (30816 - 92416/3.0)/3 = 3.56 -> 3;
  // llsqrt(3): 3, 2, 1, then 2 (not < 1) -> returns 2, not floor(sqrt(3)) = 1.
  EXPECT_EQ(stats_of({100, 100, 104}).mdev_us(), 2);
  // tsum = 408, tsum2 = 41650; tmvar = (41650 - 166464/4)/4 = 8.5 -> 8; llsqrt(8) = 3.
  EXPECT_EQ(stats_of({100, 100, 101, 107}).mdev_us(), 3);
}

TEST(IputilsRttStatistics, IdenticalSamplesHaveZeroDeviation) {
  const auto s = stats_of({250, 250, 250, 250});
  EXPECT_EQ(s.min_us(), 250);
  EXPECT_EQ(s.max_us(), 250);
  EXPECT_EQ(s.avg_us(), 250);
  EXPECT_EQ(s.mdev_us(), 0);
}

TEST(IputilsRttStatistics, SingleSample) {
  const auto s = stats_of({1234});
  EXPECT_EQ(s.count(), 1);
  EXPECT_EQ(s.min_us(), 1234);
  EXPECT_EQ(s.max_us(), 1234);
  EXPECT_EQ(s.avg_us(), 1234);
  EXPECT_EQ(s.mdev_us(), 0);
}

TEST(IputilsRttStatistics, LargeSumTakesTheOtherBranch) {
  // tsum = 2.2e9 >= INT_MAX: tmvar = tsum2/total - tmavg^2
  //   = (1e18 + 1.44e18)/2 - (1.1e9)^2 = 1.22e18 - 1.21e18 = 1e16 -> sqrt 1e8 exactly.
  const auto s = stats_of({1'000'000'000, 1'200'000'000});
  EXPECT_EQ(s.avg_us(), 1'100'000'000);
  EXPECT_EQ(s.mdev_us(), 100'000'000);
}

// ---------------------------------------------------------------------------------------------

TEST(LatencyHistogram, EmptyHasNoQuantile) {
  const LatencyHistogram h;
  EXPECT_EQ(h.count(), 0U);
  EXPECT_FALSE(h.quantile(0.5).has_value());
  EXPECT_FALSE(h.quantile(0.0).has_value());
  EXPECT_FALSE(h.quantile(1.0).has_value());
}

TEST(LatencyHistogram, ExactBelow128Nanoseconds) {
  LatencyHistogram h;
  for (std::int64_t v = 0; v < 128; ++v) h.add(v);
  EXPECT_EQ(h.count(), 128U);
  // Nearest rank: quantile (v+1)/128 is the (v+1)-th smallest value, i.e. v.
  for (std::int64_t v = 0; v < 128; ++v) {
    EXPECT_EQ(h.quantile(static_cast<double>(v + 1) / 128.0), v) << v;
  }
  EXPECT_EQ(h.quantile(0.0), 0);
  EXPECT_EQ(h.quantile(1.0), 127);
}

TEST(LatencyHistogram, SingleSmallValueIsExact) {
  for (const std::int64_t v : {0, 1, 77, 127}) {
    LatencyHistogram h;
    h.add(v);
    EXPECT_EQ(h.quantile(0.5), v);
  }
}

TEST(LatencyHistogram, SingleValueP50WithinBucketPrecision) {
  LatencyHistogram h;
  h.add(123'456);
  const auto p50 = h.quantile(0.5);
  ASSERT_TRUE(p50.has_value());
  EXPECT_LE(std::abs(static_cast<double>(*p50) - 123'456.0), 123'456.0 / 128.0);
  // One value: every quantile is that value's bucket.
  EXPECT_EQ(h.quantile(0.0), p50);
  EXPECT_EQ(h.quantile(1.0), p50);
}

TEST(LatencyHistogram, QuantilesOfOneToOneThousandMicroseconds) {
  LatencyHistogram h;
  for (std::int64_t us = 1; us <= 1000; ++us) h.add(us * 1000);
  EXPECT_EQ(h.count(), 1000U);
  for (const double q : {0.0, 0.01, 0.25, 0.5, 0.9, 0.99, 0.999, 1.0}) {
    // Nearest rank of 1..1000 us: the ceil(q * 1000)-th value (at least the first).
    const double rank = std::max(1.0, std::ceil(q * 1000.0));
    const double exact_ns = rank * 1000.0;
    const auto got = h.quantile(q);
    ASSERT_TRUE(got.has_value()) << q;
    EXPECT_LE(std::abs(static_cast<double>(*got) - exact_ns), exact_ns * 0.008)
        << "q=" << q << " got " << *got << " expected about " << exact_ns;
  }
}

TEST(LatencyHistogram, QuantileIsMonotonic) {
  LatencyHistogram h;
  for (std::int64_t v = 1; v <= 5000; v += 7) h.add(v * 313);
  std::int64_t previous = -1;
  for (int i = 0; i <= 100; ++i) {
    const std::int64_t value = *h.quantile(i / 100.0);
    EXPECT_GE(value, previous) << i;
    previous = value;
  }
}

TEST(LatencyHistogram, OutOfRangeQuantilesAreClamped) {
  LatencyHistogram h;
  h.add(10);
  h.add(20);
  EXPECT_EQ(h.quantile(-1.0), 10);
  EXPECT_EQ(h.quantile(2.0), 20);
}

TEST(LatencyHistogram, NegativeValuesCountAsZero) {
  LatencyHistogram h;
  h.add(-5);
  EXPECT_EQ(h.count(), 1U);
  EXPECT_EQ(h.quantile(0.5), 0);
}

TEST(LatencyHistogram, HugeValuesStayInRange) {
  LatencyHistogram h;
  h.add(INT64_MAX);
  const auto v = h.quantile(0.5);
  ASSERT_TRUE(v.has_value());
  EXPECT_GT(*v, 0);
  EXPECT_LE(std::abs(static_cast<double>(*v) - static_cast<double>(INT64_MAX)),
            static_cast<double>(INT64_MAX) / 128.0);
}

TEST(LatencyHistogram, ValuesBelowTheFirstOneAreKept) {
  // The histogram holds only the span its values reached: one below the first extends it.
  LatencyHistogram h;
  h.add(5'000'000);
  h.add(3);
  h.add(40'000'000);
  EXPECT_EQ(h.count(), 3U);
  EXPECT_EQ(h.quantile(0.0), 3);
  EXPECT_LE(std::abs(static_cast<double>(*h.quantile(0.5)) - 5e6), 5e6 * 0.008);
  EXPECT_LE(std::abs(static_cast<double>(*h.quantile(1.0)) - 4e7), 4e7 * 0.008);
}

TEST(LatencyHistogram, BucketsAreVisitedLowestFirstWithTheirCounts) {
  LatencyHistogram h;
  for (int i = 0; i < 3; ++i) h.add(1'000'000);
  h.add(100);
  h.add(2'000'000);
  std::vector<std::uint64_t> lows;
  std::uint64_t total = 0;
  h.for_each_bucket([&](std::uint64_t low, std::uint64_t width, std::uint64_t count) {
    lows.push_back(low);
    total += count;
    EXPECT_GE(width, 1U);
    if (low <= 1'000'000 && 1'000'000 < low + width) {
      EXPECT_EQ(count, 3U);
    }
  });
  ASSERT_EQ(lows.size(), 3U);
  EXPECT_EQ(lows[0], 100U);
  EXPECT_LT(lows[1], lows[2]);
  EXPECT_EQ(total, h.count());
}

}  // namespace
}  // namespace mtool::stats
