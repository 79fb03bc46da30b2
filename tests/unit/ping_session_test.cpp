// PingSession on simulated time: a fake network (EchoTransport) that answers each probe as a
// per-sequence script says, a fake correlator holding what the script says it measured, a fake
// clock that only moves when the session waits, a recording sink and a fake run control. Every
// expectation below follows iputils ping 20221126's main_loop()/pinger()/schedule_exit()/finish(),
// traced step by step in the comments.
#include "ping/ping_session.h"

#include <gtest/gtest.h>
#include <netinet/ip_icmp.h>

#include <algorithm>
#include <cerrno>
#include <cstdint>
#include <functional>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "fake_clock.h"

namespace mtool::ping {
namespace {

using probe::EchoEvent;
using probe::EchoReplyEvent;
using probe::IcmpErrorEvent;
using probe::LocalErrorEvent;
using probe::SentEcho;

constexpr Nanos ms(std::int64_t v) { return std::chrono::milliseconds{v}; }
constexpr Nanos us(std::int64_t v) { return std::chrono::microseconds{v}; }
constexpr Nanos kSpin = us(1);  // what one turn of a spinning loop (timeout 0) costs

// What happens to one probe.
struct ProbePlan {
  std::optional<Nanos> reply_after;     // after the send
  std::vector<Nanos> duplicates_after;  // further copies of the reply
  std::optional<Nanos> error_after;     // an ICMP error about it
  std::uint8_t error_type = ICMP_DEST_UNREACH;
  std::uint8_t error_code = ICMP_HOST_UNREACH;
  bool bad_checksum = false;
  std::optional<correlate::ProbeOverhead> overhead;  // what a correlator measured
  std::size_t icmp_length = 64;
};

// The correlator as the fake network's probes met it: one record per probe the script gave an
// overhead, taken once; each batch it is asked is noted.
class FakeCorrelator final : public correlate::OverheadSource {
 public:
  static constexpr std::uint16_t kWireIdent = 0x4D54;  // what FakeNetwork says is on the wire

  std::optional<correlate::ProbeOverhead> take(const correlate::ProbeIdentity& probe,
                                               MonoNs) override {
    // Keyed as the correlator keys an echo: family, ICMP, the identifier on the wire, sequence.
    if (probe.family != AF_INET || probe.protocol != IPPROTO_ICMP || probe.flow != kWireIdent) {
      ADD_FAILURE() << "asked for a probe the session never sent: flow " << probe.flow;
      return std::nullopt;
    }
    const auto it = records.find(probe.sequence);
    if (it == records.end()) return std::nullopt;
    correlate::ProbeOverhead o = std::move(it->second);
    records.erase(it);
    return o;
  }
  void take_many(const std::vector<Request>& requests, Answers& answers) override {
    std::vector<std::uint16_t> batch;
    for (const auto& r : requests) batch.push_back(r.probe.sequence);
    batches.push_back(batch);
    OverheadSource::take_many(requests, answers);
  }

  std::map<std::uint16_t, correlate::ProbeOverhead> records;  // by sequence
  std::vector<std::vector<std::uint16_t>> batches;            // the sequences of each ask
};

struct SendRecord {
  std::uint16_t sequence = 0;
  std::uint64_t number = 0;
  Nanos at{};  // since the simulation began
  int result = 0;
};

class FakeNetwork final : public probe::EchoTransport {
 public:
  FakeNetwork(FakeClock& clock, std::vector<std::string>& timeline, FakeCorrelator& correlator)
      : clock_(clock), timeline_(timeline), correlator_(correlator) {}

  std::function<ProbePlan(std::uint16_t)> plan = [](std::uint16_t) { return ProbePlan{}; };
  // errno for successive send attempts (then 0), and events made ready when a send fails.
  std::vector<int> send_results;
  std::vector<EchoEvent> on_send_failure;

  std::vector<Nanos> signal_times;  // since the simulation began, when a signal arrives

  std::vector<SendRecord> sends;
  std::vector<Nanos> wait_timeouts;
  bool stuck = false;

  // An event arriving at a simulated time (since the simulation began).
  void inject_at(Nanos at, EchoEvent event) { schedule(kMonoStart + at, std::move(event)); }

  int send_echo(std::uint16_t sequence, std::uint64_t number) override {
    const int result = attempt_ < send_results.size() ? send_results[attempt_] : 0;
    ++attempt_;
    sends.push_back({sequence, number, clock_.elapsed(), result});
    timeline_.push_back("send " + std::to_string(sequence));
    if (result != 0) {
      for (auto& e : on_send_failure) schedule(clock_.mono_now(), e);
      on_send_failure.clear();
      return result;
    }
    const ProbePlan p = plan(sequence);
    if (p.overhead) correlator_.records[sequence] = *p.overhead;
    const SentEcho sent{sequence, 0, number, clock_.wall_now(), std::nullopt};
    auto reply = [&](Nanos after) {
      EchoReplyEvent r;
      r.sequence = sequence;
      r.from = *net::IpAddress::parse("127.0.0.1");
      r.ttl = 64;
      r.icmp_length = p.icmp_length;
      r.checksum_ok = !p.bad_checksum;
      r.rx_time = FakeClock::wall_at(clock_.mono_now() + after);
      r.sent = sent;
      schedule(clock_.mono_now() + after, r);
    };
    if (p.reply_after) reply(*p.reply_after);
    for (const auto after : p.duplicates_after) reply(after);
    if (p.error_after) {
      schedule(clock_.mono_now() + *p.error_after,
               IcmpErrorEvent{sequence,
                              *net::IpAddress::parse("198.18.200.1"),
                              {},
                              AF_INET,
                              p.error_type,
                              p.error_code,
                              0});
    }
    return 0;
  }

  bool wait(Nanos timeout) override {
    wait_timeouts.push_back(timeout);
    if (wait_timeouts.size() > 2'000'000) {
      stuck = true;  // the run control turns this into an exit
      ADD_FAILURE() << "the session keeps waiting";
      return false;
    }
    const MonoNs now = clock_.mono_now();
    const auto next = queue_.empty() ? std::nullopt : std::optional<MonoNs>(queue_.begin()->first);
    if (next && *next <= now) return true;
    // A zero timeout is a spin: the loop comes back a little later.
    MonoNs wake = timeout < Nanos::zero() ? MonoNs::max() : now + std::max(timeout, kSpin);
    bool input = false;
    if (next && *next <= wake) {
      wake = *next;
      input = true;
    }
    // A signal (SIGINT, SIGQUIT) ends the wait early, with nothing to read (EINTR).
    for (const auto at : signal_times) {
      if (kMonoStart + at > now && kMonoStart + at < wake) {
        wake = kMonoStart + at;
        input = false;
      }
    }
    if (wake == MonoNs::max()) {
      stuck = true;
      ADD_FAILURE() << "the session waits forever with nothing to come";
      return false;
    }
    clock_.advance_to(wake);
    return input;
  }

