// TraceScheduler on simulated time: a fake path of routers (each hop answers time exceeded,
// stays silent, or is the destination) behind a ProbeMethod, a clock that moves only when the
// scheduler waits, and a printer that records what was printed when. The expectations follow
// Butskoy's do_it()/get_timeout()/check_expired().
#include "trace/trace_scheduler.h"

#include <gtest/gtest.h>
#include <netinet/icmp6.h>
#include <netinet/ip_icmp.h>

#include <algorithm>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "fake_clock.h"
#include "fake_replies.h"
#include "util/error.h"

namespace mtool::trace {
namespace {

constexpr Nanos ms(std::int64_t v) { return std::chrono::milliseconds{v}; }

// How the hop at a TTL answers.
struct Hop {
  enum Kind { kRouter, kSilent, kDestination, kUnreachable } kind = kRouter;
  Nanos rtt = ms(1);
  std::uint8_t code = ICMP_HOST_UNREACH;  // for kUnreachable
  std::string address;
  // Probe numbers (0-based, in send order) that get no answer.
  std::vector<std::size_t> lost;
  int reply_ttl = 0;
};

net::IpAddress ip(const std::string& text) { return *net::IpAddress::parse(text); }

class FakePath final : public ProbeMethod {
 public:
  FakePath(FakeClock& clock, std::vector<Hop> hops) : clock_(clock), hops_(std::move(hops)) {}

  int send(std::size_t index, report::HopProbe& probe, int ttl, FlowId /*flow*/) override {
    probe.user_tx = clock_.wall_now();
    probe.mono_tx = clock_.mono_now();
    probe.sent = true;
    probe.identity = {AF_INET, IPPROTO_UDP, 40000, static_cast<std::uint16_t>(33434 + sends_)};
    ttls_.push_back(ttl);
    const std::size_t number = sends_++;
    const Hop& hop = hops_[std::min<std::size_t>(static_cast<std::size_t>(ttl), hops_.size()) - 1];
    if (hop.kind == Hop::kSilent) return 0;
    for (std::size_t lost : hop.lost) {
      if (lost == number) return 0;
    }
    ProbeReply reply;
    reply.index = index;
    reply.from = ip(hop.address);
    reply.reply_ttl = hop.reply_ttl;
    if (hop.kind == Hop::kRouter)
      reply.icmp = report::IcmpReport{ICMP_TIME_EXCEEDED, ICMP_EXC_TTL, 0};
    if (hop.kind == Hop::kUnreachable)
      reply.icmp = report::IcmpReport{ICMP_DEST_UNREACH, hop.code, 0};
    in_transit_.add(clock_.mono_now() + hop.rtt, reply);
    return 0;
  }

  void wait(Nanos timeout, std::vector<ProbeReply>& replies) override {
    in_transit_.wait(clock_, timeout, replies);
  }

  void release(std::size_t index) override { in_transit_.release(index); }
  void descriptors(std::vector<int>&) const override {}
  [[nodiscard]] std::size_t packet_length() const override { return 60; }

  [[nodiscard]] const std::vector<int>& ttls() const { return ttls_; }

 private:
  FakeClock& clock_;
  std::vector<Hop> hops_;
  RepliesInTransit in_transit_;
  std::vector<int> ttls_;
  std::size_t sends_ = 0;
};

// Renders probes the way the text printer would, minus names and times: "addr", "*", "!H".
class RecordingPrinter final : public report::ProbePrinter {
 public:
  explicit RecordingPrinter(const FakeClock& clock, unsigned per_hop)
      : clock_(clock), per_hop_(per_hop) {}
  void print_probe(const std::vector<report::HopProbe>& probes, std::size_t index) override {
    const report::HopProbe& p = probes[index];
    if (index % per_hop_ == 0) lines.push_back(std::to_string(index / per_hop_ + 1) + ":");
    std::string text = p.from.empty() ? "*" : p.from.to_string();
    if (!p.annotation.empty()) text += " " + p.annotation;
    lines.back() += " " + text;
    printed_at.push_back(clock_.elapsed());
  }
  std::vector<std::string> lines;
  std::vector<Nanos> printed_at;

