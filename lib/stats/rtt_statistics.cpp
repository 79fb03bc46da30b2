#include "stats/rtt_statistics.h"

#include <algorithm>
#include <bit>
#include <climits>
#include <cmath>

namespace mtool::stats {
namespace {

// iputils' llsqrt: Newton iteration on integers.
std::int64_t integer_sqrt(std::int64_t a) {
  std::int64_t prev = LLONG_MAX;
  std::int64_t x = a;
  if (x > 0) {
    while (x < prev) {
      prev = x;
      x = (x + (a / x)) / 2;
    }
  }
  return x;
}

}  // namespace

void IputilsRttStatistics::add(std::int64_t rtt_us) {
  ++count_;
  sum_ += rtt_us;
  sum2_ += static_cast<double>(rtt_us) * static_cast<double>(rtt_us);
  if (rtt_us < min_) min_ = rtt_us;
  if (rtt_us > max_) max_ = rtt_us;
}

std::int64_t IputilsRttStatistics::avg_us() const { return count_ == 0 ? 0 : sum_ / count_; }

std::int64_t IputilsRttStatistics::mdev_us() const {
  if (count_ == 0) return 0;
  std::int64_t variance = 0;
  if (sum_ < INT_MAX) {
    // iputils' order of operations, which avoids rounding small RTTs to zero. iputils 20221126
    // keeps tsum as a double, so tsum * tsum / total is a floating-point division.
    const double sum = static_cast<double>(sum_);
    const double sum_squared_over_n = sum * sum / static_cast<double>(count_);
    variance =
        static_cast<std::int64_t>((sum2_ - sum_squared_over_n) / static_cast<double>(count_));
  } else {
    const std::int64_t avg = avg_us();
    variance = static_cast<std::int64_t>(sum2_ / static_cast<double>(count_)) - avg * avg;
  }
  return integer_sqrt(variance);
}

std::size_t LatencyHistogram::index_of(std::uint64_t value) {
  if (value < kSubCount) return static_cast<std::size_t>(value);
  // Keep the top kSubBits bits: bucket width is 2^shift, at most 1/64 of the value.
  const int shift = static_cast<int>(std::bit_width(value)) - kSubBits;
  return static_cast<std::size_t>(shift) * kSubCount + static_cast<std::size_t>(value >> shift);
}

std::uint64_t LatencyHistogram::low_of(std::size_t index) {
  const std::size_t octave = index / kSubCount;
  const std::uint64_t sub = index % kSubCount;
  if (octave == 0) return sub;
  return sub << octave;
}

std::uint64_t LatencyHistogram::width_of(std::size_t index) {
  const std::size_t octave = index / kSubCount;
  return octave == 0 ? 1 : (std::uint64_t{1} << octave);
}

void LatencyHistogram::add(std::int64_t value_ns) {
  const std::uint64_t v = value_ns < 0 ? 0 : static_cast<std::uint64_t>(value_ns);
  const std::size_t index = index_of(v);
  if (buckets_.empty()) {
    first_ = index;
    buckets_.push_back(0);
  } else if (index < first_) {
    buckets_.insert(buckets_.begin(), first_ - index, 0);
    first_ = index;
  } else if (index >= first_ + buckets_.size()) {
    buckets_.resize(index - first_ + 1, 0);
  }
  ++buckets_[index - first_];
  ++count_;
}

std::optional<std::int64_t> LatencyHistogram::quantile(double q) const {
  if (count_ == 0) return std::nullopt;
  q = std::clamp(q, 0.0, 1.0);
  // Nearest rank: the smallest value with at least ceil(q * n) values at or below it.
  auto rank = static_cast<std::uint64_t>(std::ceil(q * static_cast<double>(count_)));
  if (rank == 0) rank = 1;
  std::uint64_t seen = 0;
  for (std::size_t i = 0; i < buckets_.size(); ++i) {
    seen += buckets_[i];
    if (seen >= rank) {
      const std::uint64_t width = width_of(first_ + i);
      return static_cast<std::int64_t>(low_of(first_ + i) + width / 2);
    }
  }
  return std::nullopt;
}

}  // namespace mtool::stats
