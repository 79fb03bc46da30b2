#pragma once
// Simulated CLOCK_MONOTONIC and CLOCK_REALTIME for the unit tests: they move together, and only
// when a test (or a fake transport standing for the kernel's wait) says so, so an engine built
// on Clock runs on simulated time and its timings can be asserted exactly.
#include <cstdint>

#include "util/clock.h"

namespace mtool {

inline constexpr MonoNs kMonoStart = mono_from_ns(1000 * kNsPerSec);  // arbitrary, non-zero
inline constexpr WallNs kWallStart = wall_at_unix_seconds(1'700'000'000);

class FakeClock final : public Clock {
 public:
  [[nodiscard]] MonoNs mono_now() const override { return mono_; }
  [[nodiscard]] WallNs wall_now() const override { return wall_at(mono_); }
  static WallNs wall_at(MonoNs mono) { return kWallStart + (mono - kMonoStart); }
  // Time since the simulation began.
  [[nodiscard]] Nanos elapsed() const { return mono_ - kMonoStart; }
  // Never backwards: a monotonic clock.
  void advance_to(MonoNs t) {
    if (t > mono_) mono_ = t;
  }
  void advance_by(Nanos d) { advance_to(mono_ + d); }

 private:
  MonoNs mono_ = kMonoStart;
};

}  // namespace mtool
