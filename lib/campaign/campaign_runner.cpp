#include "campaign/campaign_runner.h"

#include <netinet/in.h>
#include <poll.h>
#include <sys/capability.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <deque>
#include <optional>
#include <queue>
#include <random>

#include "campaign/ping_run.h"
#include "campaign/probe_pacer.h"
#include "campaign/run_schedule.h"
#include "campaign/trace_run.h"
#include "net/capabilities.h"
#include "net/icmp_socket.h"
#include "net/source_address.h"
#include "probe/echo_transport.h"
#include "report/atlas_results.h"
#include "report/icmp_text.h"
#include "util/error.h"

namespace mtool::campaign {
namespace {

constexpr std::size_t kSequences = 65536;
constexpr std::size_t kMaxEchoData = 2048;  // Atlas' largest ping size
constexpr std::int64_t kProgressEveryNs = 250 * kNsPerMs;

// A trace method's runtime error as one line (Butskoy's start with a newline).
std::string error_text(const FatalError& e) {
  std::string text = e.what();
  text.erase(0, text.find_first_not_of('\n'));
  return text;
}

// Where an ICMP echo sequence number points: a run (slot + generation) and its packet.
struct SequenceOwner {
  std::uint32_t slot = 0;  // slot index + 1; 0: free
  std::uint32_t generation = 0;
  std::uint8_t packet = 0;
};

// One shared echo socket and what its sequence numbers belong to.
struct EchoChannel {
  std::optional<net::IcmpSocket> socket;
  std::unique_ptr<probe::SocketEchoTransport> transport;
  std::string unavailable;  // why no socket could be opened
  std::vector<SequenceOwner> owners = std::vector<SequenceOwner>(kSequences);
  std::uint16_t next_sequence = 0;
  std::uint64_t sends = 0;
};

// A run scheduled to start.
struct Planned {
  MonoNs at = 0;
  std::int64_t wall_start_s = 0;  // for periodic runs: the nominal start on the wall clock
  std::size_t definition = 0;
  bool operator>(const Planned& other) const {
    return at != other.at ? at > other.at : definition > other.definition;
  }
};

struct Timer {
  MonoNs at = 0;
  std::uint32_t slot = 0;
  std::uint32_t generation = 0;
  bool operator>(const Timer& other) const { return at > other.at; }
};

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
  if (!caps || cap_set_flag(caps.get(), CAP_PERMITTED, 1, &raw, CAP_SET) != 0 || cap_set_proc(caps.get()) != 0) {
    throw FatalError(with_errno("cap_set_proc", errno), 2);
  }
}

}  // namespace

class CampaignRunner::Loop {
 public:
  Loop(std::vector<MeasurementDefinition> definitions, RunnerOptions options, ResultWriter write,
       const Clock& clock)
      : definitions_(std::move(definitions)),
        options_(std::move(options)),
        write_(std::move(write)),
        clock_(clock),
        pacer_(options_.probes_per_second, options_.burst),
        random_(static_cast<std::uint32_t>(getpid()) ^ static_cast<std::uint32_t>(clock.wall_now())) {
    ping_ident_ = static_cast<std::uint16_t>(getpid() & 0xFFFF);
  }

  ProgressObserver observer;
  RunnerTotals run();

 private:
  struct Run {
    std::size_t definition = 0;
    std::uint32_t generation = 0;
    MonoNs started = 0;
    MonoNs wake = 0;
    bool waiting_for_token = false;
    report::AtlasHeader header;
    net::IpAddress destination;
    std::optional<PingRun> ping;
    std::unique_ptr<TraceRun> trace;
    std::vector<std::uint16_t> sequences;  // owned in the family's echo channel
  };

  const MeasurementDefinition& definition_of(const Run& run) const {
    return definitions_[run.definition];
  }
  EchoChannel& channel(int family) { return family == AF_INET6 ? echo6_ : echo4_; }

