#pragma once
// Time as the probe engine sees it.
//
// Two clocks, never mixed in one difference:
//  - WallNs: CLOCK_REALTIME nanoseconds. Kernel software timestamps (SO_TIMESTAMPING) are
//    taken on this clock, so every RTT is a difference of two WallNs values.
//  - MonoNs: CLOCK_MONOTONIC nanoseconds, for scheduling (intervals, deadlines, timeouts),
//    immune to wall-clock steps.
#include <cstdint>
#include <ctime>

namespace mtool {

using WallNs = std::int64_t;
using MonoNs = std::int64_t;

inline constexpr std::int64_t kNsPerUs = 1000;
inline constexpr std::int64_t kNsPerMs = 1000 * 1000;
inline constexpr std::int64_t kNsPerSec = 1000 * 1000 * 1000;

inline std::int64_t timespec_ns(const timespec& ts) {
  return static_cast<std::int64_t>(ts.tv_sec) * kNsPerSec + ts.tv_nsec;
}

// Source of both clocks; the probe loop takes one so tests can run it on simulated time.
class Clock {
 public:
  virtual ~Clock() = default;
  [[nodiscard]] virtual MonoNs mono_now() const = 0;
  [[nodiscard]] virtual WallNs wall_now() const = 0;
};

class SystemClock final : public Clock {
 public:
  [[nodiscard]] MonoNs mono_now() const override {
    timespec ts{};
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return timespec_ns(ts);
  }
  [[nodiscard]] WallNs wall_now() const override {
    timespec ts{};
    clock_gettime(CLOCK_REALTIME, &ts);
    return timespec_ns(ts);
  }
};

}  // namespace mtool
