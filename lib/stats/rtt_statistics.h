#pragma once
// Round-trip statistics with iputils' exact integer-microsecond arithmetic (so the summary
// line matches ping's to the digit), plus a bounded histogram for percentiles.
#include <array>
#include <cstdint>
#include <optional>
#include <vector>

namespace mtool::stats {

// min/avg/max/mdev over integer microseconds, as iputils computes them. Duplicates count.
class IputilsRttStatistics {
 public:
  void add(std::int64_t rtt_us);
  [[nodiscard]] std::int64_t count() const { return count_; }
  [[nodiscard]] std::int64_t min_us() const { return min_; }
  [[nodiscard]] std::int64_t max_us() const { return max_; }
  [[nodiscard]] std::int64_t avg_us() const;   // tsum / n
  [[nodiscard]] std::int64_t mdev_us() const;  // integer sqrt of tsum2/n - avg^2

 private:
  std::int64_t count_ = 0;
  std::int64_t min_ = INT64_MAX;
  std::int64_t max_ = 0;
  std::int64_t sum_ = 0;
  double sum2_ = 0;  // iputils keeps the sum of squares in a double
};

// A log-linear histogram (HdrHistogram's layout): values in nanoseconds, exact below 128 ns,
// buckets at most 1/64 of their value wide above (a bucket's midpoint is within 0.8% of any
// value in it). It holds only the span of buckets its values reached (about 1 KiB per factor
// of 2 between the smallest and the largest value), 58 KiB at most whatever the run length, so
// that a report can keep thousands of them.
class LatencyHistogram {
 public:
  void add(std::int64_t value_ns);
  [[nodiscard]] std::uint64_t count() const { return count_; }
  // Value at quantile q in [0, 1] (nearest-rank), as the midpoint of its bucket; exact for
  // values below 128 ns. nullopt when empty.
  [[nodiscard]] std::optional<std::int64_t> quantile(double q) const;
  // Calls visit(low_ns, width_ns, count) for every bucket holding values, lowest first: the
  // distribution as the histogram knows it (a CDF to draw).
  template <class Visit>
  void for_each_bucket(Visit&& visit) const {
    for (std::size_t i = 0; i < buckets_.size(); ++i) {
      if (buckets_[i] != 0) visit(low_of(first_ + i), width_of(first_ + i), buckets_[i]);
    }
  }

 private:
  static constexpr int kSubBits = 7;  // 128 linear sub-buckets per octave
  static constexpr int kSubCount = 1 << kSubBits;
  static std::size_t index_of(std::uint64_t value);
  static std::uint64_t low_of(std::size_t index);
  static std::uint64_t width_of(std::size_t index);
  std::vector<std::uint64_t> buckets_;  // the counts of buckets first_, first_ + 1, ...
  std::size_t first_ = 0;
  std::uint64_t count_ = 0;
};

}  // namespace mtool::stats