  void plan_all();
  void open_shared_sockets_and_drop_capabilities();
  void plan(std::size_t definition, std::int64_t nominal_wall_s);
  bool admit(MonoNs now);
  void start(const Planned& planned, MonoNs now);
  std::optional<std::string> resolve(const MeasurementDefinition& d, net::IpAddress& address);
  EchoChannel* open_channel(int family);
  void step(std::uint32_t slot, MonoNs now);
  void step_ping(std::uint32_t slot, Run& run, MonoNs now);
  void step_trace(std::uint32_t slot, Run& run);
  void send_echo(std::uint32_t slot, Run& run, unsigned packet, MonoNs now);
  void set_wake(std::uint32_t slot, Run& run, MonoNs at);
  void complete(std::uint32_t slot, const std::string& error = {});
  void write_error_result(const MeasurementDefinition& d, report::AtlasHeader header,
                          const std::string& error);
  void fire_timers(MonoNs now);
  void serve_token_waiters(MonoNs now);
  void read_echo(EchoChannel& ch);
  void handle(EchoChannel& ch, const probe::EchoEvent& event);
  void settle_replies();
  Run* owner_run(EchoChannel& ch, std::uint16_t sequence, unsigned& packet, std::uint32_t& slot);
  MonoNs next_wake(MonoNs now) const;
  void wait(MonoNs until);
  void report_progress(MonoNs now, bool force);

  std::vector<MeasurementDefinition> definitions_;
  RunnerOptions options_;
  ResultWriter write_;
  const Clock& clock_;
  ProbePacer pacer_;
  std::minstd_rand random_;
  std::uint16_t ping_ident_;
  std::uint16_t trace_ident_counter_ = 0;

  std::priority_queue<Planned, std::vector<Planned>, std::greater<>> planned_;
  std::vector<std::unique_ptr<Run>> slots_;  // index + 1 is a slot number
  std::vector<std::uint32_t> free_slots_;
  std::uint32_t next_generation_ = 1;
  std::size_t active_ = 0;
  std::size_t traces_active_ = 0;
  std::priority_queue<Timer, std::vector<Timer>, std::greater<>> timers_;
  std::deque<std::pair<std::uint32_t, std::uint32_t>> token_waiters_;  // (slot, generation)
  // Ping replies read in this wake-up, whose overheads are asked for together, and the runs
  // they answered (each checked for completion once its corrections are in).
  struct AwaitingCorrection {
    std::uint32_t slot = 0;
    std::uint32_t generation = 0;
    unsigned packet = 0;
    std::int64_t rtt_ns = 0;
  };
  std::vector<AwaitingCorrection> awaiting_;
  std::vector<correlate::OverheadSource::Request> requests_;
  std::vector<std::pair<std::uint32_t, std::uint32_t>> answered_;  // (slot, generation)
  EchoChannel echo4_;
  EchoChannel echo6_;
  std::vector<pollfd> fds_;
  std::vector<std::uint32_t> fd_owner_;  // slot, or 0 for an echo channel

  RunnerTotals totals_;
  std::size_t planned_total_ = 0;  // 0: unbounded
  MonoNs started_ = 0;
  MonoNs last_progress_ = 0;
};

// ---- planning ---------------------------------------------------------------------------

void CampaignRunner::Loop::plan_all() {
  const std::int64_t now_s = clock_.wall_now() / kNsPerSec;
  bool bounded = true;
  for (std::size_t i = 0; i < definitions_.size(); ++i) {
    const Schedule& s = definitions_[i].schedule;
    if (const auto runs = run_count(s, now_s)) {
      planned_total_ += *runs;
    } else {
      bounded = false;
    }
    if (const auto first = first_run_at(s, now_s)) plan(i, *first);
  }
  if (!bounded) planned_total_ = 0;
}

// Schedules the run of `d` nominally due at `nominal_wall_s`, spread as asked.
void CampaignRunner::Loop::plan(std::size_t definition, std::int64_t nominal_wall_s) {
  const MeasurementDefinition& d = definitions_[definition];
  const std::int64_t now_wall = clock_.wall_now();
  std::int64_t offset_ns = nominal_wall_s * kNsPerSec - now_wall;
  if (d.schedule.spread_s > 0) {
    std::uniform_int_distribution<std::int64_t> spread(0, d.schedule.spread_s * kNsPerSec);
    offset_ns += spread(random_);
  }
  planned_.push(Planned{clock_.mono_now() + std::max<std::int64_t>(0, offset_ns), nominal_wall_s,
                        definition});
}

