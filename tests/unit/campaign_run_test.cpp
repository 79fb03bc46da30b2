// The pieces of `mtool run` that need no sockets: one ping run's state, the global pacer and
// the progress line.
#include <gtest/gtest.h>

#include "campaign/ping_run.h"
#include "campaign/probe_pacer.h"
#include "campaign/progress_line.h"
#include "campaign/run_schedule.h"

namespace mtool::campaign {
namespace {

constexpr MonoNs kStart = mono_from_ns(1'000 * kNsPerSec);
constexpr Nanos ms(std::int64_t v) { return std::chrono::milliseconds{v}; }

PingParameters three_at(unsigned interval_ms) {
  PingParameters p;
  p.packets = 3;
  p.packet_interval_ms = interval_ms;
  return p;
}

using Kind = report::AtlasPingPacket::Kind;

TEST(PingRun, SendsEachPacketAnIntervalAfterTheLastSend) {
  PingRun run(three_at(1000), kStart);
  ASSERT_EQ(run.due_packet(kStart), 0U);
  run.sent(0, kStart);
  EXPECT_FALSE(run.due_packet(kStart + ms(999)));
  EXPECT_EQ(run.next_wake(), kStart + ms(1000));
  // Held back 300 ms by the pacer: the next send keeps its full interval after this one.
  run.sent(1, kStart + ms(1300));
  EXPECT_FALSE(run.due_packet(kStart + ms(2000)));
  EXPECT_EQ(run.due_packet(kStart + ms(2300)), 2U);
}

TEST(PingRun, EndsWhenAllAnsweredOrTheLastWaitEnds) {
  PingRun run(three_at(10), kStart);
  for (unsigned i = 0; i < 3; ++i) run.sent(i, kStart + ms(10 * i));
  run.replied(0, 0.5, 64);
  run.replied(2, 0.7, 64);
  EXPECT_FALSE(run.finished(kStart + ms(20)));
  EXPECT_EQ(run.next_wake(), kStart + ms(20) + PingRun::kReplyTimeout);
  EXPECT_TRUE(run.finished(kStart + ms(20) + PingRun::kReplyTimeout));
  const auto packets = run.packets();
  ASSERT_EQ(packets.size(), 3U);
  EXPECT_EQ(packets[0].kind, Kind::kReply);
  EXPECT_EQ(packets[1].kind, Kind::kLost);
  EXPECT_EQ(packets[2].kind, Kind::kReply);

  PingRun answered(three_at(10), kStart);
  for (unsigned i = 0; i < 3; ++i) {
    answered.sent(i, kStart + ms(10 * i));
    answered.replied(i, 0.1, 64);
  }
  EXPECT_TRUE(answered.finished(kStart + ms(20)));
}

TEST(PingRun, ASecondReplyIsADuplicateListedAfterItsOriginal) {
  PingRun run(three_at(10), kStart);
  run.sent(0, kStart);
  run.replied(0, 0.5, 64);
  run.replied(0, 0.9, 63);
  run.sent(1, kStart + ms(10));
  run.replied(1, 0.4, 64);
  run.sent(2, kStart + ms(20));
  run.replied(2, 0.4, 64);
  const auto packets = run.packets();
  ASSERT_EQ(packets.size(), 4U);
  EXPECT_EQ(packets[0].kind, Kind::kReply);
  EXPECT_EQ(packets[1].kind, Kind::kDuplicate);
  EXPECT_DOUBLE_EQ(packets[1].rtt_ms, 0.9);
  EXPECT_EQ(packets[2].kind, Kind::kReply);
  EXPECT_EQ(run.sent_count(), 3U);
}

TEST(PingRun, ACorrectionArrivesAfterItsReplyAndOnlyForTheFirst) {
  PingRun run(three_at(10), kStart);
  run.sent(0, kStart);
  run.replied(0, 0.5, 64);
  run.replied(0, 0.9, 64);  // a duplicate: the correlator's one record is the first reply's
  run.correct(0, report::AtlasCorrection{0.3, 0.2, false, nullptr});
  run.correct(1, report::AtlasCorrection{0.3, 0.2, false, nullptr});  // never sent: ignored
  const auto packets = run.packets();
  ASSERT_EQ(packets.size(), 2U);
  ASSERT_TRUE(packets[0].correction);
  EXPECT_DOUBLE_EQ(packets[0].correction->corrected_ms, 0.3);
  EXPECT_FALSE(packets[1].correction);
}

TEST(PingRun, ErrorsAnswerAPacketAndFailedSendsAreNotCounted) {
  PingRun run(three_at(10), kStart);
  run.sent(0, kStart);
  run.refused(0, "Destination Host Unreachable from 198.18.0.1");
  run.replied(0, 0.2, 64);  // after the error: kept, as a duplicate
  run.send_failed(1, kStart + ms(10), "sendto failed: Network is unreachable");
  run.sent(2, kStart + ms(20));
  run.replied(2, 0.3, 64);
  EXPECT_TRUE(run.finished(kStart + ms(20)));
  EXPECT_EQ(run.sent_count(), 2U);
  const auto packets = run.packets();
  ASSERT_EQ(packets.size(), 4U);
  EXPECT_EQ(packets[0].kind, Kind::kError);
  EXPECT_EQ(packets[0].error, "Destination Host Unreachable from 198.18.0.1");
  EXPECT_EQ(packets[1].kind, Kind::kDuplicate);
  EXPECT_EQ(packets[2].kind, Kind::kError);
  EXPECT_EQ(packets[3].kind, Kind::kReply);
}

TEST(PingRun, StoppedBeforeAllWereDueListsOnlyWhatWasSent) {
  PingRun run(three_at(1000), kStart);
  run.sent(0, kStart);
  EXPECT_EQ(run.packets().size(), 1U);
  EXPECT_FALSE(run.finished(kStart + ms(5000)));  // two packets still to send
}

TEST(ProbePacer, HoldsTheLongRunRateAndAllowsTheBurst) {
  ProbePacer pacer(1000, 5);  // one per ms, five back to back
  MonoNs now = kStart;
  for (int i = 0; i < 5; ++i) EXPECT_FALSE(pacer.defer_until(now)) << i;
  const auto later = pacer.defer_until(now);
  ASSERT_TRUE(later);
  EXPECT_EQ(*later, kStart + ms(1));
  // Over one simulated second, asking as often as allowed: 1000 more, not one over.
  int granted = 0;
  for (now = kStart; now < kStart + std::chrono::seconds{1};
       now += std::chrono::microseconds{100}) {
    while (!pacer.defer_until(now)) ++granted;
  }
  EXPECT_GE(granted, 999);
  EXPECT_LE(granted, 1000);
  EXPECT_EQ(pacer.granted(), static_cast<std::uint64_t>(granted) + 5);
}

TEST(ProbePacer, AvailableDoesNotTakeAToken) {
  ProbePacer pacer(10, 1);
  EXPECT_TRUE(pacer.available(kStart));
  EXPECT_TRUE(pacer.available(kStart));
  EXPECT_FALSE(pacer.defer_until(kStart));
  EXPECT_FALSE(pacer.available(kStart));
  EXPECT_EQ(pacer.next_available(), kStart + ms(100));
}

TEST(ProgressLine, CountsRateAndEta) {
  RunnerProgress p;
  p.completed = 250;
  p.planned = 1000;
  p.in_progress = 40;
  p.probes_sent = 2000;
  p.elapsed = std::chrono::seconds{2};
  EXPECT_EQ(progress_line(p), "250/1000 results, 40 running, 1000 probes/s, ETA 0:06");
  p.planned = 0;  // periodic without a stop time
  EXPECT_EQ(progress_line(p), "250 results, 40 running, 1000 probes/s");
  p.elapsed = ms(100);  // the first burst
  EXPECT_EQ(progress_line(p), "250 results, 40 running");
}

}  // namespace
}  // namespace mtool::campaign

namespace mtool::campaign {
namespace {

Schedule periodic(std::int64_t interval, std::optional<std::int64_t> start,
                  std::optional<std::int64_t> stop) {
  Schedule s;
  s.is_oneoff = false;
  s.interval_s = interval;
  s.start_time = start;
  s.stop_time = stop;
  return s;
}

TEST(RunSchedule, AOneOffRunsOnceAtItsStartOrNow) {
  Schedule s;
  EXPECT_EQ(first_run_at(s, 1000), 1000);
  EXPECT_EQ(next_run_at(s, 1000), std::nullopt);
  EXPECT_EQ(run_count(s, 1000), 1U);
  s.start_time = 1500;
  EXPECT_EQ(first_run_at(s, 1000), 1500);
  s.start_time = 500;  // in the past: now
  EXPECT_EQ(first_run_at(s, 1000), 1000);
}

TEST(RunSchedule, APeriodicOneRepeatsUntilItsStopTimeInclusive) {
  const Schedule s = periodic(60, 1000, 1120);
  EXPECT_EQ(first_run_at(s, 900), 1000);
  EXPECT_EQ(next_run_at(s, 1000), 1060);
  EXPECT_EQ(next_run_at(s, 1060), 1120);
  EXPECT_EQ(next_run_at(s, 1120), std::nullopt);
  EXPECT_EQ(run_count(s, 900), 3U);
}

TEST(RunSchedule, PastStopTimeMeansNoRunAndNoStopTimeMeansUnbounded) {
  EXPECT_EQ(first_run_at(periodic(60, 100, 200), 1000), std::nullopt);
  EXPECT_EQ(run_count(periodic(60, 100, 200), 1000), 0U);
  EXPECT_EQ(run_count(periodic(60, std::nullopt, std::nullopt), 1000), std::nullopt);
  EXPECT_EQ(next_run_at(periodic(60, std::nullopt, std::nullopt), 1000), 1060);
}

}  // namespace
}  // namespace mtool::campaign
