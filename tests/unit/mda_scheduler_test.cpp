// MdaScheduler on simulated time over a simulated multipath network: probes in flight bounded
// by -N, a probe lost once sent again on the same flow (and counted), -z spacing sends, the
// correlator's overheads attached to the replies the graph keeps.
#include "trace/mda_scheduler.h"

#include <gtest/gtest.h>
#include <netinet/ip_icmp.h>

#include <algorithm>
#include <map>
#include <set>

#include "fake_clock.h"
#include "fake_replies.h"
#include "mda_network.h"

namespace mtool::trace {
namespace {

using testing::SimulatedNetwork;

constexpr Nanos kRtt = std::chrono::milliseconds{1};

class SimulatedMethod final : public ProbeMethod {
 public:
  SimulatedMethod(FakeClock& clock, const SimulatedNetwork& network)
      : clock_(clock), network_(network) {}

  int send(std::size_t index, report::HopProbe& probe, int ttl, FlowId flow) override {
    probe.user_tx = clock_.wall_now();
    probe.mono_tx = clock_.mono_now();
    probe.sent = true;
    probe.identity = {AF_INET, IPPROTO_UDP, 40000, static_cast<std::uint16_t>(index)};
    send_times.push_back(clock_.elapsed());
    ++in_flight_;
    max_in_flight = std::max(max_in_flight, in_flight_);
    const auto outcome = network_.reach(flow, static_cast<unsigned>(ttl));
    const bool lose = lose_first_at_ttl == ttl && !lost_once_.contains(flow);
    if (lose) lost_once_.insert(flow);
    if (!outcome || !outcome->answers || lose) return 0;
    ProbeReply reply;
    reply.index = index;
    reply.from = *net::IpAddress::parse(outcome->address);
    if (!outcome->destination)
      reply.icmp = report::IcmpReport{ICMP_TIME_EXCEEDED, ICMP_EXC_TTL, 0};
    else
      reply.icmp = report::IcmpReport{ICMP_DEST_UNREACH, ICMP_PORT_UNREACH, 0};
    in_transit_.add(clock_.mono_now() + kRtt, reply);
    return 0;
  }

  void wait(Nanos timeout, std::vector<ProbeReply>& replies) override {
    in_transit_.wait(clock_, timeout, replies);
  }

  void release(std::size_t index) override {
    in_transit_.release(index);
    --in_flight_;
  }
  void descriptors(std::vector<int>& /*fds*/) const override {}
  [[nodiscard]] std::size_t packet_length() const override { return 60; }

  int lose_first_at_ttl = 0;
  unsigned max_in_flight = 0;
  std::vector<Nanos> send_times;

 private:
  FakeClock& clock_;
  const SimulatedNetwork& network_;
  RepliesInTransit in_transit_;
  std::set<FlowId> lost_once_;
  unsigned in_flight_ = 0;
};

// Every probe's overhead: 10 us egress, nothing else.
class FixedOverheads final : public correlate::OverheadSource {
 public:
  std::optional<correlate::ProbeOverhead> take(const correlate::ProbeIdentity& /*probe*/,
                                               MonoNs /*sent_after*/) override {
    ++asked;
    correlate::ProbeOverhead o;
    o.egress_ns = 10'000;
    return o;
  }
  unsigned asked = 0;
};

SimulatedNetwork diamond() {
  SimulatedNetwork n;
  n.stage(1, {"198.18.0.1"});
  n.stage(2, {"198.18.2.1", "198.18.2.2"});
  n.stage(3, {"198.18.3.1", "198.18.3.2", "198.18.3.3"});
  n.stage(4, {"198.18.4.1"}, true);
  return n;
}

std::set<std::string> addresses(const report::MdaGraph& g) {
  std::set<std::string> out;
  for (const auto& n : g.nodes) out.insert(n.address.empty() ? "*" : n.address.to_string());
  return out;
}

TEST(MdaScheduler, BoundsProbesInFlightAndCountsThem) {
  FakeClock clock;
  const SimulatedNetwork net = diamond();
  SimulatedMethod method(clock, net);
  MdaConfig config;
  config.seed = 3;
  MdaExplorer explorer(config);
  MdaScheduleConfig schedule;
  schedule.sim_probes = 4;
  MdaScheduler(schedule, explorer, method, clock, nullptr).run();
  const report::MdaGraph& g = explorer.graph();
  EXPECT_EQ(addresses(g).size(), 7U);
  EXPECT_EQ(g.probes_sent, method.send_times.size());
  EXPECT_EQ(method.max_in_flight, 4U);
  EXPECT_EQ(g.duration, clock.elapsed());
}

TEST(MdaScheduler, SendsALostProbeAgainOnTheSameFlow) {
  FakeClock clock;
  const SimulatedNetwork net = diamond();
  SimulatedMethod method(clock, net);
  method.lose_first_at_ttl = 3;
  MdaConfig config;
  config.seed = 3;
  MdaExplorer explorer(config);
  MdaScheduleConfig schedule;
  schedule.wait_max = std::chrono::milliseconds{100};
  MdaScheduler(schedule, explorer, method, clock, nullptr).run();
  const report::MdaGraph& g = explorer.graph();
  EXPECT_EQ(addresses(g).size(), 7U) << "no '*': every lost probe answered the second time";
  std::size_t at_ttl3 = 0;
  for (const auto& n : g.nodes) at_ttl3 += n.ttl == 3 ? n.replies.size() : 0;
  EXPECT_GT(g.probes_sent, 0U);
  EXPECT_EQ(g.probes_sent, method.send_times.size());
  EXPECT_GE(clock.elapsed(), std::chrono::milliseconds{100});
  // Each flow's first probe at TTL 3 was lost and sent once more.
  EXPECT_GE(g.probes_sent, at_ttl3 * 2);
}

TEST(MdaScheduler, SpacesSendsBySendWait) {
  FakeClock clock;
  const SimulatedNetwork net = diamond();
  SimulatedMethod method(clock, net);
  MdaExplorer explorer(MdaConfig{});
  MdaScheduleConfig schedule;
  schedule.send_wait = std::chrono::milliseconds{10};
  MdaScheduler(schedule, explorer, method, clock, nullptr).run();
  ASSERT_GT(method.send_times.size(), 1U);
  for (std::size_t i = 1; i < method.send_times.size(); ++i)
    EXPECT_GE(method.send_times[i] - method.send_times[i - 1], std::chrono::milliseconds{10});
}

TEST(MdaScheduler, RepliesCarryTheCorrelatorsOverheads) {
  FakeClock clock;
  const SimulatedNetwork net = diamond();
  SimulatedMethod method(clock, net);
  FixedOverheads overheads;
  MdaExplorer explorer(MdaConfig{});
  MdaScheduler(MdaScheduleConfig{}, explorer, method, clock, &overheads).run();
  std::size_t replies = 0;
  for (const auto& n : explorer.graph().nodes) {
    for (const auto& r : n.replies) {
      ++replies;
      ASSERT_TRUE(r.overhead.has_value());
      EXPECT_EQ(r.overhead->egress_ns, 10'000);
    }
  }
  EXPECT_EQ(overheads.asked, replies);
}

}  // namespace
}  // namespace mtool::trace