// Everything that needs a privilege at the start is done here, then the privileges go.
void CampaignRunner::Loop::open_shared_sockets_and_drop_capabilities() {
  bool raw_later = false;
  for (const MeasurementDefinition& d : definitions_) {
    if (d.type == MeasurementType::kPing) open_channel(d.af == 6 ? AF_INET6 : AF_INET);
    raw_later = raw_later || may_open_raw_socket(d);
  }
  keep_only_raw(raw_later);
}

// ---- starting a run -----------------------------------------------------------------------

std::optional<std::string> CampaignRunner::Loop::resolve(const MeasurementDefinition& d,
                                                         net::IpAddress& address) {
  const int family = d.af == 6 ? AF_INET6 : AF_INET;
  if (auto numeric = net::IpAddress::parse(d.target)) {
    if (numeric->family() != family) {
      return "target " + d.target + " is not an IPv" + std::to_string(d.af) + " address";
    }
    address = *numeric;
    return std::nullopt;
  }
  try {
    const auto targets = net::resolve_host(d.target, family);
    if (targets.empty()) return "name resolution failed: no address for " + d.target;
    address = targets.front().address;
    address.set_port(0);
    return std::nullopt;
  } catch (const FatalError& e) {
    return std::string("name resolution failed: ") + e.what();
  }
}

EchoChannel* CampaignRunner::Loop::open_channel(int family) {
  EchoChannel& ch = channel(family);
  if (ch.transport) return &ch;
  if (!ch.unavailable.empty()) return nullptr;
  int error = 0;
  net::SocketKind tried = net::SocketKind::kDatagram;
  ch.socket = net::IcmpSocket::open(family, true, error, tried);
  if (!ch.socket) {
    ch.unavailable = with_errno(std::string("socket ") + net::socket_kind_name(tried), error);
    return nullptr;
  }
  ch.socket->enable_timestamps(false);
  // The replies' TTL, for Atlas' "ttl" (a raw IPv4 socket reads it from the IP header), and
  // ICMP errors about our echoes in the error queue (unreachable: Atlas' per-packet "error").
  if (family == AF_INET6) {
    ch.socket->set_int_option(IPPROTO_IPV6, IPV6_RECVHOPLIMIT, 1);
    ch.socket->set_int_option(IPPROTO_IPV6, IPV6_RECVERR, 1);
  } else {
    if (!ch.socket->is_raw()) ch.socket->set_int_option(IPPROTO_IP, IP_RECVTTL, 1);
    ch.socket->set_int_option(IPPROTO_IP, IP_RECVERR, 1);
  }
  if (ch.socket->is_raw()) ch.socket->install_type_filter();
  // Many runs in flight: a deep receive queue rides out bursts of replies.
  ch.socket->set_int_option(SOL_SOCKET, SO_RCVBUF, 4 << 20);
  probe::EchoConfig config;
  config.ident = ping_ident_;
  config.datalen = kMaxEchoData;
  config.payload.resize(kMaxEchoData);
  for (std::size_t i = 0; i < kMaxEchoData; ++i) config.payload[i] = static_cast<std::uint8_t>(i);
  config.max_in_flight = static_cast<int>(kSequences);
  ch.transport = std::make_unique<probe::SocketEchoTransport>(*ch.socket, std::move(config), clock_);
  return &ch;
}

void CampaignRunner::Loop::write_error_result(const MeasurementDefinition& d,
                                              report::AtlasHeader header, const std::string& error) {
  if (d.type == MeasurementType::kPing) {
    report::AtlasPingResult r;
    r.header = std::move(header);
    r.size = d.ping.size;
    r.resolution_error = error;
    write_(report::atlas_ping_json(r));
  } else {
    report::AtlasTracerouteResult r;
    r.header = std::move(header);
    r.proto = protocol_name(d.traceroute.protocol);
    r.size = d.traceroute.size;
    r.endtime = clock_.wall_now() / kNsPerSec;
    r.resolution_error = error;
    write_(report::atlas_traceroute_json(r));
  }
  ++totals_.results;
}