  std::optional<EchoEvent> next_event() override {
    if (queue_.empty() || queue_.begin()->first > clock_.mono_now()) return std::nullopt;
    EchoEvent e = std::move(queue_.begin()->second);
    queue_.erase(queue_.begin());
    return e;
  }

  [[nodiscard]] int family() const override { return AF_INET; }
  [[nodiscard]] std::uint16_t wire_ident() const override { return FakeCorrelator::kWireIdent; }

  [[nodiscard]] std::vector<Nanos> send_times() const {
    std::vector<Nanos> t;
    for (const auto& s : sends) t.push_back(s.at);
    return t;
  }

 private:
  void schedule(MonoNs at, EchoEvent e) {
    queue_.emplace(at, std::move(e));
  }  // multimap: FIFO per time

  FakeClock& clock_;
  std::vector<std::string>& timeline_;
  FakeCorrelator& correlator_;
  std::multimap<MonoNs, EchoEvent> queue_;
  std::size_t attempt_ = 0;
};

class RecordingSink final : public report::PingSink {
 public:
  RecordingSink(const FakeClock& clock, std::vector<std::string>& timeline)
      : clock_(clock), timeline_(timeline) {}

  void header(const report::PingHeader&) override {}
  void flood_sent() override {
    ++dots;
    timeline_.emplace_back(".");
  }
  void reply(const report::PingReply& r) override {
    replies.push_back(r);
    reply_times.push_back(clock_.elapsed());
    timeline_.push_back("reply " + std::to_string(r.sequence) + (r.duplicate ? " DUP" : ""));
  }
  void icmp_error(const report::PingError& e) override {
    errors.push_back(e);
    timeline_.push_back("error " + std::to_string(e.sequence));
  }
  void notice(const report::PingNotice& n) override { notices.push_back(n); }
  void local_error(const std::string& text) override {
    local_errors.push_back(text);
    timeline_.push_back("local " + text);
  }
  void no_answer_yet(WallNs print_time, std::uint64_t sequence) override {
    no_answers.emplace_back(print_time, sequence);
    timeline_.push_back("no answer " + std::to_string(sequence));
  }
  void status(const report::PingStatus& s) override { statuses.push_back(s); }
  void summary(const report::PingSummary& s) override { summaries.push_back(s); }

  int dots = 0;
  std::vector<report::PingReply> replies;
  std::vector<Nanos> reply_times;
  std::vector<report::PingError> errors;
  std::vector<report::PingNotice> notices;
  std::vector<std::string> local_errors;
  std::vector<std::pair<WallNs, std::uint64_t>> no_answers;
  std::vector<report::PingStatus> statuses;
  std::vector<report::PingSummary> summaries;

 private:
  const FakeClock& clock_;
  std::vector<std::string>& timeline_;
};

// SIGINT / SIGQUIT at chosen simulated times: they also interrupt the network's wait().
class FakeRunControl final : public RunControl {
 public:
  FakeRunControl(const FakeClock& clock, FakeNetwork& network) : clock_(clock), network_(network) {}
  void interrupt_at(Nanos at) {
    interrupt_at_ = at;
    network_.signal_times.push_back(at);
  }
  void status_at(Nanos at) {
    status_at_ = at;
    network_.signal_times.push_back(at);
  }

  [[nodiscard]] bool exit_requested() const override {
    return network_.stuck || (interrupt_at_ && clock_.elapsed() >= *interrupt_at_);
  }
  bool take_status_request() override {
    if (!status_at_ || status_taken_ || clock_.elapsed() < *status_at_) return false;
    status_taken_ = true;
    return true;
  }

 private:
  const FakeClock& clock_;
  FakeNetwork& network_;
  std::optional<Nanos> interrupt_at_;
  std::optional<Nanos> status_at_;
  bool status_taken_ = false;
};

class PingSessionTest : public ::testing::Test {
 protected:
  PingSessionTest() { config.hostname = "127.0.0.1"; }

  int run() {
    PingSession session(config, network, sink, clock, namer, control);
    const int code = session.run();
    EXPECT_FALSE(network.stuck);
    EXPECT_EQ(sink.summaries.size(), 1U);
    return code;
  }
  [[nodiscard]] const report::PingSummary& summary() const { return sink.summaries.at(0); }

  // Every probe answered after `rtt`.
  void answer_all(Nanos rtt) {
    network.plan = [rtt](std::uint16_t) {
      ProbePlan p;
      p.reply_after = rtt;
      return p;
    };
  }
  // Probes answered per sequence; the others lost.
  void answer(std::map<std::uint16_t, Nanos> rtts) {
    network.plan = [rtts](std::uint16_t seq) {
      ProbePlan p;
      if (const auto it = rtts.find(seq); it != rtts.end()) p.reply_after = it->second;
      return p;
    };
  }

