#include "campaign/campaign_runner.h"

#include <netinet/in.h>
#include <sys/capability.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <deque>
#include <optional>
#include <queue>

#include "campaign/correction_batch.h"
#include "campaign/echo_channel.h"
#include "campaign/echo_socket.h"
#include "campaign/ping_run.h"
#include "campaign/poll_set.h"
#include "campaign/probe_pacer.h"
#include "campaign/result_output.h"
#include "campaign/run_header.h"
#include "campaign/run_planner.h"
#include "campaign/slot_map.h"
#include "campaign/trace_run.h"
#include "net/capabilities.h"
#include "probe/echo_transport.h"
#include "report/icmp_text.h"
#include "util/error.h"

namespace mtool::campaign {
namespace {

constexpr Nanos kProgressEvery = std::chrono::milliseconds{250};

// A trace method's runtime error as one line (Butskoy's start with a newline).
std::string error_text(const FatalError& e) {
  std::string text = e.what();
  text.erase(0, text.find_first_not_of('\n'));
  return text;
}

// Whether a run of `d` may open a raw socket after the start: a TCP traceroute always does, an
// ICMP traceroute tries one first (its datagram fallback needs net.ipv4.ping_group_range).
bool may_open_raw_socket(const MeasurementDefinition& d) {
  return d.type == MeasurementType::kTraceroute && d.traceroute.protocol != TraceProtocol::kUdp;
}

// Keeps CAP_NET_RAW permitted but not effective (raised around socket() by the trace methods)
// when `keep_raw` and it is permitted now; drops every other capability.
void keep_only_raw(bool keep_raw) {
  if (!keep_raw || !net::Capabilities::permitted(CAP_NET_RAW)) {
    net::Capabilities::drop_all();
    return;
  }
  std::unique_ptr<_cap_struct, int (*)(void*)> caps(cap_init(), cap_free);
  const cap_value_t raw = CAP_NET_RAW;
  if (!caps || cap_set_flag(caps.get(), CAP_PERMITTED, 1, &raw, CAP_SET) != 0 ||
      cap_set_proc(caps.get()) != 0) {
    throw FatalError(with_errno("cap_set_proc", errno), 2);
  }
}

}  // namespace

// The event loop: what is due is started or stepped, then it waits for the next timer, the
// pacer or input. Each part it dispatches to lives in its own file: the plan of runs
// (run_planner), the runs in progress (slot_map), the pings' shared sockets (echo_channel),
// the correlator's batches (correction_batch), the wait (poll_set), the results
// (result_output, built next to each run in ping_run and trace_run).
class CampaignRunner::Loop {
 public:
  Loop(std::vector<MeasurementDefinition> definitions, RunnerOptions options, ResultWriter write,
       const Clock& clock)
      : definitions_(std::move(definitions)),
        options_(std::move(options)),
        header_defaults_{options_.prb_id, options_.from, options_.first_msm_id},
        output_(std::move(write), options_.observer),
        clock_(clock),
        pacer_(options_.probes_per_second, options_.burst),
        planner_(definitions_, clock,
                 static_cast<std::uint32_t>(getpid()) ^
                     static_cast<std::uint32_t>(raw_ns(clock.wall_now()))),
        ping_ident_(static_cast<std::uint16_t>(getpid() & 0xFFFF)) {}

  ProgressObserver observer;
  RunnerTotals run();

 private:
  // A run in progress: what it measures, its result's header, and its state, a PingRun (on
  // the family's shared echo channel) or a TraceRun (on sockets of its own).
  struct Run {
    std::size_t definition = 0;
    MonoNs wake{};                   // when its latest timer falls due
    bool waiting_for_token = false;  // a send held back by the pacer, in token_waiters_
    report::AtlasHeader header;
    net::IpAddress destination;
    std::optional<PingRun> ping;
    std::unique_ptr<TraceRun> trace;
    std::vector<std::uint16_t> sequences;  // owned in the family's echo channel
  };

  // A run asked to be stepped at `at`; stale once the run is gone or its wake has moved.
  struct Timer {
    MonoNs at{};
    SlotHandle run;
    bool operator>(const Timer& other) const { return at > other.at; }
  };

  // One address family's shared echo channel, opened when a ping first needs it.
  struct FamilyEcho {
    std::optional<EchoChannel> channel;
    std::string unavailable;  // why its socket could not be opened
  };

