// When a campaign's runs start, on a fake clock: first runs at once in list order, a periodic
// definition's next run planned only as its predecessor starts, spread within its bound.
#include "campaign/run_planner.h"

#include <gtest/gtest.h>

#include "fake_clock.h"

namespace mtool::campaign {
namespace {

constexpr std::int64_t kNowS = unix_seconds(kWallStart);
constexpr Nanos seconds(std::int64_t v) { return std::chrono::seconds{v}; }

MeasurementDefinition oneoff(std::size_t index) {
  MeasurementDefinition d;
  d.index = index;
  return d;
}

MeasurementDefinition periodic(std::size_t index, std::int64_t start_s, std::int64_t interval_s,
                               std::optional<std::int64_t> stop_s) {
  MeasurementDefinition d;
  d.index = index;
  d.schedule.is_oneoff = false;
  d.schedule.start_time = start_s;
  d.schedule.interval_s = interval_s;
  d.schedule.stop_time = stop_s;
  return d;
}

TEST(RunPlanner, OneOffsStartNowInListOrder) {
  FakeClock clock;
  const std::vector<MeasurementDefinition> list{oneoff(0), oneoff(1), oneoff(2)};
  RunPlanner planner(list, clock, 1);
  planner.plan_all();
  EXPECT_EQ(planner.total(), 3U);
  for (std::size_t i = 0; i < 3; ++i) {
    ASSERT_FALSE(planner.empty());
    EXPECT_EQ(planner.next().at, kMonoStart);
    EXPECT_EQ(planner.take_next().definition, i);
  }
  EXPECT_TRUE(planner.empty());
}

TEST(RunPlanner, APeriodicDefinitionIsPlannedOneRunAtATime) {
  FakeClock clock;
  const std::vector<MeasurementDefinition> list{periodic(0, kNowS + 10, 60, kNowS + 130),
                                                oneoff(1)};
  RunPlanner planner(list, clock, 1);
  planner.plan_all();
  EXPECT_EQ(planner.total(), 4U);  // 10 s, 70 s, 130 s (inclusive), and the one-off
  EXPECT_EQ(planner.size(), 2U);
  EXPECT_EQ(planner.take_next().definition, 1U);  // now, before the periodic one's 10 s

  std::vector<MonoNs> starts;
  while (!planner.empty()) {
    clock.advance_to(planner.next().at);
    const auto p = planner.take_next();
    EXPECT_EQ(p.definition, 0U);
    EXPECT_LE(planner.size(), 1U);  // never more than its next run
    starts.push_back(p.at);
  }
  EXPECT_EQ(starts, (std::vector<MonoNs>{kMonoStart + seconds(10), kMonoStart + seconds(70),
                                         kMonoStart + seconds(130)}));
}

TEST(RunPlanner, AnUnboundedListHasNoTotalAndAPastOneHasNoRun) {
  FakeClock clock;
  const std::vector<MeasurementDefinition> list{periodic(0, kNowS, 60, std::nullopt),
                                                periodic(1, kNowS - 600, 60, kNowS - 60)};
  RunPlanner planner(list, clock, 1);
  planner.plan_all();
  EXPECT_EQ(planner.total(), 0U);
  EXPECT_EQ(planner.size(), 1U);
  EXPECT_EQ(planner.next().definition, 0U);
}

TEST(RunPlanner, SpreadStartsWithinItsBoundAndTheSeedDecides) {
  FakeClock clock;
  std::vector<MeasurementDefinition> list;
  for (std::size_t i = 0; i < 50; ++i) {
    list.push_back(oneoff(i));
    list.back().schedule.spread_s = 30;
  }
  auto starts = [&](std::uint32_t seed) {
    RunPlanner planner(list, clock, seed);
    planner.plan_all();
    std::vector<MonoNs> at;
    while (!planner.empty()) at.push_back(planner.take_next().at);
    return at;
  };
  const auto a = starts(7);
  ASSERT_EQ(a.size(), 50U);
  EXPECT_TRUE(std::is_sorted(a.begin(), a.end()));
  EXPECT_GE(a.front(), kMonoStart);
  EXPECT_LE(a.back(), kMonoStart + seconds(30));
  EXPECT_GT(a.back() - a.front(), seconds(10));  // spread, not bunched
  EXPECT_EQ(starts(7), a);
  EXPECT_NE(starts(8), a);
}

}  // namespace
}  // namespace mtool::campaign
