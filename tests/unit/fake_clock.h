#pragma once
// Simulated CLOCK_MONOTONIC and CLOCK_REALTIME for the unit tests: they move together, and only
// when a test (or a fake transport standing for the kernel's wait) says so, so an engine built
// on Clock runs on simulated time and its timings can be asserted exactly.
#include <cstdint>

#include "util/clock.h"

namespace mtool {

inline constexpr MonoNs kMonoStart = 1000 * kNsPerSec;  // arbitrary, non-zero
inline constexpr WallNs kWallStart = 1'700'000'000LL * kNsPerSec;

class FakeClock final : public Clock {
 public:
  [[nodiscard]] MonoNs mono_now() const override { return mono_; }
  [[nodiscard]] WallNs wall_now() const override { return wall_at(mono_); }
  static WallNs wall_at(MonoNs mono) { return kWallStart + (mono - kMonoStart); }
  // Time since the simulation began.
  [[nodiscard]] std::int64_t elapsed() const { return mono_ - kMonoStart; }
  // Never backwards: a monotonic clock.
  void advance_to(MonoNs t) {
    if (t > mono_) mono_ = t;
  }
  void advance_by(std::int64_t ns) { advance_to(mono_ + ns); }

 private:
  MonoNs mono_ = kMonoStart;
};

}  // namespace mtool
