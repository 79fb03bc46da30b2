// The time vocabulary (util/clock.h): the two clocks never mix, and raw nanoseconds enter and
// leave only by name. The rules are compile-time ones, so most of this file is static_asserts
// (a broken rule fails the build of the unit tests); the run-time tests check the conversions.
#include "util/clock.h"

#include <gtest/gtest.h>

#include <concepts>
#include <cstdint>
#include <type_traits>

namespace mtool {
namespace {

template <class A, class B>
concept Subtractable = requires(A a, B b) {
  a - b;
};
template <class A, class B>
concept Addable = requires(A a, B b) {
  a + b;
};
template <class A, class B>
concept Comparable = requires(A a, B b) {
  a < b;
};
template <class A, class B>
concept EqualityComparable = requires(A a, B b) {
  a == b;
};

// Wall - Mono, the mistake the types exist for, does not compile; nor does any other mix.
static_assert(!Subtractable<WallNs, MonoNs>);
static_assert(!Subtractable<MonoNs, WallNs>);
static_assert(!Comparable<WallNs, MonoNs>);
static_assert(!EqualityComparable<WallNs, MonoNs>);
static_assert(!std::is_convertible_v<WallNs, MonoNs>);
static_assert(!std::is_constructible_v<MonoNs, WallNs>);

// The algebra: point - point of one clock is a duration, point +/- duration a point of that
// clock; two points do not add.
static_assert(std::same_as<decltype(WallNs{} - WallNs{}), Nanos>);
static_assert(std::same_as<decltype(MonoNs{} - MonoNs{}), Nanos>);
static_assert(std::same_as<decltype(MonoNs{} + Nanos{}), MonoNs>);
static_assert(std::same_as<decltype(WallNs{} - Nanos{}), WallNs>);
static_assert(std::same_as<decltype(MonoNs{} + std::chrono::milliseconds{}), MonoNs>);
static_assert(!Addable<WallNs, WallNs>);
static_assert(!Addable<MonoNs, MonoNs>);

// A bare number has no clock and no unit: neither a point nor a duration implicitly, and they
// do not decay into one.
static_assert(!std::is_convertible_v<std::int64_t, WallNs>);
static_assert(!std::is_convertible_v<std::int64_t, MonoNs>);
static_assert(!std::is_convertible_v<std::int64_t, Nanos>);
static_assert(!std::is_convertible_v<MonoNs, std::int64_t>);
static_assert(!Addable<MonoNs, std::int64_t>);
static_assert(!Comparable<MonoNs, std::int64_t>);

// Free on the hot path: one int64, copied as bytes, usable in constant expressions.
static_assert(sizeof(WallNs) == sizeof(std::int64_t) && sizeof(MonoNs) == sizeof(std::int64_t));
static_assert(std::is_trivially_copyable_v<WallNs> && std::is_trivially_copyable_v<MonoNs>);
static_assert(std::is_trivially_copyable_v<Nanos>);
static_assert(raw_ns(mono_from_ns(42) + Nanos{8}) == 50);

// The chrono clocks say which kernel clock they read.
static_assert(!WallClock::is_steady && MonoClock::is_steady);

TEST(Clock, RawNanosecondsRoundTrip) {
  EXPECT_EQ(raw_ns(wall_from_ns(1'700'000'000'123'456'789)), 1'700'000'000'123'456'789);
  EXPECT_EQ(raw_ns(mono_from_ns(-5)), -5);
  EXPECT_EQ(wall_from_ns(2'000) - wall_from_ns(500), Nanos{1'500});
}

TEST(Clock, TimespecBothWays) {
  EXPECT_EQ(timespec_duration(timespec{3, 250'000'000}), std::chrono::milliseconds{3'250});
  const timespec ts = to_timespec(std::chrono::microseconds{1'500'001});
  EXPECT_EQ(ts.tv_sec, 1);
  EXPECT_EQ(ts.tv_nsec, 500'001'000);
  const timespec zero = to_timespec(Nanos::zero());
  EXPECT_EQ(zero.tv_sec, 0);
  EXPECT_EQ(zero.tv_nsec, 0);
}

TEST(Clock, UnixSecondsTruncate) {
  EXPECT_EQ(unix_seconds(wall_from_ns(1'700'000'000'999'999'999)), 1'700'000'000);
  EXPECT_EQ(wall_at_unix_seconds(1'700'000'000), wall_from_ns(1'700'000'000'000'000'000));
}

TEST(Clock, SystemClockReadsTheKernelClocks) {
  const SystemClock clock;
  timespec before{};
  clock_gettime(CLOCK_MONOTONIC, &before);
  const MonoNs mono = clock.mono_now();
  EXPECT_GE(mono, MonoNs{timespec_duration(before)}) << "CLOCK_MONOTONIC, never behind";
  clock_gettime(CLOCK_REALTIME, &before);
  const WallNs wall = clock.wall_now();
  EXPECT_GE(wall, WallNs{timespec_duration(before)}) << "CLOCK_REALTIME";
}

}  // namespace
}  // namespace mtool
