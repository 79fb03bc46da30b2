// The correlator a tool measures with when none answered at start (lib/correlate/
// lazy_correlator): it looks again at most every 100 ms, only when replies come in; once one
// answers it forwards to it; a refused holder of the name is said once and not asked again.
#include "correlate/lazy_correlator.h"

#include <gtest/gtest.h>

#include <memory>
#include <string>
#include <vector>

#include "fake_clock.h"

namespace mtool::correlate {
namespace {

// Answers every probe with an overhead whose egress is the probe's sequence; counts the asks.
class FakeSource final : public OverheadSource {
 public:
  explicit FakeSource(int& asked) : asked_(asked) {}
  std::optional<ProbeOverhead> take(const ProbeIdentity& probe, MonoNs) override {
    ++asked_;
    ProbeOverhead o;
    o.egress_ns = probe.sequence;
    return o;
  }

 private:
  int& asked_;
};

ProbeIdentity probe(std::uint16_t sequence) { return {2, 1, 7, sequence}; }

struct Harness {
  FakeClock clock;
  int looks = 0;
  int asked = 0;
  std::vector<std::string> said;
  ConnectAttempt next;  // what the next look finds (moved out)

  LazyCorrelator::Connect connect() {
    return [this] {
      ++looks;
      return std::move(next);
    };
  }
  LazyCorrelator::Notify notify() {
    return [this](const std::string& line) { said.push_back(line); };
  }
  ConnectAttempt found() {
    ConnectAttempt a;
    a.source = std::make_unique<FakeSource>(asked);
    a.via = "socket @mtool-correlator";
    return a;
  }
};

TEST(LazyCorrelator, LooksAgainAtMostEvery100Ms) {
  Harness h;
  LazyCorrelator lazy(nullptr, h.connect(), h.clock, h.notify());
  EXPECT_FALSE(lazy.take(probe(1), MonoNs{})) << "the tool has just looked: not again at once";
  EXPECT_EQ(h.looks, 0);
  h.clock.advance_by(std::chrono::milliseconds{99});
  EXPECT_FALSE(lazy.take(probe(2), MonoNs{}));
  EXPECT_EQ(h.looks, 0);
  h.clock.advance_by(std::chrono::milliseconds{1});
  EXPECT_FALSE(lazy.take(probe(3), MonoNs{}));
  EXPECT_EQ(h.looks, 1);
  for (int i = 0; i < 10; ++i) {
    h.clock.advance_by(std::chrono::milliseconds{9});
    EXPECT_FALSE(lazy.take(probe(4), MonoNs{}));
    EXPECT_FALSE(lazy.take_many({{probe(5), MonoNs{}}, {probe(6), MonoNs{}}})[0]);
  }
  EXPECT_EQ(h.looks, 1) << "90 ms of replies: no second look";
  h.clock.advance_by(std::chrono::milliseconds{10});
  EXPECT_FALSE(lazy.take(probe(7), MonoNs{}));
  EXPECT_EQ(h.looks, 2);
  EXPECT_FALSE(lazy.connected_once());
  EXPECT_TRUE(h.said.empty());
}

TEST(LazyCorrelator, NoLookWithoutReplies) {
  Harness h;
  LazyCorrelator lazy(nullptr, h.connect(), h.clock, h.notify());
  h.clock.advance_by(std::chrono::seconds{10});
  EXPECT_TRUE(lazy.take_many({}).empty());
  EXPECT_EQ(h.looks, 0);
}

TEST(LazyCorrelator, ForwardsOnceFound) {
  Harness h;
  LazyCorrelator lazy(nullptr, h.connect(), h.clock, h.notify());
  h.next = h.found();
  h.clock.advance_by(std::chrono::milliseconds{100});
  const auto first = lazy.take(probe(9), MonoNs{});
  ASSERT_TRUE(first.has_value()) << "the reply that found it is asked of it too";
  EXPECT_EQ(first->egress_ns, 9);
  EXPECT_TRUE(lazy.connected_once());
  EXPECT_EQ(lazy.via(), "socket @mtool-correlator");
  const auto batch = lazy.take_many({{probe(10), MonoNs{}}, {probe(11), MonoNs{}}});
  ASSERT_EQ(batch.size(), 2U);
  ASSERT_TRUE(batch[1].has_value());
  EXPECT_EQ(batch[1]->egress_ns, 11);
  EXPECT_EQ(h.asked, 3);
  h.clock.advance_by(std::chrono::seconds{10});
  (void)lazy.take(probe(12), MonoNs{});
  EXPECT_EQ(h.looks, 1) << "found: never looks again";
}

TEST(LazyCorrelator, TheOneFoundAtStartIsUsedAtOnce) {
  Harness h;
  LazyCorrelator lazy(std::make_unique<FakeSource>(h.asked), nullptr, h.clock, h.notify());
  EXPECT_TRUE(lazy.connected_once());
  EXPECT_TRUE(lazy.take(probe(1), MonoNs{}).has_value());
  EXPECT_EQ(h.looks, 0);
}

TEST(LazyCorrelator, ARefusedHolderIsSaidOnceAndNotAskedAgain) {
  Harness h;
  LazyCorrelator lazy(nullptr, h.connect(), h.clock, h.notify());
  h.next.refused =
      "the correlator's name in this network namespace is held by another process (pid 42)";
  h.clock.advance_by(std::chrono::milliseconds{100});
  EXPECT_FALSE(lazy.take(probe(1), MonoNs{}));
  for (int i = 0; i < 5; ++i) {
    h.clock.advance_by(std::chrono::seconds{1});
    EXPECT_FALSE(lazy.take(probe(2), MonoNs{}));
  }
  EXPECT_EQ(h.looks, 1);
  ASSERT_EQ(h.said.size(), 1U);
  EXPECT_EQ(
      h.said[0],
      "corrections unavailable: the correlator's name in this network namespace is held by another "
      "process (pid 42)");
  EXPECT_FALSE(lazy.connected_once());
}

TEST(LazyCorrelator, TheHostItselfStopsLookingSilently) {
  Harness h;
  LazyCorrelator lazy(nullptr, h.connect(), h.clock, h.notify());
  h.next.host_namespace = true;
  h.clock.advance_by(std::chrono::milliseconds{100});
  EXPECT_FALSE(lazy.take(probe(1), MonoNs{}));
  h.clock.advance_by(std::chrono::seconds{1});
  EXPECT_FALSE(lazy.take(probe(2), MonoNs{}));
  EXPECT_EQ(h.looks, 1);
  EXPECT_TRUE(h.said.empty());
  EXPECT_FALSE(lazy.connected_once());
}

TEST(LazyCorrelator, ForRunWrapsWhatThereIsOrNothing) {
  FakeClock clock;
  CorrelatorConnection nothing;  // disabled, the host, or an expected one missing
  EXPECT_EQ(correlator_for_run(nothing, clock, nullptr), nullptr);

  CorrelatorConnection later;
  later.look_again = [] { return ConnectAttempt{}; };
  const auto looking = correlator_for_run(later, clock, nullptr);
  ASSERT_NE(looking, nullptr);
  EXPECT_FALSE(looking->connected_once());

  int asked = 0;
  CorrelatorConnection found;
  found.source = std::make_unique<FakeSource>(asked);
  const auto connected = correlator_for_run(found, clock, nullptr);
  ASSERT_NE(connected, nullptr);
  EXPECT_TRUE(connected->connected_once());
}

}  // namespace
}  // namespace mtool::correlate