void CampaignRunner::Loop::start(const Planned& planned, MonoNs now) {
  const MeasurementDefinition& d = definitions_[planned.definition];
  if (const auto next = next_run_at(d.schedule, planned.wall_start_s)) plan(planned.definition, *next);

  auto run = std::make_unique<Run>();
  run->definition = planned.definition;
  run->started = now;
  report::AtlasHeader& h = run->header;
  h.msm_id = d.msm_id.value_or(options_.first_msm_id + static_cast<std::uint32_t>(d.index));
  h.prb_id = options_.prb_id;
  h.timestamp = clock_.wall_now() / kNsPerSec;
  h.from = options_.from;
  h.dst_name = d.target;
  h.af = d.af;

  if (auto problem = resolve(d, run->destination)) {
    write_error_result(d, h, *problem);
    return;
  }
  h.dst_addr = run->destination.to_string();
  const auto source = net::select_source_address(run->destination, "", false);
  if (source.error == 0) h.src_addr = source.source.to_string();

  if (d.type == MeasurementType::kPing) {
    if (open_channel(run->destination.family()) == nullptr) {
      write_error_result(d, h, channel(run->destination.family()).unavailable);
      return;
    }
    run->ping.emplace(d.ping, now);
  } else {
    TraceRunSetup setup;
    setup.destination = run->destination;
    // Raw ICMP traces each get their own identifier, never the pings'.
    do {
      setup.icmp_ident = static_cast<std::uint16_t>(ping_ident_ + 1 + trace_ident_counter_++);
    } while (setup.icmp_ident == 0 || setup.icmp_ident == ping_ident_);
    setup.overheads = options_.overheads;
    setup.breakdown = options_.breakdown;
    setup.gate = &pacer_;
    try {
      run->trace = std::make_unique<TraceRun>(d.traceroute, setup, clock_);
    } catch (const FatalError& e) {
      write_error_result(d, h, error_text(e));
      return;
    }
    ++traces_active_;
  }

  std::uint32_t slot = 0;
  if (!free_slots_.empty()) {
    slot = free_slots_.back();
    free_slots_.pop_back();
  } else {
    slots_.emplace_back();
    slot = static_cast<std::uint32_t>(slots_.size());
  }
  run->generation = next_generation_++;
  slots_[slot - 1] = std::move(run);
  ++active_;
  step(slot, now);
}

bool CampaignRunner::Loop::admit(MonoNs now) {
  bool started = false;
  while (!planned_.empty() && planned_.top().at <= now && active_ < options_.concurrency &&
         token_waiters_.empty() && pacer_.available(now)) {
    const Planned& next = planned_.top();
    if (definitions_[next.definition].type == MeasurementType::kTraceroute &&
        traces_active_ >= options_.trace_concurrency) {
      break;  // in list order: a traceroute waits for a trace slot, and so does what follows
    }
    const Planned p = next;
    planned_.pop();
    start(p, now);
    started = true;
  }
  return started;
}

// ---- stepping runs --------------------------------------------------------------------------

void CampaignRunner::Loop::set_wake(std::uint32_t slot, Run& run, MonoNs at) {
  run.wake = at;
  timers_.push(Timer{at, slot, run.generation});
}

void CampaignRunner::Loop::step(std::uint32_t slot, MonoNs now) {
  Run& run = *slots_[slot - 1];
  if (run.ping) {
    step_ping(slot, run, now);
  } else {
    step_trace(slot, run);
  }
}