  // Who reads a descriptor with input: an echo channel, or a traceroute.
  struct Reader {
    EchoChannel* echo = nullptr;
    SlotHandle trace;
  };

  const MeasurementDefinition& definition_of(const Run& run) const {
    return definitions_[run.definition];
  }
  FamilyEcho& echo(int family) { return family == AF_INET6 ? echo6_ : echo4_; }
  // A traceroute waits while as many as --trace-concurrency run.
  [[nodiscard]] bool waits_for_trace_slot(const RunPlanner::Planned& planned) const {
    return definitions_[planned.definition].type == MeasurementType::kTraceroute &&
           traces_active_ >= options_.trace_concurrency;
  }

  void open_shared_sockets_and_drop_capabilities();
  EchoChannel* open_channel(int family);
  // Starting and ending runs.
  void admit(MonoNs now);
  void start(const RunPlanner::Planned& planned, MonoNs now);
  std::uint16_t next_trace_ident();
  void complete(SlotHandle handle, const std::string& error = {});
  // The result of run `ordinal` of `d` that could not start.
  void write_error_result(const MeasurementDefinition& d, report::AtlasHeader header,
                          const std::string& error, std::uint64_t ordinal);
  // Stepping runs: when their timer falls due, a pacer token comes, or input arrives.
  void step(SlotHandle handle, Run& run, MonoNs now);
  void step_ping(SlotHandle handle, Run& run, MonoNs now);
  void step_trace(SlotHandle handle, Run& run);
  void send_echo(SlotHandle handle, Run& run, unsigned packet, MonoNs now);
  void set_wake(SlotHandle handle, Run& run, MonoNs at);
  void fire_timers(MonoNs now);
  void serve_token_waiters(MonoNs now);
  // Input.
  void read_echo(EchoChannel& channel);
  void handle(EchoChannel& channel, const probe::EchoEvent& event);
  Run* ping_owning(const EchoChannel& channel, std::uint16_t sequence,
                   SequenceOwners::Owner& owner);
  void settle_replies();
  void read_trace(SlotHandle handle);
  // Waiting.
  MonoNs next_wake(MonoNs now) const;
  void wait(MonoNs until);
  void report_progress(MonoNs now, bool force);

  std::vector<MeasurementDefinition> definitions_;
  RunnerOptions options_;
  HeaderDefaults header_defaults_;
  ResultOutput output_;
  const Clock& clock_;
  ProbePacer pacer_;
  RunPlanner planner_;
  std::uint16_t ping_ident_;
  std::uint16_t trace_ident_counter_ = 0;

  SlotMap<Run> runs_;
  std::size_t traces_active_ = 0;
  std::priority_queue<Timer, std::vector<Timer>, std::greater<>> timers_;
  std::deque<SlotHandle> token_waiters_;
  // Ping replies read in this wake-up: their corrections, asked for together, and the runs
  // they answered (each checked for completion once its corrections are in).
  CorrectionBatch corrections_;
  std::vector<SlotHandle> answered_;
  FamilyEcho echo4_;
  FamilyEcho echo6_;
  PollSet<Reader> poll_;
  std::vector<int> trace_fds_;