 private:
  const FakeClock& clock_;
  unsigned per_hop_;
};

struct Run {
  std::vector<std::string> lines;
  Nanos elapsed{};
  std::vector<int> ttls;
  std::vector<report::HopProbe> probes;
};

Run run(std::vector<Hop> hops, ScheduleConfig config = {}) {
  FakeClock clock;
  FakePath path(clock, std::move(hops));
  RecordingPrinter printer(clock, config.probes_per_hop);
  TraceScheduler scheduler(config, path, printer, clock, nullptr);
  scheduler.run();
  return {printer.lines, clock.elapsed(), path.ttls(), scheduler.probes()};
}

Hop router(const std::string& address) { return {Hop::kRouter, ms(1), 0, address, {}, 0}; }
Hop silent() { return {Hop::kSilent, Nanos::zero(), 0, "", {}, 0}; }
Hop destination(const std::string& address) {
  return {Hop::kDestination, ms(1), 0, address, {}, 0};
}

TEST(TraceScheduler, PrintsEachHopInOrderAndStopsAtTheDestination) {
  const auto r = run({router("198.18.0.1"), router("198.19.0.2"), destination("198.19.0.6")});
  EXPECT_EQ(r.lines, (std::vector<std::string>{"1: 198.18.0.1 198.18.0.1 198.18.0.1",
                                               "2: 198.19.0.2 198.19.0.2 198.19.0.2",
                                               "3: 198.19.0.6 198.19.0.6 198.19.0.6"}));
}

TEST(TraceScheduler, SendsUpToSimProbesAtOnceAcrossHops) {
  // 16 in flight: the first burst covers hops 1-6 (and one probe of hop 6) before any reply.
  const auto r =
      run({router("198.18.0.1"), router("198.18.0.2"), router("198.18.0.3"), router("198.18.0.4"),
           router("198.18.0.5"), router("198.18.0.6"), destination("198.18.0.7")});
  ASSERT_GE(r.ttls.size(), 16U);
  EXPECT_EQ(r.ttls[15], 6);
  // Probes beyond the destination may already be out when it answers (Butskoy too), but
  // nothing beyond it is printed.
  EXPECT_EQ(r.lines.size(), 7U);
}

TEST(TraceScheduler, SilentHopsCostOneTimeoutNotOnePerHop) {
  // Four silent hops then the destination: all are in flight together, so the wait is about
  // one MAX (5 s), not four (Butskoy: 1 s for -w 1 with -N 16, 9 s with -N 1 for 3 hops).
  ScheduleConfig config;
  const auto parallel =
      run({silent(), silent(), silent(), silent(), destination("198.18.0.9")}, config);
  EXPECT_EQ(parallel.lines.size(), 5U);
  EXPECT_EQ(parallel.lines[0], "1: * * *");
  EXPECT_EQ(parallel.lines[4], "5: 198.18.0.9 198.18.0.9 198.18.0.9");
  EXPECT_LT(parallel.elapsed, 2 * config.wait_max);

  config.sim_probes = 1;
  config.max_hops = 3;
  const auto serial = run({silent(), silent(), silent()}, config);
  EXPECT_EQ(serial.elapsed, 9 * config.wait_max);
}

TEST(TraceScheduler, NearFactorShortensTheWaitForAnEarlierSilentHop) {
  // Hop 2 answers in 1 ms: the silent hop 1 is given up after NEAR x (1 ms + 1 ms) = 20 ms.
  ScheduleConfig config;
  const auto r = run({silent(), destination("198.18.0.9")}, config);
  EXPECT_EQ(r.lines[0], "1: * * *");
  EXPECT_LT(r.elapsed, ms(100));
}

TEST(TraceScheduler, HereFactorShortensTheWaitForALostProbeOfAnAnsweringHop) {
  Hop hop = destination("198.18.0.9");
  hop.lost = {1};  // the second probe is lost
  ScheduleConfig config;
  config.wait_near = 0;
  const auto r = run({hop}, config);
  EXPECT_EQ(r.lines[0], "1: 198.18.0.9 * 198.18.0.9");
  // HERE x (1 ms + 1 ms) = 6 ms, not MAX.
  EXPECT_LT(r.elapsed, ms(10));
}

TEST(TraceScheduler, WithoutFactorsALostProbeWaitsTheFullMax) {
  Hop hop = destination("198.18.0.9");
  hop.lost = {1};
  ScheduleConfig config;
  config.wait_here = config.wait_near = 0;
  config.wait_max = ms(700);
  const auto r = run({hop}, config);
  EXPECT_EQ(r.elapsed, ms(700));
}

TEST(TraceScheduler, UnreachableAnnotatesAndEndsTheTrace) {
  Hop hop{Hop::kUnreachable, ms(1), ICMP_HOST_UNREACH, "198.18.0.9", {}, 0};
  const auto r = run({router("198.18.0.1"), hop, router("198.18.0.3")});
  ASSERT_EQ(r.lines.size(), 2U);
  EXPECT_EQ(r.lines[1], "2: 198.18.0.9 !H 198.18.0.9 !H 198.18.0.9 !H");
}

TEST(TraceScheduler, FirstHopSkipsTheNearerOnes) {
  ScheduleConfig config;
  config.first_hop = 2;
  const auto r = run({router("198.18.0.1"), destination("198.18.0.2")}, config);
  ASSERT_EQ(r.lines.size(), 1U);
  EXPECT_EQ(r.lines[0], "2: 198.18.0.2 198.18.0.2 198.18.0.2");
  EXPECT_EQ(r.ttls.front(), 2);
}

TEST(TraceScheduler, MaxHopsEndsAnUnfinishedTrace) {
  ScheduleConfig config;
  config.max_hops = 2;
  const auto r =
      run({router("198.18.0.1"), router("198.18.0.2"), destination("198.18.0.3")}, config);
  EXPECT_EQ(r.lines.size(), 2U);
}

TEST(TraceScheduler, SendWaitSpacesTheProbes) {
  ScheduleConfig config;
  config.send_wait = ms(50);
  FakeClock clock;
  FakePath path(clock, {destination("198.18.0.9")});
  RecordingPrinter printer(clock, 3);
  TraceScheduler scheduler(config, path, printer, clock, nullptr);
  scheduler.run();
  const auto& p = scheduler.probes();
  EXPECT_GE(p[1].mono_tx - p[0].mono_tx, ms(50));
  EXPECT_GE(p[2].mono_tx - p[1].mono_tx, ms(50));
}

TEST(TraceScheduler, AGateDefersSendsUntilItAllows) {
  // One probe per 100 ms from outside (a campaign's pacer): the schedule waits for it.
  struct EveryHundredMs final : SendGate {
    explicit EveryHundredMs(const FakeClock& c) : clock(c) {}
    std::optional<MonoNs> defer_until(MonoNs now) override {
      if (next != MonoNs{} && now < next) return next;
      next = now + ms(100);
      ++granted;
      return std::nullopt;
    }
    const FakeClock& clock;
    MonoNs next{};
    int granted = 0;
  };
  FakeClock clock;
  FakePath path(clock, {router("198.18.0.1"), destination("198.18.0.9")});
  RecordingPrinter printer(clock, 3);
  EveryHundredMs gate(clock);
  TraceScheduler scheduler({}, path, printer, clock, nullptr, &gate);
  scheduler.run();
  const auto& p = scheduler.probes();
  for (std::size_t i = 1; i < 6; ++i) EXPECT_GE(p[i].mono_tx - p[i - 1].mono_tx, ms(100)) << i;
  EXPECT_EQ(gate.granted, 6);
  ASSERT_EQ(printer.lines.size(), 2U);
  EXPECT_EQ(printer.lines[1], "2: 198.18.0.9 198.18.0.9 198.18.0.9");
}

TEST(TraceScheduler, FinalAnswerForALaterProbeMovesToTheExpiredOne) {
  // The destination answers "!H" only for the later probes (as a router rate-limiting its
  // unreachables does): the first probe of its hop expires, and the final replies shift back
  // into its place, so the trace ends at the destination's hop instead of printing hops
  // beyond it (without the shift: "* !H !H", then a hop 2 of "!H").
  Hop hop{Hop::kUnreachable, ms(1), ICMP_HOST_UNREACH, "198.18.0.9", {0}, 0};
  const auto r = run({hop});
  ASSERT_EQ(r.lines.size(), 1U);
  EXPECT_EQ(r.lines[0], "1: 198.18.0.9 !H 198.18.0.9 !H 198.18.0.9 !H");
}

TEST(TraceScheduler, CorrelatorOverheadIsTakenPerAnsweredProbe) {
  struct CountingSource final : correlate::OverheadSource {
    std::optional<correlate::ProbeOverhead> take(const correlate::ProbeIdentity& probe,
                                                 MonoNs) override {
      asked.push_back(probe.sequence);
      correlate::ProbeOverhead o;
      o.egress_ns = 1000;
      return o;
    }
    std::vector<std::uint16_t> asked;
  } source;
  Hop hop = destination("198.18.0.9");
  hop.lost = {2};
  FakeClock clock;
  FakePath path(clock, {hop});
  RecordingPrinter printer(clock, 3);
  TraceScheduler scheduler({}, path, printer, clock, &source);
  scheduler.run();
  // Every answered probe (later hops' too, answered while in flight), never the lost one.
  EXPECT_EQ(std::count(source.asked.begin(), source.asked.end(), 33436), 0);
  EXPECT_EQ(source.asked.front(), 33434);
  EXPECT_TRUE(scheduler.probes()[0].overhead.has_value());
  EXPECT_FALSE(scheduler.probes()[2].overhead.has_value());
}

TEST(TraceScheduler, ClassifiesIcmpErrorsAsButskoy) {
  const auto v4 = [](std::uint8_t type, std::uint8_t code, std::uint32_t info = 0) {
    const auto verdict = classify_icmp(AF_INET, {type, code, info});
    return verdict ? verdict->annotation : std::string("(transit)");
  };
  EXPECT_EQ(v4(ICMP_TIME_EXCEEDED, ICMP_EXC_TTL), "(transit)");
  EXPECT_EQ(v4(ICMP_DEST_UNREACH, ICMP_PORT_UNREACH), "");
  EXPECT_EQ(v4(ICMP_DEST_UNREACH, ICMP_NET_UNREACH), "!N");
  EXPECT_EQ(v4(ICMP_DEST_UNREACH, ICMP_HOST_UNREACH), "!H");
  EXPECT_EQ(v4(ICMP_DEST_UNREACH, ICMP_PROT_UNREACH), "!P");
  EXPECT_EQ(v4(ICMP_DEST_UNREACH, ICMP_PKT_FILTERED), "!X");
  EXPECT_EQ(v4(ICMP_DEST_UNREACH, ICMP_HOST_ANO), "!X");
  EXPECT_EQ(v4(ICMP_DEST_UNREACH, ICMP_SR_FAILED), "!S");
  EXPECT_EQ(v4(ICMP_DEST_UNREACH, ICMP_FRAG_NEEDED, 1400), "!F-1400");
  EXPECT_EQ(v4(ICMP_DEST_UNREACH, 15), "!C");
  EXPECT_EQ(v4(ICMP_DEST_UNREACH, 99), "!<99>");
  EXPECT_EQ(v4(ICMP_TIME_EXCEEDED, ICMP_EXC_FRAGTIME), "!<11-1>");
  const auto v6 = [](std::uint8_t type, std::uint8_t code, std::uint32_t info = 0) {
    const auto verdict = classify_icmp(AF_INET6, {type, code, info});
    return verdict ? verdict->annotation : std::string("(transit)");
  };
  EXPECT_EQ(v6(ICMP6_TIME_EXCEEDED, ICMP6_TIME_EXCEED_TRANSIT), "(transit)");
  EXPECT_EQ(v6(ICMP6_DST_UNREACH, ICMP6_DST_UNREACH_NOPORT), "");
  EXPECT_EQ(v6(ICMP6_DST_UNREACH, ICMP6_DST_UNREACH_NOROUTE), "!N");
  EXPECT_EQ(v6(ICMP6_DST_UNREACH, ICMP6_DST_UNREACH_ADDR), "!H");
  EXPECT_EQ(v6(ICMP6_DST_UNREACH, ICMP6_DST_UNREACH_ADMIN), "!X");
  EXPECT_EQ(v6(ICMP6_PACKET_TOO_BIG, 0, 1280), "!F-1280");
}

TEST(TraceScheduler, AnUnsendableProbeIsARuntimeError) {
  struct Broken final : ProbeMethod {
    int send(std::size_t, report::HopProbe&, int, FlowId) override { return ENOBUFS; }
    void wait(Nanos, std::vector<ProbeReply>&) override {}
    void release(std::size_t) override {}
    void descriptors(std::vector<int>&) const override {}
    [[nodiscard]] std::size_t packet_length() const override { return 60; }
  } broken;
  FakeClock clock;
  RecordingPrinter printer(clock, 3);
  TraceScheduler scheduler({}, broken, printer, clock, nullptr);
  try {
    scheduler.run();
    FAIL() << "expected a FatalError";
  } catch (const FatalError& e) {
    EXPECT_EQ(e.exit_code(), 1);
    EXPECT_NE(std::string(e.what()).find("send probe"), std::string::npos);
  }
}

}  // namespace
}  // namespace mtool::trace