void CampaignRunner::Loop::send_echo(std::uint32_t slot, Run& run, unsigned packet, MonoNs now) {
  EchoChannel& ch = channel(run.destination.family());
  // The next sequence number nobody owns (a run holds its numbers until it completes, so a
  // late duplicate is still told apart).
  std::uint16_t sequence = ch.next_sequence;
  for (std::size_t tries = 0; ch.owners[sequence].slot != 0 && tries < kSequences; ++tries) ++sequence;
  ch.next_sequence = static_cast<std::uint16_t>(sequence + 1);
  const unsigned size = definition_of(run).ping.size;
  const int err = ch.transport->send_echo_to(run.destination, size, sequence, ++ch.sends);
  ++totals_.probes_sent;
  if (err != 0) {
    run.ping->send_failed(packet, now, std::string("sendto failed: ") + std::strerror(err));
    return;
  }
  ch.owners[sequence] = SequenceOwner{slot, run.generation, static_cast<std::uint8_t>(packet)};
  run.sequences.push_back(sequence);
  run.ping->sent(packet, now);
}

void CampaignRunner::Loop::step_ping(std::uint32_t slot, Run& run, MonoNs now) {
  while (const auto packet = run.ping->due_packet(now)) {
    if (pacer_.defer_until(now)) {
      if (!run.waiting_for_token) {
        run.waiting_for_token = true;
        token_waiters_.emplace_back(slot, run.generation);
      }
      return;
    }
    send_echo(slot, run, *packet, now);
  }
  if (run.ping->finished(now)) {
    complete(slot);
  } else {
    set_wake(slot, run, run.ping->next_wake());
  }
}

void CampaignRunner::Loop::step_trace(std::uint32_t slot, Run& run) {
  std::optional<MonoNs> next;
  const std::uint64_t granted_before = pacer_.granted();
  try {
    next = run.trace->advance();
  } catch (const FatalError& e) {
    totals_.probes_sent += pacer_.granted() - granted_before;
    complete(slot, error_text(e));
    return;
  }
  totals_.probes_sent += pacer_.granted() - granted_before;
  if (!next) {
    complete(slot);
  } else {
    set_wake(slot, run, *next);
  }
}

void CampaignRunner::Loop::complete(std::uint32_t slot, const std::string& error) {
  std::unique_ptr<Run> run = std::move(slots_[slot - 1]);
  const MeasurementDefinition& d = definitions_[run->definition];
  if (run->ping) {
    EchoChannel& ch = channel(run->destination.family());
    for (const std::uint16_t s : run->sequences) ch.owners[s] = SequenceOwner{};
    report::AtlasPingResult r;
    r.header = std::move(run->header);
    r.size = d.ping.size;
    r.sent = run->ping->sent_count();
    r.packets = run->ping->packets();
    for (const auto& p : r.packets) {
      if (p.kind == report::AtlasPingPacket::Kind::kReply) {
        ++totals_.replies;
        if (p.correction) ++totals_.corrected;
      }
    }
    write_(report::atlas_ping_json(r));
  } else {
    report::AtlasTracerouteResult r;
    r.header = std::move(run->header);
    r.proto = protocol_name(d.traceroute.protocol);
    r.size = d.traceroute.size;
    r.endtime = clock_.wall_now() / kNsPerSec;
    r.hops = run->trace->take_hops();
    r.resolution_error = error;
    for (const auto& hop : r.hops) {
      for (const auto& reply : hop.replies) {
        if (reply.kind != report::AtlasHopReply::Kind::kReply) continue;
        ++totals_.replies;
        if (reply.correction) ++totals_.corrected;
      }
    }
    write_(report::atlas_traceroute_json(r));
    --traces_active_;
  }
  ++totals_.results;
  --active_;
  free_slots_.push_back(slot);
}

void CampaignRunner::Loop::fire_timers(MonoNs now) {
  while (!timers_.empty() && timers_.top().at <= now) {
    const Timer t = timers_.top();
    timers_.pop();
    const auto& run = slots_[t.slot - 1];
    // Stale: the run completed, or its wake moved since this entry was pushed.
    if (!run || run->generation != t.generation || run->wake != t.at || run->waiting_for_token) continue;
    step(t.slot, now);
  }
}

