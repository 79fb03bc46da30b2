#pragma once
// Time as the probe engine sees it: two clocks, never mixed in one difference, and the compiler
// keeps them apart.
//  - WallNs: an instant on CLOCK_REALTIME. Kernel software timestamps (SO_TIMESTAMPING) are
//    taken on this clock, so every RTT is a difference of two WallNs.
//  - MonoNs: an instant on CLOCK_MONOTONIC, for scheduling (intervals, deadlines, timeouts),
//    immune to wall-clock steps. bpf_ktime_get_ns() reads it too, so the correlator's stamps
//    and heartbeat are MonoNs.
//  - Nanos: a duration (an RTT, an overhead, an interval, a timeout), what the difference of
//    two instants of one clock is.
//
// Why std::chrono over two clocks of our own rather than a hand-written wrapper: time_point
// already is the algebra wanted (point - point of the same clock is a duration, point +/-
// duration is a point, comparisons within one clock; WallNs - MonoNs does not compile), each
// value is one int64 (trivially copyable, constexpr, inlined: free on the hot path), and call
// sites read as any C++ does: `now + 100ms`, `rtt / 2`, `interval * n`. Raw nanoseconds come in
// and go out only through the named functions below, where the kernel, JSON or the
// correlator's ABI want a number.
#include <chrono>
#include <cstdint>
#include <ctime>

namespace mtool {

using Nanos = std::chrono::nanoseconds;

inline constexpr std::int64_t kNsPerUs = 1000;
inline constexpr std::int64_t kNsPerMs = 1000 * 1000;
inline constexpr std::int64_t kNsPerSec = 1000 * 1000 * 1000;

// A timespec (a kernel stamp, a clock reading) as the time since its clock's epoch.
constexpr Nanos timespec_duration(const timespec& ts) {
  return Nanos{static_cast<std::int64_t>(ts.tv_sec) * kNsPerSec + ts.tv_nsec};
}

// A duration as ppoll() and timerfd want it (non-negative durations only).
constexpr timespec to_timespec(Nanos d) {
  return timespec{static_cast<time_t>(d.count() / kNsPerSec),
                  static_cast<long>(d.count() % kNsPerSec)};
}

// The two clocks, as std::chrono clocks. Code that tests run on simulated time reads them
// through a Clock (below), never through now() directly.
// One std::chrono clock per POSIX clock id: WallClock and MonoClock are distinct types, so a
// wall point and a monotonic point never mix.
template <clockid_t Id, bool Steady>
struct PosixClock {
  using rep = std::int64_t;
  using period = std::nano;
  using duration = Nanos;
  using time_point = std::chrono::time_point<PosixClock>;
  static constexpr bool is_steady = Steady;
  static time_point now() noexcept {
    timespec ts{};
    clock_gettime(Id, &ts);
    return time_point{timespec_duration(ts)};
  }
};

using WallClock = PosixClock<CLOCK_REALTIME, false>;
using MonoClock = PosixClock<CLOCK_MONOTONIC, true>;

using WallNs = WallClock::time_point;
using MonoNs = MonoClock::time_point;

// Raw nanoseconds since the clock's epoch, in and out: serialised values (JSON, the
// correlator's socket and maps, payload stamps) and test fixtures.
constexpr WallNs wall_from_ns(std::int64_t ns) { return WallNs{Nanos{ns}}; }
constexpr MonoNs mono_from_ns(std::int64_t ns) { return MonoNs{Nanos{ns}}; }
template <class AnyClock>
constexpr std::int64_t raw_ns(std::chrono::time_point<AnyClock, Nanos> t) {
  return t.time_since_epoch().count();
}
// Whole Unix seconds (Atlas timestamps, schedules), and back.
constexpr std::int64_t unix_seconds(WallNs t) {
  return std::chrono::duration_cast<std::chrono::seconds>(t.time_since_epoch()).count();
}
constexpr WallNs wall_at_unix_seconds(std::int64_t s) { return WallNs{std::chrono::seconds{s}}; }

// Source of both clocks; the probe loop takes one so tests can run it on simulated time.
class Clock {
 public:
  virtual ~Clock() = default;
  [[nodiscard]] virtual MonoNs mono_now() const = 0;
  [[nodiscard]] virtual WallNs wall_now() const = 0;
};

class SystemClock final : public Clock {
 public:
  [[nodiscard]] MonoNs mono_now() const override { return MonoClock::now(); }
  [[nodiscard]] WallNs wall_now() const override { return WallClock::now(); }
};

}  // namespace mtool