  SessionConfig config;
  FakeClock clock;
  std::vector<std::string> timeline;
  FakeCorrelator correlator;
  FakeNetwork network{clock, timeline, correlator};
  RecordingSink sink{clock, timeline};
  FakeRunControl control{clock, network};
  net::AddressNamer namer{true};
};

// ---------------------------------------------------------------------------------------------
// (a) -c 3, every reply arrives.

TEST_F(PingSessionTest, CountAllRepliesMatchesIputils) {
  config.count = 3;
  answer({{1, us(23)}, {2, us(37)}, {3, us(58)}});
  EXPECT_EQ(run(), 0);

  // pinger() returns interval - ntokens with ntokens in whole ms since the last send: a reply
  // 23 us after a send leaves ntokens = 0, so the next send is 1000 ms after the reply; iputils
  // drifts the same way.
  EXPECT_EQ(network.send_times(),
            (std::vector<Nanos>{ms(0), ms(1000) + us(23), ms(2000) + us(60)}));
  EXPECT_EQ(network.sends[0].sequence, 1);
  EXPECT_EQ(network.sends[2].sequence, 3);
  EXPECT_EQ(network.sends[2].number, 3U);

  // The loop ends as soon as the third reply is in (nreceived >= npackets), not at the timer.
  EXPECT_EQ(clock.elapsed(), ms(2000) + us(60) + us(58));

  ASSERT_EQ(sink.replies.size(), 3U);
  EXPECT_EQ(sink.replies[0].sequence, 1);
  EXPECT_EQ(sink.replies[0].rtt_us, 23);
  EXPECT_EQ(sink.replies[0].rtt_ns, us(23).count());
  EXPECT_EQ(sink.replies[0].from, "127.0.0.1");
  EXPECT_EQ(sink.replies[0].ttl, 64);
  EXPECT_EQ(sink.replies[0].bytes, 64U);
  EXPECT_FALSE(sink.replies[0].duplicate);
  EXPECT_FALSE(sink.replies[0].truncated);
  EXPECT_EQ(sink.replies[0].print_time, FakeClock::wall_at(kMonoStart + us(23)));
  EXPECT_EQ(sink.replies[2].rtt_us, 58);

  const auto& s = summary();
  EXPECT_EQ(s.hostname, "127.0.0.1");
  EXPECT_EQ(s.transmitted, 3);
  EXPECT_EQ(s.received, 3);
  EXPECT_EQ(s.duplicates, 0);
  EXPECT_EQ(s.errors, 0);
  EXPECT_EQ(s.elapsed_ms, 2000);  // start to the last send (cur_time), rounded
  ASSERT_TRUE(s.rtt.has_value());
  EXPECT_EQ(s.rtt->min_us, 23);
  EXPECT_EQ(s.rtt->avg_us, 39);
  EXPECT_EQ(s.rtt->max_us, 58);
  EXPECT_EQ(s.rtt->mdev_us, 14);
  EXPECT_EQ(s.pipe, 1);
  EXPECT_FALSE(s.ipg_us.has_value());  // not a flood, not adaptive, interval != 0
  EXPECT_FALSE(s.percentiles.has_value());
}

TEST_F(PingSessionTest, WholeMillisecondRttsDoNotDrift) {
  config.count = 3;
  answer_all(ms(1));
  EXPECT_EQ(run(), 0);
  // ntokens = 1 after the reply, so the next send is 999 ms later: exactly on the second.
  EXPECT_EQ(network.send_times(), (std::vector<Nanos>{ms(0), ms(1000), ms(2000)}));
  EXPECT_EQ(clock.elapsed(), ms(2001));
}

TEST_F(PingSessionTest, LastReplyLostWaitsOneIntervalAfterLastSend) {
  config.count = 3;
  answer({{1, ms(1)}, {2, ms(3)}});
  EXPECT_EQ(run(), 0);  // some replies came
  EXPECT_EQ(network.send_times(), (std::vector<Nanos>{ms(0), ms(1000), ms(2000)}));
  // schedule_exit(): waittime = max(2 * tmax, interval) = max(6 ms, 1000 ms) after the last send.
  EXPECT_EQ(clock.elapsed(), ms(3000));
  EXPECT_EQ(summary().transmitted, 3);
  EXPECT_EQ(summary().received, 2);
  EXPECT_EQ(summary().elapsed_ms, 2000);
}

TEST_F(PingSessionTest, LastReplyLostWaitsTwiceMaxRttWhenLonger) {
  // -c 3 -i 0.2, RTT 300 ms for probes 1 and 2, probe 3 lost.
  //   t=0 send 1; t=200 send 2; t=300 reply 1 (pipe 2); t=400 send 3: all sent, so
  //   schedule_exit: waittime = max(2 * 300 ms, 200 ms) = 600 ms -> exit at t=1000;
  //   t=500 reply 2; nothing else comes; the run ends at t=1000, not at t=600.
  config.count = 3;
  config.interval_ms = 200;
  answer({{1, ms(300)}, {2, ms(300)}});
  EXPECT_EQ(run(), 0);
  EXPECT_EQ(network.send_times(), (std::vector<Nanos>{ms(0), ms(200), ms(400)}));
  EXPECT_EQ(sink.reply_times, (std::vector<Nanos>{ms(300), ms(500)}));
  EXPECT_EQ(clock.elapsed(), ms(1000));
  const auto& s = summary();
  EXPECT_EQ(s.transmitted, 3);
  EXPECT_EQ(s.received, 2);
  EXPECT_EQ(s.pipe, 2);
  EXPECT_EQ(s.elapsed_ms, 400);
  EXPECT_EQ(s.rtt->max_us, 300000);
}

// ---------------------------------------------------------------------------------------------
// (b) No replies: linger.

TEST_F(PingSessionTest, NoRepliesWaitDefaultLingerAfterLastProbe) {
  config.count = 3;
  EXPECT_EQ(run(), 1);
  EXPECT_EQ(network.send_times(), (std::vector<Nanos>{ms(0), ms(1000), ms(2000)}));
  EXPECT_EQ(clock.elapsed(), ms(2000) + ms(10000));  // -W default: 10 s
  const auto& s = summary();
  EXPECT_EQ(s.transmitted, 3);
  EXPECT_EQ(s.received, 0);
  EXPECT_EQ(s.elapsed_ms, 2000);
  EXPECT_FALSE(s.rtt.has_value());
  EXPECT_FALSE(s.ipg_us.has_value());
  EXPECT_TRUE(sink.replies.empty());
}

TEST_F(PingSessionTest, NoRepliesWaitLingerGivenWithW) {
  config.count = 2;
  config.linger_ms = 2500;
  EXPECT_EQ(run(), 1);
  EXPECT_EQ(network.send_times(), (std::vector<Nanos>{ms(0), ms(1000)}));
  EXPECT_EQ(clock.elapsed(), ms(1000) + ms(2500));
}

TEST_F(PingSessionTest, LateReplyWithinLingerEndsTheRun) {
  config.count = 1;
  answer({{1, ms(4000)}});
  EXPECT_EQ(run(), 0);
  EXPECT_EQ(clock.elapsed(), ms(4000));
  EXPECT_EQ(summary().received, 1);
  EXPECT_EQ(sink.replies.at(0).rtt_us, 4'000'000);
}

// ---------------------------------------------------------------------------------------------
// (c) -w deadline.

TEST_F(PingSessionTest, DeadlineWithoutCount) {
  config.deadline_s = 2;
  answer_all(ms(1));
  EXPECT_EQ(run(), 0);
  // Sends at 0 and 1 s; at 2 s the deadline check comes before the next send (iputils 20221126
  // prints "2 packets transmitted" for ping -w 2 on loopback).
  EXPECT_EQ(network.send_times(), (std::vector<Nanos>{ms(0), ms(1000)}));
  EXPECT_EQ(clock.elapsed(), ms(2000));
  EXPECT_EQ(summary().transmitted, 2);
  EXPECT_EQ(summary().received, 2);
  EXPECT_EQ(summary().elapsed_ms, 1000);
}

TEST_F(PingSessionTest, DeadlineWithoutRepliesFails) {
  config.deadline_s = 2;
  EXPECT_EQ(run(), 1);
  EXPECT_EQ(clock.elapsed(), ms(2000));
  EXPECT_EQ(summary().transmitted, 2);
  EXPECT_EQ(summary().received, 0);
}

// ---------------------------------------------------------------------------------------------
// (d) -c with -w: keep sending past the count until enough replies or the deadline.

TEST_F(PingSessionTest, CountWithDeadlineSendsPastCountUntilEnoughReplies) {
  // -c 5 -w 2 -i 0.2, every even probe lost.
  config.count = 5;
  config.deadline_s = 2;
  config.interval_ms = 200;
  answer({{1, ms(1)}, {3, ms(1)}, {5, ms(1)}, {7, ms(1)}, {9, ms(1)}});
  EXPECT_EQ(run(), 0);
  EXPECT_EQ(network.sends.size(), 9U);
  EXPECT_EQ(network.sends.back().at, ms(1600));
  EXPECT_EQ(clock.elapsed(), ms(1601));  // the 5th reply
  EXPECT_EQ(summary().transmitted, 9);
  EXPECT_EQ(summary().received, 5);
}

TEST_F(PingSessionTest, CountWithDeadlineShortOfCountFails) {
  config.count = 5;
  config.deadline_s = 2;
  config.interval_ms = 200;
  answer({{1, ms(1)}, {2, ms(1)}});
  EXPECT_EQ(run(), 1);  // replies came, but fewer than -c before -w
  EXPECT_EQ(clock.elapsed(), ms(2000));
  EXPECT_EQ(network.sends.size(), 10U);  // 0, 200, ..., 1800 ms
  EXPECT_EQ(summary().transmitted, 10);
  EXPECT_EQ(summary().received, 2);
}

// ---------------------------------------------------------------------------------------------
// (e) Duplicates.

TEST_F(PingSessionTest, DuplicatesAreCountedAndFlaggedButNotReceived) {
  config.count = 3;
  network.plan = [](std::uint16_t seq) {
    ProbePlan p;
    if (seq == 1) p.reply_after = us(60);
    if (seq == 2) {
      p.reply_after = us(39);
      p.duplicates_after = {us(45), us(41)};
    }
    if (seq == 3) p.reply_after = us(64);
    return p;
  };
  EXPECT_EQ(run(), 0);
  ASSERT_EQ(sink.replies.size(), 5U);
  EXPECT_EQ(sink.replies[1].sequence, 2);
  EXPECT_FALSE(sink.replies[1].duplicate);
  EXPECT_EQ(sink.replies[2].sequence, 2);
  EXPECT_TRUE(sink.replies[2].duplicate);
  EXPECT_EQ(sink.replies[2].rtt_us, 41);
  EXPECT_TRUE(sink.replies[3].duplicate);
  EXPECT_EQ(sink.replies[3].rtt_us, 45);
  EXPECT_EQ(sink.replies[4].sequence, 3);
  EXPECT_FALSE(sink.replies[4].duplicate);
  const auto& s = summary();
  EXPECT_EQ(s.transmitted, 3);
  EXPECT_EQ(s.received, 3);
  EXPECT_EQ(s.duplicates, 2);
  // Duplicates are RTT samples too: {60, 39, 41, 45, 64} -> 0.039/0.049/0.064/0.010.
  ASSERT_TRUE(s.rtt.has_value());
  EXPECT_EQ(s.rtt->min_us, 39);
  EXPECT_EQ(s.rtt->avg_us, 49);
  EXPECT_EQ(s.rtt->max_us, 64);
  EXPECT_EQ(s.rtt->mdev_us, 10);
}

TEST_F(PingSessionTest, DuplicatesDoNotCompleteTheCount) {
  // Two copies of reply 1 must not count as two replies for -c 2.
  config.count = 2;
  network.plan = [](std::uint16_t seq) {
    ProbePlan p;
    if (seq == 1) {
      p.reply_after = ms(1);
      p.duplicates_after = {ms(2)};
    }
    return p;
  };
  EXPECT_EQ(run(), 0);
  EXPECT_EQ(network.sends.size(), 2U);
  EXPECT_EQ(summary().received, 1);
  EXPECT_EQ(summary().duplicates, 1);
  EXPECT_EQ(clock.elapsed(), ms(2000));  // max(2 * 2 ms, 1 s) after the second send
}

TEST_F(PingSessionTest, MulticastDuplicateCountedEvenWhenNotFlagged) {
  config.count = 2;
  config.multicast = true;
  network.plan = [](std::uint16_t seq) {
    ProbePlan p;
    if (seq == 1) {
      p.reply_after = ms(1);
      p.duplicates_after = {ms(2), ms(3)};  // two more hosts answer the broadcast
    }
    if (seq == 2) p.reply_after = ms(1);
    return p;
  };
  EXPECT_EQ(run(), 0);
  ASSERT_EQ(sink.replies.size(), 4U);
  EXPECT_FALSE(sink.replies[1].duplicate);
  EXPECT_FALSE(sink.replies[2].duplicate);
  EXPECT_EQ(summary().duplicates, 2);
  EXPECT_EQ(summary().received, 2);
}

TEST_F(PingSessionTest, MulticastDuplicateFlaggedWhenVerbose) {
  config.count = 2;
  config.multicast = true;
  config.verbose = true;
  network.plan = [](std::uint16_t seq) {
    ProbePlan p;
    p.reply_after = ms(1);
    if (seq == 1) p.duplicates_after = {ms(2)};
    return p;
  };
  EXPECT_EQ(run(), 0);
  ASSERT_EQ(sink.replies.size(), 3U);
  EXPECT_FALSE(sink.replies[0].duplicate);
  EXPECT_TRUE(sink.replies[1].duplicate);
  EXPECT_EQ(summary().duplicates, 1);
}

// ---------------------------------------------------------------------------------------------
// (f) ICMP errors.

TEST_F(PingSessionTest, IcmpErrorsCountTowardsTheCount) {
  config.count = 3;
  network.plan = [](std::uint16_t) {
    ProbePlan p;
    p.error_after = ms(5);
    return p;
  };
  EXPECT_EQ(run(), 1);
  // nreceived + nerrors >= npackets ends the loop at the third error, not after the linger.
  EXPECT_EQ(network.send_times(), (std::vector<Nanos>{ms(0), ms(1000), ms(2000)}));
  EXPECT_EQ(clock.elapsed(), ms(2005));
  ASSERT_EQ(sink.errors.size(), 3U);
  EXPECT_EQ(sink.errors[0].sequence, 1);
  EXPECT_EQ(sink.errors[0].from, "198.18.200.1");
  EXPECT_EQ(sink.errors[0].text, "Destination Host Unreachable");
  EXPECT_EQ(sink.errors[0].icmp_type, ICMP_DEST_UNREACH);
  EXPECT_EQ(sink.errors[0].icmp_code, ICMP_HOST_UNREACH);
  EXPECT_EQ(sink.errors[2].sequence, 3);
  const auto& s = summary();
  EXPECT_EQ(s.transmitted, 3);
  EXPECT_EQ(s.received, 0);
  EXPECT_EQ(s.errors, 3);
  EXPECT_FALSE(s.rtt.has_value());
}

TEST_F(PingSessionTest, WithDeadlineTheFirstErrorEndsTheRun) {
  config.deadline_s = 10;
  network.plan = [](std::uint16_t seq) {
    ProbePlan p;
    if (seq == 1) p.reply_after = ms(1);
    if (seq == 2) {
      p.error_after = ms(5);
      p.error_type = ICMP_TIME_EXCEEDED;
      p.error_code = ICMP_EXC_TTL;
    }
    if (seq >= 3) p.reply_after = ms(1);
    return p;
  };
  EXPECT_EQ(run(), 0);  // a reply came and there is no -c to fall short of
  EXPECT_EQ(clock.elapsed(), ms(1005));
  EXPECT_EQ(network.sends.size(), 2U);
  ASSERT_EQ(sink.errors.size(), 1U);
  EXPECT_EQ(sink.errors[0].text, "Time to live exceeded");
  EXPECT_EQ(summary().errors, 1);
  EXPECT_EQ(summary().received, 1);
}

TEST_F(PingSessionTest, WithDeadlineAndCountAnErrorLeavesTheCountShort) {
  config.deadline_s = 10;
  config.count = 3;
  network.plan = [](std::uint16_t seq) {
    ProbePlan p;
    if (seq == 1) p.reply_after = ms(1);
    if (seq == 2) p.error_after = ms(5);
    return p;
  };
  EXPECT_EQ(run(), 1);
  EXPECT_EQ(clock.elapsed(), ms(1005));
}

// ---------------------------------------------------------------------------------------------
// (g) -O

TEST_F(PingSessionTest, OutstandingReportsMissingReplyBeforeNextSend) {
  config.count = 4;
  config.outstanding = true;
  answer({{1, ms(1)}, {3, ms(1)}});
  EXPECT_EQ(run(), 0);
  EXPECT_EQ(timeline, (std::vector<std::string>{"send 1", "reply 1", "send 2", "no answer 2",
                                                "send 3", "reply 3", "send 4"}));
  ASSERT_EQ(sink.no_answers.size(), 1U);
  EXPECT_EQ(sink.no_answers[0].first, FakeClock::wall_at(kMonoStart + ms(2000)));
  EXPECT_EQ(sink.no_answers[0].second, 2U);
}

TEST_F(PingSessionTest, WithoutOutstandingNothingIsReported) {
  config.count = 3;
  EXPECT_EQ(run(), 1);
  EXPECT_TRUE(sink.no_answers.empty());
}

// ---------------------------------------------------------------------------------------------
// (h) Replies to nothing we sent.

TEST_F(PingSessionTest, ReplyWithoutSendRecordIsIgnored) {
  config.count = 2;
  answer_all(ms(1));
  EchoReplyEvent stray;
  stray.sequence = 1;  // a copy of an answered probe: would be a DUP if it were believed
  stray.from = *net::IpAddress::parse("127.0.0.1");
  stray.icmp_length = 64;
  network.inject_at(ms(500), stray);
  stray.sequence = 9;  // never sent
  network.inject_at(ms(600), stray);
  EXPECT_EQ(run(), 0);
  ASSERT_EQ(sink.replies.size(), 2U);
  EXPECT_EQ(sink.replies[0].sequence, 1);
  EXPECT_EQ(sink.replies[1].sequence, 2);
  EXPECT_EQ(summary().received, 2);
  EXPECT_EQ(summary().duplicates, 0);
  EXPECT_EQ(summary().rtt->max_us, 1000);
}

// ---------------------------------------------------------------------------------------------
// (i) Flood.

TEST_F(PingSessionTest, FloodSendsNextProbeWhenReplyArrives) {
  config.count = 5;
  config.flood = true;
  config.interval_ms = 0;
  answer_all(us(100));
  EXPECT_EQ(run(), 0);
  EXPECT_EQ(network.send_times(), (std::vector<Nanos>{ms(0), us(100), us(200), us(300), us(400)}));
  EXPECT_EQ(sink.reply_times, (std::vector<Nanos>{us(100), us(200), us(300), us(400), us(500)}));
  EXPECT_EQ(sink.dots, 5);
  EXPECT_EQ(clock.elapsed(), us(500));
  const auto& s = summary();
  EXPECT_EQ(s.transmitted, 5);
  EXPECT_EQ(s.received, 5);
  EXPECT_EQ(s.elapsed_ms, 0);  // 0.4 ms
  ASSERT_TRUE(s.ipg_us.has_value());
  EXPECT_EQ(*s.ipg_us, 100);  // 400 us over 4 gaps
  EXPECT_EQ(s.ewma_us_x8, 8 * 100);
  EXPECT_EQ(s.rtt->avg_us, 100);
}

TEST_F(PingSessionTest, UnansweredFloodIsLimitedToOneProbePer10Ms) {
  config.count = 3;
  config.flood = true;
  config.interval_ms = 0;
  EXPECT_EQ(run(), 1);
  EXPECT_EQ(network.send_times(), (std::vector<Nanos>{ms(0), ms(10), ms(20)}));
  EXPECT_EQ(clock.elapsed(), ms(20) + ms(10000));
  EXPECT_FALSE(summary().ipg_us.has_value());  // no replies
}

TEST_F(PingSessionTest, FloodDotsStopWhenQuiet) {
  config.count = 2;
  config.flood = true;
  config.quiet = true;
  config.interval_ms = 0;
  answer_all(us(50));
  EXPECT_EQ(run(), 0);
  EXPECT_EQ(sink.dots, 0);
}

TEST_F(PingSessionTest, IntervalZeroWithoutFloodStillReportsIpg) {
  config.count = 3;
  config.interval_ms = 0;
  answer_all(us(250));
  EXPECT_EQ(run(), 0);
  EXPECT_EQ(sink.dots, 0);
  ASSERT_TRUE(summary().ipg_us.has_value());
  EXPECT_EQ(*summary().ipg_us, 250);
}

// ---------------------------------------------------------------------------------------------
// Preload, adaptive, signals.

TEST_F(PingSessionTest, PreloadSendsABurstFirst) {
  config.count = 5;
  config.preload = 3;
  answer_all(ms(1));
  EXPECT_EQ(run(), 0);
  // tokens = interval * (preload - 1): three probes at t=0, then one per interval.
  EXPECT_EQ(network.send_times(), (std::vector<Nanos>{ms(0), ms(0), ms(0), ms(1000), ms(2000)}));
  EXPECT_EQ(summary().pipe, 3);  // reply 1 came with 3 probes out
}

TEST_F(PingSessionTest, AdaptiveIntervalFollowsTheRtt) {
  // -A: interval = (ewma + 500 us) / 1000 ms = 5 ms after the first 5 ms reply.
  config.count = 4;
  config.adaptive = true;
  config.non_root = true;
  answer_all(ms(5));
  EXPECT_EQ(run(), 0);
  EXPECT_EQ(network.send_times(), (std::vector<Nanos>{ms(0), ms(5), ms(10), ms(15)}));
  ASSERT_TRUE(summary().ipg_us.has_value());
  EXPECT_EQ(*summary().ipg_us, 5000);
  EXPECT_EQ(summary().ewma_us_x8, 8 * 5000);
}

TEST_F(PingSessionTest, AdaptiveIntervalKeepsUserMinimum) {
  // A 100 us RTT would make the interval 0 ms; a non-root user is held at 2 ms.
  config.count = 3;
  config.adaptive = true;
  config.non_root = true;
  answer_all(us(100));
  EXPECT_EQ(run(), 0);
  EXPECT_EQ(network.send_times(), (std::vector<Nanos>{ms(0), ms(2), ms(4)}));
}

TEST_F(PingSessionTest, InterruptEndsAnEndlessPingWithSummary) {
  answer_all(ms(1));
  control.interrupt_at(ms(2500));
  EXPECT_EQ(run(), 0);
  EXPECT_EQ(clock.elapsed(), ms(2500));
  EXPECT_EQ(summary().transmitted, 3);
  EXPECT_EQ(summary().received, 3);
}

TEST_F(PingSessionTest, InterruptWithoutRepliesExitsOne) {
  control.interrupt_at(ms(1500));
  EXPECT_EQ(run(), 1);
  EXPECT_EQ(summary().transmitted, 2);
}

TEST_F(PingSessionTest, StatusRequestPrintsCountsSoFar) {
  config.count = 3;
  answer({{1, us(23)}, {2, us(37)}, {3, us(58)}});
  control.status_at(ms(1500));
  EXPECT_EQ(run(), 0);
  ASSERT_EQ(sink.statuses.size(), 1U);
  const auto& st = sink.statuses[0];
  EXPECT_EQ(st.transmitted, 2);
  EXPECT_EQ(st.received, 2);
  ASSERT_TRUE(st.rtt.has_value());
  EXPECT_EQ(st.rtt->min_us, 23);
  EXPECT_EQ(st.rtt->avg_us, 30);
  EXPECT_EQ(st.rtt->max_us, 37);
  // ewma: 23*8 = 184, then 184 + 37 - 184/8 = 198.
  EXPECT_EQ(st.ewma_us_x8, 198);
}

// ---------------------------------------------------------------------------------------------
// Reply details.

TEST_F(PingSessionTest, BadChecksumIsCorruptedNotReceived) {
  config.count = 2;
  network.plan = [](std::uint16_t seq) {
    ProbePlan p;
    p.reply_after = seq == 1 ? ms(2) : ms(1);
    p.bad_checksum = seq == 1;
    return p;
  };
  EXPECT_EQ(run(), 0);
  ASSERT_EQ(sink.replies.size(), 2U);
  EXPECT_TRUE(sink.replies[0].bad_checksum);
  EXPECT_EQ(sink.replies[0].rtt_us, 2000);  // still shown
  EXPECT_FALSE(sink.replies[1].bad_checksum);
  const auto& s = summary();
  EXPECT_EQ(s.received, 1);
  EXPECT_EQ(s.corrupted, 1);
  // Not an RTT sample: min = max = probe 2's.
  EXPECT_EQ(s.rtt->min_us, 1000);
  EXPECT_EQ(s.rtt->max_us, 1000);
  // Nothing counted as received when the last probe left, so schedule_exit() chose the
  // linger: the run ends 10 s after the last send (the count is never completed).
  EXPECT_EQ(clock.elapsed(), ms(1000) + ms(10000));
}

TEST_F(PingSessionTest, TruncatedReplyHasNoTime) {
  config.count = 1;
  network.plan = [](std::uint16_t) {
    ProbePlan p;
    p.reply_after = ms(1);
    p.icmp_length = 20;  // shorter than the 8 + 16 bytes that carry a timestamp
    return p;
  };
  EXPECT_EQ(run(), 0);
  ASSERT_EQ(sink.replies.size(), 1U);
  EXPECT_TRUE(sink.replies[0].truncated);
  EXPECT_FALSE(sink.replies[0].rtt_us.has_value());
  EXPECT_EQ(summary().received, 1);
  EXPECT_FALSE(summary().rtt.has_value());
}

TEST_F(PingSessionTest, ShortReplyWithTimestampIsTruncatedButTimed) {
  config.count = 1;
  network.plan = [](std::uint16_t) {
    ProbePlan p;
    p.reply_after = ms(1);
    p.icmp_length = 40;  // has the timestamp, but less than the 8 + 56 sent
    return p;
  };
  EXPECT_EQ(run(), 0);
  EXPECT_TRUE(sink.replies.at(0).truncated);
  EXPECT_EQ(sink.replies.at(0).rtt_us, 1000);
  ASSERT_TRUE(summary().rtt.has_value());
}

TEST_F(PingSessionTest, NoTimingWithSmallPayload) {
  config.count = 1;
  config.timing = false;  // -s below 16
  config.datalen = 8;
  network.plan = [](std::uint16_t) {
    ProbePlan p;
    p.reply_after = ms(1);
    p.icmp_length = 16;
    return p;
  };
  EXPECT_EQ(run(), 0);
  EXPECT_FALSE(sink.replies.at(0).rtt_us.has_value());
  EXPECT_FALSE(sink.replies.at(0).truncated);
  EXPECT_FALSE(summary().rtt.has_value());
}

TEST_F(PingSessionTest, RttRoundsToNearestMicrosecond) {
  config.count = 2;
  answer({{1, Nanos{1'499}}, {2, Nanos{1'500}}});
  EXPECT_EQ(run(), 0);
  EXPECT_EQ(sink.replies.at(0).rtt_us, 1);
  EXPECT_EQ(sink.replies.at(0).rtt_ns, 1'499);
  EXPECT_EQ(sink.replies.at(1).rtt_us, 2);
}

TEST_F(PingSessionTest, KernelTransmitTimestampWhenAsked) {
  config.count = 1;
  config.tx_reference = TxTimestampSource::kKernel;
  EchoReplyEvent r;
  r.sequence = 1;
  r.from = *net::IpAddress::parse("127.0.0.1");
  r.icmp_length = 64;
  r.rx_time = kWallStart + us(100);
  r.rx_from_kernel = true;
  r.sent = SentEcho{1, 0, 1, kWallStart, kWallStart + us(7)};
  network.inject_at(us(100), r);
  EXPECT_EQ(run(), 0);
  const auto& line = sink.replies.at(0);
  EXPECT_STREQ(line.tx_reference, "kernel");
  EXPECT_EQ(line.rtt_ns, us(93).count());
  EXPECT_EQ(line.rtt_us, 93);
  EXPECT_EQ(line.kernel_rtt_ns, us(93).count());
  EXPECT_EQ(line.send_stack_ns, us(7).count());
  EXPECT_TRUE(line.rx_from_kernel);
}

TEST_F(PingSessionTest, WallClockSteppingBackGivesZeroRtt) {
  config.count = 1;
  EchoReplyEvent r;
  r.sequence = 1;
  r.from = *net::IpAddress::parse("127.0.0.1");
  r.icmp_length = 64;
  r.rx_time = kWallStart - ms(5);
  r.sent = SentEcho{1, 0, 1, kWallStart, std::nullopt};
  network.inject_at(ms(1), r);
  EXPECT_EQ(run(), 0);
  EXPECT_EQ(sink.replies.at(0).rtt_us, 0);
}

TEST_F(PingSessionTest, PercentilesWhenAsked) {
  config.count = 3;
  config.percentiles = true;
  answer({{1, us(10)}, {2, us(20)}, {3, us(30)}});
  EXPECT_EQ(run(), 0);
  ASSERT_TRUE(summary().percentiles.has_value());
  const auto& p = *summary().percentiles;
  EXPECT_NEAR(static_cast<double>(p.p50_ns), 20'000.0, 20'000.0 / 128);
  EXPECT_NEAR(static_cast<double>(p.p999_ns), 30'000.0, 30'000.0 / 128);
}

// ---------------------------------------------------------------------------------------------
// Send failures.

TEST_F(PingSessionTest, HardSendErrorIsReportedAndCountedAsSent) {
  config.count = 1;
  network.send_results = {EHOSTUNREACH};
  EXPECT_EQ(run(), 1);
  EXPECT_EQ(sink.local_errors, (std::vector<std::string>{"sendmsg: No route to host"}));
  EXPECT_EQ(summary().transmitted, 1);
  EXPECT_EQ(summary().errors, 0);
  EXPECT_EQ(clock.elapsed(), ms(10000));  // linger after the (pretend) last probe
}

TEST_F(PingSessionTest, SendErrorExplainedByTheErrorQueue) {
  config.count = 1;
  network.send_results = {EMSGSIZE};
  network.on_send_failure = {LocalErrorEvent{EMSGSIZE, 1400}};
  EXPECT_EQ(run(), 1);
  EXPECT_EQ(sink.local_errors,
            (std::vector<std::string>{"local error: message too long, mtu=1400"}));
  EXPECT_EQ(summary().errors, 1);
  EXPECT_EQ(summary().transmitted, 1);
  // nreceived + nerrors reached the count while sending; like iputils (whose recvmsg() wakes
  // after SO_RCVTIMEO = interval) the loop notices after one interval, not after the linger.
  EXPECT_EQ(clock.elapsed(), ms(1000));
}

TEST_F(PingSessionTest, NoBufferSpaceRetriesTheSameProbeLater) {
  config.count = 1;
  network.send_results = {ENOBUFS};
  answer_all(ms(1));
  EXPECT_EQ(run(), 0);
  ASSERT_EQ(network.sends.size(), 2U);
  EXPECT_EQ(network.sends[0].sequence, 1);
  EXPECT_EQ(network.sends[1].sequence, 1);
  // pinger() asks to be called again after min(SCHINT(interval / 2), 500 ms), but the token
  // bucket (not refilled by a failed send) still holds the retry to the interval.
  EXPECT_EQ(network.sends[1].at, ms(1000));
  EXPECT_TRUE(sink.local_errors.empty());
  EXPECT_EQ(summary().transmitted, 1);
}

TEST_F(PingSessionTest, FullSocketBufferRetriesAfter10Ms) {
  config.count = 1;
  network.send_results = {EAGAIN};
  answer_all(ms(1));
  EXPECT_EQ(run(), 0);
  ASSERT_EQ(network.sends.size(), 2U);
  // EAGAIN hands back a token and asks for 10 ms; with nothing in flight main_loop() spins
  // instead of sleeping, so the probe goes out again at once.
  EXPECT_GT(network.sends[1].at, Nanos::zero());
  EXPECT_LT(network.sends[1].at, ms(1));
  EXPECT_EQ(network.sends[1].sequence, 1);
  EXPECT_EQ(summary().transmitted, 1);
}

// ---------------------------------------------------------------------------------------------
// Sequence numbers wrap at 16 bits.

TEST_F(PingSessionTest, SequenceWrapIsNotADuplicate) {
  // Probe 65537 carries sequence 1 again; the received-table bit of the first probe 1 is
  // cleared when it is sent (iputils' rcvd_clear), so its reply is not a duplicate.
  config.count = 65537;
  config.flood = true;
  config.interval_ms = 0;
  answer_all(us(10));
  EXPECT_EQ(run(), 0);
  ASSERT_EQ(network.sends.size(), 65537U);
  EXPECT_EQ(network.sends[65535].sequence, 0);  // probe 65536
  EXPECT_EQ(network.sends[65536].sequence, 1);  // probe 65537
  EXPECT_EQ(network.sends[65536].number, 65537U);
  EXPECT_FALSE(sink.replies.back().duplicate);
  EXPECT_EQ(summary().received, 65537);
  EXPECT_EQ(summary().duplicates, 0);
}

// ---------------------------------------------------------------------------------------------
// in_flight() once 32768 probes went unanswered: iputils falls back to
// ntransmitted - nreceived - nerrors.

TEST_F(PingSessionTest, InFlightFallbackSubtractsErrors) {
  // Flood: probe 1 draws an ICMP error (acked = 1), then nothing answers, so probes go out one
  // per 10 ms. Sending probe 32769 puts acked 32768 behind: iputils invalidates it and counts
  // in-flight probes as ntransmitted - nreceived - nerrors. Then 32768 replies arrive whose
  // sequences cannot acknowledge anything; now 32769 - 32768 - 1 = 0 probes are in flight,
  // so the flood sends the next probe at once instead of waiting out its 10 ms.
  config.flood = true;
  config.interval_ms = 0;
  config.quiet = true;
  network.plan = [](std::uint16_t seq) {
    ProbePlan p;
    if (seq == 1) p.error_after = ms(1);
    return p;
  };
  const Nanos last_lonely_send = ms(1) + ms(10) * (32769 - 2);
  const Nanos burst_at = last_lonely_send + ms(1);
  for (std::uint32_t i = 0; i < 32768; ++i) {
    EchoReplyEvent r;
    r.sequence = static_cast<std::uint16_t>(32770 + i);
    r.from = *net::IpAddress::parse("127.0.0.1");
    r.icmp_length = 64;
    r.rx_time = FakeClock::wall_at(kMonoStart + burst_at);
    r.sent =
        SentEcho{r.sequence, 0, 1, FakeClock::wall_at(kMonoStart + burst_at - ms(1)), std::nullopt};
    network.inject_at(burst_at, r);
  }
  control.interrupt_at(burst_at + ms(5));
  run();
  ASSERT_GE(network.sends.size(), 32770U);
  EXPECT_EQ(network.sends[32768].at, last_lonely_send);  // probe 32769
  EXPECT_EQ(network.sends[32769].at, burst_at);          // probe 32770, right after the burst
  EXPECT_EQ(summary().received, 32768);
  EXPECT_EQ(summary().errors, 1);
}

// ---------------------------------------------------------------------------------------------
// Corrections from a correlator.

correlate::ProbeOverhead overhead_of(Nanos egress, Nanos ingress) {
  correlate::ProbeOverhead o;
  o.egress_ns = egress.count();
  o.ingress_ns = ingress.count();
  return o;
}

TEST_F(PingSessionTest, CorrectedRepliesAndSummary) {
  config.count = 3;
  config.overheads = &correlator;
  network.plan = [](std::uint16_t seq) {
    ProbePlan p;
    p.reply_after = us(100);
    if (seq != 2) p.overhead = overhead_of(us(40), us(10));  // the second is not corrected
    return p;
  };
  EXPECT_EQ(run(), 0);
  ASSERT_EQ(sink.replies.size(), 3U);
  ASSERT_TRUE(sink.replies[0].correction.has_value());
  EXPECT_EQ(sink.replies[0].correction->corrected_us, 50);
  EXPECT_EQ(sink.replies[0].correction->overhead_ns, us(50).count());
  EXPECT_FALSE(sink.replies[1].correction.has_value());
  ASSERT_EQ(sink.summaries.size(), 1U);
  const auto& c = sink.summaries[0].correction;
  ASSERT_TRUE(c.has_value());
  EXPECT_EQ(c->corrected, 2);
  EXPECT_EQ(c->timed, 3);
  ASSERT_TRUE(c->rtt.has_value());
  EXPECT_EQ(c->rtt->min_us, 50);
  EXPECT_EQ(c->rtt->max_us, 50);
  // Medians come from the log-linear histogram: within 0.8% of the value.
  EXPECT_NEAR(static_cast<double>(c->egress_p50_ns), 40'000, 40'000 * 0.008);
  EXPECT_NEAR(static_cast<double>(c->ingress_p50_ns), 10'000, 10'000 * 0.008);
  // iputils' own line is untouched by corrections.
  EXPECT_EQ(sink.summaries[0].rtt->avg_us, 100);
}

// Alone in its wake-up, the first reply is a batch of one: corrected as it prints, not later.
TEST_F(PingSessionTest, FirstReplyCorrectedAsItPrints) {
  config.count = 1;
  config.overheads = &correlator;
  network.plan = [](std::uint16_t) {
    ProbePlan p;
    p.reply_after = us(100);
    p.overhead = overhead_of(us(40), us(10));
    return p;
  };
  EXPECT_EQ(run(), 0);
  ASSERT_EQ(sink.replies.size(), 1U);
  ASSERT_TRUE(sink.replies[0].correction.has_value());
  EXPECT_EQ(sink.replies[0].correction->corrected_us, 50);
  EXPECT_EQ(sink.reply_times, (std::vector<Nanos>{us(100)}));
  EXPECT_EQ(correlator.batches, (std::vector<std::vector<std::uint16_t>>{{1}}));
}

// What one wake-up reads is asked for in one batch (one wake-up of the daemon, as traceroute
// and mtool run ask), and its lines print in the order read, an ICMP error's among them.
TEST_F(PingSessionTest, OneWakeUpOneBatchLinesInOrder) {
  config.count = 3;
  config.preload = 3;
  config.overheads = &correlator;
  network.plan = [](std::uint16_t seq) {
    ProbePlan p;
    if (seq == 2) {
      p.error_after = us(100);
    } else {
      p.reply_after = us(100);
      p.overhead = overhead_of(us(40), us(10));
    }
    return p;
  };
  EXPECT_EQ(run(), 0);  // -c 3 ends on 2 replies + 1 error
  EXPECT_EQ(timeline, (std::vector<std::string>{"send 1", "send 2", "send 3", "reply 1", "error 2",
                                                "reply 3"}));
  EXPECT_EQ(correlator.batches, (std::vector<std::vector<std::uint16_t>>{{1, 3}}));
  ASSERT_EQ(sink.replies.size(), 2U);
  EXPECT_TRUE(sink.replies[0].correction.has_value());
  EXPECT_TRUE(sink.replies[1].correction.has_value());
  EXPECT_EQ(sink.reply_times, (std::vector<Nanos>{us(100), us(100)}));
}

// A duplicate is asked for too, and finds nothing: the correlator keeps one record per probe,
// which the first reply took.
TEST_F(PingSessionTest, DuplicateIsNotCorrectedTwice) {
  config.count = 2;
  config.overheads = &correlator;
  network.plan = [](std::uint16_t seq) {
    ProbePlan p;
    p.reply_after = us(100);
    if (seq == 1) p.duplicates_after = {us(150)};
    p.overhead = overhead_of(us(40), us(10));
    return p;
  };
  EXPECT_EQ(run(), 0);
  ASSERT_EQ(sink.replies.size(), 3U);
  EXPECT_TRUE(sink.replies[0].correction.has_value());
  EXPECT_TRUE(sink.replies[1].duplicate);
  EXPECT_FALSE(sink.replies[1].correction.has_value());
  EXPECT_TRUE(sink.replies[2].correction.has_value());
  EXPECT_EQ(correlator.batches, (std::vector<std::vector<std::uint16_t>>{{1}, {1}, {2}}));
  ASSERT_TRUE(summary().correction.has_value());
  EXPECT_EQ(summary().correction->corrected, 2);
}

TEST_F(PingSessionTest, NoCorrelatorNoCorrectionSummary) {
  config.count = 1;
  answer({{1, us(100)}});
  EXPECT_EQ(run(), 0);
  ASSERT_EQ(sink.summaries.size(), 1U);
  EXPECT_FALSE(sink.summaries[0].correction.has_value());
}

// A correlator looked for during the run (correlate::LazyCorrelator) but never found: nothing
// is corrected and the summary is iputils' alone.
TEST_F(PingSessionTest, CorrelatorLookedForNeverFoundNoCorrectionSummary) {
  config.count = 3;
  config.overheads = &correlator;
  config.correlator_connected = [] { return false; };
  answer({{1, us(100)}, {2, us(100)}, {3, us(100)}});
  EXPECT_EQ(run(), 0);
  ASSERT_EQ(sink.summaries.size(), 1U);
  EXPECT_FALSE(sink.summaries[0].correction.has_value());
}

// Found after the first replies: those from then on are corrected, and the summary counts the
// whole run (2 of 3).
TEST_F(PingSessionTest, CorrelatorFoundLateSummarisesTheWholeRun) {
  config.count = 3;
  config.overheads = &correlator;
  bool found = false;
  config.correlator_connected = [&found] { return found; };
  network.plan = [&found](std::uint16_t seq) {
    ProbePlan p;
    p.reply_after = us(100);
    if (seq >= 2) {
      found = true;
      p.overhead = overhead_of(us(40), us(10));
    }
    return p;
  };
  EXPECT_EQ(run(), 0);
  ASSERT_EQ(sink.replies.size(), 3U);
  EXPECT_FALSE(sink.replies[0].correction.has_value());
  EXPECT_TRUE(sink.replies[2].correction.has_value());
  ASSERT_EQ(sink.summaries.size(), 1U);
  const auto& c = sink.summaries[0].correction;
  ASSERT_TRUE(c.has_value());
  EXPECT_EQ(c->corrected, 2);
  EXPECT_EQ(c->timed, 3);
}

}  // namespace
}  // namespace mtool::ping