void CampaignRunner::Loop::serve_token_waiters(MonoNs now) {
  while (!token_waiters_.empty() && pacer_.available(now)) {
    const auto [slot, generation] = token_waiters_.front();
    token_waiters_.pop_front();
    const auto& run = slots_[slot - 1];
    if (!run || run->generation != generation) continue;
    run->waiting_for_token = false;
    step(slot, now);
  }
}

// ---- replies ----------------------------------------------------------------------------------

CampaignRunner::Loop::Run* CampaignRunner::Loop::owner_run(EchoChannel& ch, std::uint16_t sequence,
                                                         unsigned& packet, std::uint32_t& slot) {
  const SequenceOwner& owner = ch.owners[sequence];
  if (owner.slot == 0) return nullptr;
  Run* run = slots_[owner.slot - 1].get();
  if (run == nullptr || run->generation != owner.generation || !run->ping) return nullptr;
  packet = owner.packet;
  slot = owner.slot;
  return run;
}

void CampaignRunner::Loop::handle(EchoChannel& ch, const probe::EchoEvent& event) {
  unsigned packet = 0;
  std::uint32_t slot = 0;
  if (const auto* reply = std::get_if<probe::EchoReplyEvent>(&event)) {
    Run* run = owner_run(ch, reply->sequence, packet, slot);
    // A reply must come from where its request went, intact, for a request we still hold.
    if (run == nullptr || !reply->from.same_host(run->destination) || !reply->checksum_ok ||
        !reply->sent) {
      ++totals_.ignored_packets;
      return;
    }
    const std::int64_t rtt_ns = reply->rx_time - reply->sent->user_tx;
    if (options_.overheads != nullptr && run->ping->awaiting(packet)) {
      // The correlator keeps one record per probe: only the first reply can be corrected.
      const auto probe =
          correlate::echo_probe(ch.transport->family(), ch.transport->wire_ident(), reply->sequence);
      awaiting_.push_back({slot, run->generation, packet, rtt_ns});
      requests_.push_back({probe, reply->sent->user_tx_mono});
    }
    run->ping->replied(packet, static_cast<double>(rtt_ns) / 1e6, reply->ttl);
  } else if (const auto* error = std::get_if<probe::IcmpErrorEvent>(&event)) {
    Run* run = owner_run(ch, error->sequence, packet, slot);
    if (run == nullptr || !error->original_destination.same_host(run->destination)) {
      ++totals_.ignored_packets;
      return;
    }
    run->ping->refused(packet, report::describe_icmp(error->family, error->type, error->code, error->info) +
                                   " from " + error->offender.to_string());
  } else {
    return;  // notices and local errors name no probe of a run
  }
  answered_.emplace_back(slot, slots_[slot - 1]->generation);
}

// Everything the socket holds now, then one batch of correlator queries for it (one wake-up
// of the daemon, not one round trip per reply), then the runs those replies completed.
void CampaignRunner::Loop::read_echo(EchoChannel& ch) {
  while (auto event = ch.transport->next_event()) handle(ch, *event);
  settle_replies();
}

void CampaignRunner::Loop::settle_replies() {
  if (!awaiting_.empty()) {
    const auto overheads = options_.overheads->take_many(requests_);
    for (std::size_t i = 0; i < awaiting_.size() && i < overheads.size(); ++i) {
      const AwaitingCorrection& a = awaiting_[i];
      const auto& run = slots_[a.slot - 1];
      if (!overheads[i] || !run || run->generation != a.generation) continue;
      if (auto correction = report::atlas_correction(a.rtt_ns, *overheads[i], options_.breakdown))
        run->ping->correct(a.packet, std::move(*correction));
    }
    awaiting_.clear();
    requests_.clear();
  }
  const MonoNs now = clock_.mono_now();
  for (const auto& [slot, generation] : answered_) {
    const auto& run = slots_[slot - 1];
    if (run && run->generation == generation && !run->waiting_for_token && run->ping->finished(now))
      complete(slot);
  }
  answered_.clear();
}

// ---- waiting -----------------------------------------------------------------------------------

