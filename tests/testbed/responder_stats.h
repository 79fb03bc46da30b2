#pragma once
// What the TAP responder reports when it ends: how often its busy loop stalled (the time
// between two polls of the device; a request arriving then waits for it) and how long each
// answered packet took from the read that fetched it to the write's completion (the write runs
// the reply through the host's receive path). Fixed-size, no allocation in the loop.
#include <time.h>

#include <algorithm>
#include <array>
#include <cstdint>
#include <cstdio>
#include <string>

namespace mtool::testbed {

class ResponderStats {
 public:
  static std::uint64_t now_ns() {
    timespec t{};
    clock_gettime(CLOCK_MONOTONIC, &t);
    return static_cast<std::uint64_t>(t.tv_sec) * 1000000000U +
           static_cast<std::uint64_t>(t.tv_nsec);
  }

  void poll(std::uint64_t gap_ns) {
    ++polls_;
    if (gap_ns > max_gap_ns_) max_gap_ns_ = gap_ns;
    for (std::size_t i = 0; i < kGapLimitsUs.size(); ++i)
      gaps_over_[i] += gap_ns > kGapLimitsUs[i] * 1000;
  }
  void answered(std::uint64_t packet_ns) {
    ++answered_;
    if (packet_ns > max_packet_ns_) max_packet_ns_ = packet_ns;
    ++packet_histogram_[std::min<std::uint64_t>(packet_ns / kBinNs, kBins - 1)];
  }
  void dropped() { ++dropped_; }
  void write_failed() { ++write_errors_; }

  [[nodiscard]] std::string summary() const {
    char text[512];
    std::snprintf(
        text, sizeof text,
        "answered %llu, dropped %llu, write errors %llu; %llu polls, loop gaps >10us %llu "
        ">100us %llu >1000us %llu, max %.1f us; per packet p50 %.1f p90 %.1f p99 %.1f "
        "max %.1f us",
        ull(answered_), ull(dropped_), ull(write_errors_), ull(polls_), ull(gaps_over_[0]),
        ull(gaps_over_[1]), ull(gaps_over_[2]), us(max_gap_ns_), packet_quantile(0.5),
        packet_quantile(0.9), packet_quantile(0.99), us(max_packet_ns_));
    return text;
  }

 private:
  static constexpr std::array<std::uint64_t, 3> kGapLimitsUs{10, 100, 1000};
  static constexpr std::uint64_t kBinNs = 100;  // 0.1 us bins up to 1 ms; beyond, the last bin
  static constexpr std::uint64_t kBins = 10000;

  static unsigned long long ull(std::uint64_t v) { return v; }
  static double us(std::uint64_t ns) { return static_cast<double>(ns) / 1000.0; }

  // The upper edge of the bin holding the q-quantile (0 with no packet).
  [[nodiscard]] double packet_quantile(double q) const {
    if (answered_ == 0) return 0.0;
    const auto rank = static_cast<std::uint64_t>(q * static_cast<double>(answered_ - 1)) + 1;
    std::uint64_t seen = 0;
    for (std::uint64_t bin = 0; bin < kBins; ++bin) {
      seen += packet_histogram_[bin];
      if (seen >= rank) return us(std::min((bin + 1) * kBinNs, max_packet_ns_));
    }
    return us(max_packet_ns_);
  }

  std::uint64_t polls_ = 0, answered_ = 0, dropped_ = 0, write_errors_ = 0;
  std::uint64_t max_gap_ns_ = 0, max_packet_ns_ = 0;
  std::array<std::uint64_t, kGapLimitsUs.size()> gaps_over_{};
  std::array<std::uint64_t, kBins> packet_histogram_{};
};

}  // namespace mtool::testbed