  RunnerTotals totals_;
  MonoNs started_{};
  MonoNs last_progress_{};
};

// ---- shared sockets ---------------------------------------------------------------------------

// Everything that needs a privilege at the start is done here, then the privileges go.
void CampaignRunner::Loop::open_shared_sockets_and_drop_capabilities() {
  bool raw_later = false;
  for (const MeasurementDefinition& d : definitions_) {
    if (d.type == MeasurementType::kPing) open_channel(d.af == 6 ? AF_INET6 : AF_INET);
    raw_later = raw_later || may_open_raw_socket(d);
  }
  keep_only_raw(raw_later);
}

EchoChannel* CampaignRunner::Loop::open_channel(int family) {
  FamilyEcho& f = echo(family);
  if (f.channel) return &*f.channel;
  if (!f.unavailable.empty()) return nullptr;  // tried once: the reason stands
  auto socket = EchoSocket::open(family, ping_ident_, clock_, f.unavailable);
  if (!socket) return nullptr;
  f.channel.emplace(std::move(socket));
  return &*f.channel;
}

// ---- starting and ending runs -------------------------------------------------------------------

void CampaignRunner::Loop::admit(MonoNs now) {
  while (!planner_.empty() && planner_.next().at <= now && runs_.size() < options_.concurrency &&
         token_waiters_.empty() && pacer_.available(now)) {
    // In list order: a traceroute waits for a trace slot, and so does what follows it.
    if (waits_for_trace_slot(planner_.next())) break;
    start(planner_.take_next(), now);
  }
}

void CampaignRunner::Loop::start(const RunPlanner::Planned& planned, MonoNs now) {
  const MeasurementDefinition& d = definitions_[planned.definition];
  auto run = std::make_unique<Run>();
  run->definition = planned.definition;
  run->header = atlas_header(d, header_defaults_, clock_.wall_now());
  if (auto problem = resolve_target(d, run->destination)) {
    write_error_result(d, std::move(run->header), *problem, planned.ordinal);
    return;
  }
  set_addresses(run->header, run->destination);

  if (d.type == MeasurementType::kPing) {
    const int family = run->destination.family();
    if (open_channel(family) == nullptr) {
      write_error_result(d, std::move(run->header), echo(family).unavailable, planned.ordinal);
      return;
    }
    run->ping.emplace(d.ping, now);
  } else {
    TraceRunSetup setup;
    setup.destination = run->destination;
    setup.icmp_ident = next_trace_ident();
    setup.overheads = options_.overheads;
    setup.breakdown = options_.breakdown;
    setup.gate = &pacer_;
    setup.ordinal = planned.ordinal;
    try {
      run->trace = std::make_unique<TraceRun>(d.traceroute, setup, clock_);
    } catch (const FatalError& e) {
      write_error_result(d, std::move(run->header), error_text(e), planned.ordinal);
      return;
    }
    ++traces_active_;
  }
  Run* started = run.get();
  step(runs_.insert(std::move(run)), *started, now);
}

// Raw ICMP traces each get their own identifier, never the pings'.
std::uint16_t CampaignRunner::Loop::next_trace_ident() {
  std::uint16_t ident = 0;
  do {
    ident = static_cast<std::uint16_t>(ping_ident_ + 1 + trace_ident_counter_++);
  } while (ident == 0 || ident == ping_ident_);
  return ident;
}

// The run's result out, and everything it held freed: its slot, its sequence numbers.
void CampaignRunner::Loop::complete(SlotHandle handle, const std::string& error) {
  const std::unique_ptr<Run> run = runs_.take(handle);
  if (run->ping) {
    echo(run->destination.family()).channel->release(run->sequences);
    output_.write(definition_of(*run), run->ping->result(std::move(run->header)));
  } else {
    output_.write(definition_of(*run), run->trace->result(std::move(run->header),
                                                          unix_seconds(clock_.wall_now()), error));
    --traces_active_;
  }
}

void CampaignRunner::Loop::write_error_result(const MeasurementDefinition& d,
                                              report::AtlasHeader header, const std::string& error,
                                              std::uint64_t ordinal) {
  if (d.type == MeasurementType::kPing) {
    output_.write(d, ping_result(d.ping, std::move(header), error));
  } else {
    output_.write(
        d, traceroute_result(d.traceroute, std::move(header), unix_seconds(clock_.wall_now()), {},
                             error, atlas_paris_id(d.traceroute.paris, ordinal)));
  }
}

// ---- stepping runs --------------------------------------------------------------------------

void CampaignRunner::Loop::step(SlotHandle handle, Run& run, MonoNs now) {
  if (run.ping) {
    step_ping(handle, run, now);
  } else {
    step_trace(handle, run);
  }
}

void CampaignRunner::Loop::step_ping(SlotHandle handle, Run& run, MonoNs now) {
  while (const auto packet = run.ping->due_packet(now)) {
    if (pacer_.defer_until(now)) {
      if (!run.waiting_for_token) {
        run.waiting_for_token = true;
        token_waiters_.push_back(handle);
      }
      return;
    }
    send_echo(handle, run, *packet, now);
  }
  if (run.ping->finished(now)) {
    complete(handle);
  } else {
    set_wake(handle, run, run.ping->next_wake());
  }
}

void CampaignRunner::Loop::send_echo(SlotHandle handle, Run& run, unsigned packet, MonoNs now) {
  EchoChannel& channel = *echo(run.destination.family()).channel;
  const auto sent = channel.send(run.destination, definition_of(run).ping.size,
                                 SequenceOwners::Owner{handle, static_cast<std::uint8_t>(packet)});
  ++totals_.probes_sent;
  if (sent.error != 0) {
    run.ping->send_failed(packet, now, std::string("sendto failed: ") + std::strerror(sent.error));
    return;
  }
  run.sequences.push_back(sent.sequence);
  run.ping->sent(packet, now);
}

void CampaignRunner::Loop::step_trace(SlotHandle handle, Run& run) {
  std::optional<MonoNs> next;
  const std::uint64_t granted_before = pacer_.granted();
  try {
    next = run.trace->advance();
  } catch (const FatalError& e) {
    totals_.probes_sent += pacer_.granted() - granted_before;
    complete(handle, error_text(e));
    return;
  }
  totals_.probes_sent += pacer_.granted() - granted_before;
  if (!next) {
    complete(handle);
  } else {
    set_wake(handle, run, *next);
  }
}

void CampaignRunner::Loop::set_wake(SlotHandle handle, Run& run, MonoNs at) {
  run.wake = at;
  timers_.push(Timer{at, handle});
}

void CampaignRunner::Loop::fire_timers(MonoNs now) {
  while (!timers_.empty() && timers_.top().at <= now) {
    const Timer t = timers_.top();
    timers_.pop();
    Run* run = runs_.get(t.run);
    // Stale: the run completed, or its wake moved since this entry was pushed.
    if (run == nullptr || run->wake != t.at || run->waiting_for_token) continue;
    step(t.run, *run, now);
  }
}

void CampaignRunner::Loop::serve_token_waiters(MonoNs now) {
  while (!token_waiters_.empty() && pacer_.available(now)) {
    const SlotHandle handle = token_waiters_.front();
    token_waiters_.pop_front();
    Run* run = runs_.get(handle);
    if (run == nullptr) continue;
    run->waiting_for_token = false;
    step(handle, *run, now);
  }
}

// ---- input ------------------------------------------------------------------------------------

// Everything the socket holds now, then one batch of correlator queries for it, then the runs
// those replies completed.
void CampaignRunner::Loop::read_echo(EchoChannel& channel) {
  while (auto event = channel.next_event()) handle(channel, *event);
  settle_replies();
}

CampaignRunner::Loop::Run* CampaignRunner::Loop::ping_owning(const EchoChannel& channel,
                                                             std::uint16_t sequence,
                                                             SequenceOwners::Owner& owner) {
  const SequenceOwners::Owner* o = channel.owner(sequence);
  if (o == nullptr) return nullptr;
  Run* run = runs_.get(o->run);
  if (run == nullptr || !run->ping) return nullptr;
  owner = *o;
  return run;
}

void CampaignRunner::Loop::handle(EchoChannel& channel, const probe::EchoEvent& event) {
  SequenceOwners::Owner owner;
  if (const auto* reply = std::get_if<probe::EchoReplyEvent>(&event)) {
    Run* run = ping_owning(channel, reply->sequence, owner);
    // A reply must come from where its request went, intact, for a request we still hold.
    if (run == nullptr || !reply->from.same_host(run->destination) || !reply->checksum_ok ||
        !reply->sent) {
      ++totals_.ignored_packets;
      return;
    }
    const Nanos rtt = reply->rx_time - reply->sent->user_tx;
    if (options_.overheads != nullptr && run->ping->awaiting(owner.packet)) {
      // The correlator keeps one record per probe: only the first reply can be corrected.
      const auto probe =
          correlate::echo_probe(run->destination.family(), channel.wire_ident(), reply->sequence);
      corrections_.add({owner.run, owner.packet, rtt.count()}, {probe, reply->sent->user_tx_mono});
    }
    run->ping->replied(owner.packet, static_cast<double>(rtt.count()) / 1e6, reply->ttl);
  } else if (const auto* error = std::get_if<probe::IcmpErrorEvent>(&event)) {
    Run* run = ping_owning(channel, error->sequence, owner);
    if (run == nullptr || !error->original_destination.same_host(run->destination)) {
      ++totals_.ignored_packets;
      return;
    }
    run->ping->refused(owner.packet,
                       report::describe_icmp(error->family, error->type, error->code, error->info) +
                           " from " + error->offender.to_string());
  } else {
    return;  // notices and local errors name no probe of a run
  }
  answered_.push_back(owner.run);
}

void CampaignRunner::Loop::settle_replies() {
  if (!corrections_.empty()) {
    corrections_.settle(
        *options_.overheads, options_.breakdown,
        [this](SlotHandle handle, unsigned packet, report::AtlasCorrection correction) {
          if (Run* run = runs_.get(handle)) run->ping->correct(packet, std::move(correction));
        });
  }
  const MonoNs now = clock_.mono_now();
  for (const SlotHandle handle : answered_) {
    const Run* run = runs_.get(handle);
    if (run != nullptr && !run->waiting_for_token && run->ping->finished(now)) complete(handle);
  }
  answered_.clear();
}

void CampaignRunner::Loop::read_trace(SlotHandle handle) {
  Run* run = runs_.get(handle);
  if (run == nullptr) return;
  try {
    run->trace->read_input();
  } catch (const FatalError& e) {  // a local error the trace cannot go on after
    complete(handle, error_text(e));
    return;
  }
  step_trace(handle, *run);
}

// ---- waiting -----------------------------------------------------------------------------------

MonoNs CampaignRunner::Loop::next_wake(MonoNs now) const {
  MonoNs next = now + kProgressEvery;
  if (!timers_.empty()) next = std::min(next, timers_.top().at);
  // Admission can go on only with room for the next planned run: a traceroute waiting for a
  // trace slot wakes nobody (a finishing trace does), or the loop would spin until then.
  const bool may_admit = !planner_.empty() && runs_.size() < options_.concurrency &&
                         !waits_for_trace_slot(planner_.next());
  if (may_admit) next = std::min(next, std::max(now, planner_.next().at));
  if (!token_waiters_.empty() || may_admit) {
    next = std::min(next, std::max(now, pacer_.next_available()));
  }
  return next;
}

void CampaignRunner::Loop::wait(MonoNs until) {
  poll_.clear();
  for (FamilyEcho* f : {&echo4_, &echo6_}) {
    if (f->channel) poll_.add(f->channel->fd(), Reader{&*f->channel, {}});
  }
  runs_.for_each([this](SlotHandle handle, const Run& run) {
    if (!run.trace) return;
    trace_fds_.clear();
    run.trace->descriptors(trace_fds_);
    for (const int fd : trace_fds_) poll_.add(fd, Reader{nullptr, handle});
  });
  if (!poll_.wait(until - clock_.mono_now(), options_.wait_sigmask)) return;
  SlotHandle last_trace;
  poll_.for_each_ready([&](const Reader& reader) {
    if (reader.echo != nullptr) {
      read_echo(*reader.echo);
      return;
    }
    if (reader.trace == last_trace) return;  // one read per trace per wake-up
    last_trace = reader.trace;
    read_trace(reader.trace);
  });
}

void CampaignRunner::Loop::report_progress(MonoNs now, bool force) {
  if (!observer || (!force && now - last_progress_ < kProgressEvery)) return;
  last_progress_ = now;
  observer(RunnerProgress{output_.results(), planner_.total(), runs_.size(), totals_.probes_sent,
                          now - started_});
}

RunnerTotals CampaignRunner::Loop::run() {
  if (options_.drop_capabilities) open_shared_sockets_and_drop_capabilities();
  if (options_.on_start) options_.on_start();
  started_ = clock_.mono_now();
  planner_.plan_all();
  for (;;) {
    if (options_.stop_requested && options_.stop_requested()) {
      totals_.stopped = true;
      break;
    }
    const MonoNs now = clock_.mono_now();
    fire_timers(now);
    serve_token_waiters(now);
    admit(now);
    report_progress(now, false);
    if (runs_.size() == 0 && planner_.empty()) break;
    wait(next_wake(clock_.mono_now()));
  }
  totals_.results = output_.results();
  totals_.replies = output_.replies();
  totals_.corrected = output_.corrected();
  totals_.abandoned = runs_.size();
  totals_.not_started = planner_.size();
  totals_.elapsed = clock_.mono_now() - started_;
  report_progress(clock_.mono_now(), true);
  return totals_;
}

CampaignRunner::CampaignRunner(std::vector<MeasurementDefinition> definitions,
                               RunnerOptions options, ResultWriter write, const Clock& clock)
    : loop_(std::make_unique<Loop>(std::move(definitions), std::move(options), std::move(write),
                                   clock)) {}

CampaignRunner::~CampaignRunner() = default;

void CampaignRunner::observe(ProgressObserver observer) { loop_->observer = std::move(observer); }

RunnerTotals CampaignRunner::run() { return loop_->run(); }

}  // namespace mtool::campaign