MonoNs CampaignRunner::Loop::next_wake(MonoNs now) const {
  MonoNs next = now + kProgressEveryNs;
  if (!timers_.empty()) next = std::min(next, timers_.top().at);
  // Admission can go on only with room for the next planned run: a traceroute waiting for a
  // trace slot wakes nobody (a finishing trace does), or the loop would spin until then.
  const bool may_admit = !planned_.empty() && active_ < options_.concurrency &&
                         !(definitions_[planned_.top().definition].type == MeasurementType::kTraceroute &&
                           traces_active_ >= options_.trace_concurrency);
  if (may_admit) next = std::min(next, std::max(now, planned_.top().at));
  if (!token_waiters_.empty() || may_admit) {
    next = std::min(next, std::max(now, pacer_.next_available()));
  }
  return next;
}

void CampaignRunner::Loop::wait(MonoNs until) {
  fds_.clear();
  fd_owner_.clear();
  for (EchoChannel* ch : {&echo4_, &echo6_}) {
    if (!ch->transport) continue;
    fds_.push_back(pollfd{ch->socket->fd(), POLLIN, 0});
    fd_owner_.push_back(0);
  }
  std::vector<int> trace_fds;
  for (std::size_t i = 0; i < slots_.size(); ++i) {
    const auto& run = slots_[i];
    if (!run || !run->trace) continue;
    trace_fds.clear();
    run->trace->descriptors(trace_fds);
    for (const int fd : trace_fds) {
      fds_.push_back(pollfd{fd, POLLIN, 0});
      fd_owner_.push_back(static_cast<std::uint32_t>(i + 1));
    }
  }
  const std::int64_t timeout_ns = std::max<std::int64_t>(0, until - clock_.mono_now());
  timespec timeout{static_cast<time_t>(timeout_ns / kNsPerSec), static_cast<long>(timeout_ns % kNsPerSec)};
  const int ready = ppoll(fds_.data(), fds_.size(), &timeout, options_.wait_sigmask);
  if (ready <= 0) return;
  std::uint32_t last_trace = 0;
  for (std::size_t i = 0; i < fds_.size(); ++i) {
    if (fds_[i].revents == 0) continue;
    if (fd_owner_[i] == 0) {
      EchoChannel& ch = fds_[i].fd == (echo4_.socket ? echo4_.socket->fd() : -1) ? echo4_ : echo6_;
      read_echo(ch);
      continue;
    }
    const std::uint32_t slot = fd_owner_[i];
    if (slot == last_trace) continue;  // one read per trace per wake-up
    last_trace = slot;
    const auto& run = slots_[slot - 1];
    if (!run || !run->trace) continue;
    try {
      run->trace->read_input();
    } catch (const FatalError& e) {  // a local error the trace cannot go on after
      complete(slot, error_text(e));
      continue;
    }
    step_trace(slot, *run);
  }
}

void CampaignRunner::Loop::report_progress(MonoNs now, bool force) {
  if (!observer || (!force && now - last_progress_ < kProgressEveryNs)) return;
  last_progress_ = now;
  observer(RunnerProgress{totals_.results, planned_total_, active_, totals_.probes_sent, now - started_});
}

RunnerTotals CampaignRunner::Loop::run() {
  if (options_.drop_capabilities) open_shared_sockets_and_drop_capabilities();
  started_ = clock_.mono_now();
  plan_all();
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
    if (active_ == 0 && planned_.empty()) break;
    wait(next_wake(clock_.mono_now()));
  }
  totals_.abandoned = active_;
  totals_.not_started = planned_.size();
  totals_.elapsed_ns = clock_.mono_now() - started_;
  report_progress(clock_.mono_now(), true);
  return totals_;
}

CampaignRunner::CampaignRunner(std::vector<MeasurementDefinition> definitions, RunnerOptions options,
                               ResultWriter write, const Clock& clock)
    : loop_(std::make_unique<Loop>(std::move(definitions), std::move(options), std::move(write), clock)) {}

CampaignRunner::~CampaignRunner() = default;

void CampaignRunner::observe(ProgressObserver observer) { loop_->observer = std::move(observer); }

RunnerTotals CampaignRunner::run() { return loop_->run(); }

}  // namespace mtool::campaign
