#include "ping/ping_session.h"

#include <sched.h>

#include <algorithm>
#include <cerrno>
#include <type_traits>

#include "correlate/probe_identity.h"
#include "probe/icmp_codec.h"
#include "report/icmp_text.h"
#include "util/error.h"

namespace mtool::ping {
namespace {

int schint(int interval_ms) { return interval_ms <= 10 ? 10 : interval_ms; }

}  // namespace

PingSession::PingSession(SessionConfig config, probe::EchoTransport& transport,
                         report::PingSink& sink, const Clock& clock, net::AddressNamer& namer,
                         RunControl& control)
    : config_(std::move(config)),
      transport_(transport),
      sink_(sink),
      clock_(clock),
      namer_(namer),
      control_(control),
      interval_ms_(config_.interval_ms),
      received_bits_(kDupTableBits / 64) {
  if (config_.flood && interval_ms_ < 0) interval_ms_ = 0;
  if (config_.overheads != nullptr) corrections_.emplace(*config_.overheads);
}

// iputils subtracts timespecs field by field; keep its rounding so "time" matches.
std::int64_t PingSession::ms_since(MonoNs earlier, MonoNs later) const {
  const std::int64_t sec = raw_ns(later) / kNsPerSec - raw_ns(earlier) / kNsPerSec;
  const std::int64_t nsec = raw_ns(later) % kNsPerSec - raw_ns(earlier) % kNsPerSec;
  return sec * 1000 + nsec / 1000000;
}

bool PingSession::test_received(std::uint64_t sequence) const {
  const std::uint64_t bit = sequence % kDupTableBits;
  return ((received_bits_[bit / 64] >> (bit % 64)) & 1U) != 0;
}

void PingSession::set_received(std::uint64_t sequence, bool value) {
  const std::uint64_t bit = sequence % kDupTableBits;
  if (value) {
    received_bits_[bit / 64] |= (std::uint64_t{1} << (bit % 64));
  } else {
    received_bits_[bit / 64] &= ~(std::uint64_t{1} << (bit % 64));
  }
}

void PingSession::advance_transmitted() {
  ++transmitted_;
  // Invalidate acked_ when the 16-bit sequence wraps past it.
  if (static_cast<std::uint16_t>(static_cast<std::uint16_t>(transmitted_) - acked_) > 0x7FFF) {
    acked_ = static_cast<std::uint16_t>(static_cast<std::uint16_t>(transmitted_) + 1);
  }
}

int PingSession::in_flight() const {
  const auto diff = static_cast<std::uint16_t>(static_cast<std::uint16_t>(transmitted_) - acked_);
  return diff <= 0x7FFF ? diff : static_cast<int>(transmitted_ - received_ - errors_);
}

void PingSession::acknowledge(std::uint16_t sequence) {
  const auto diff = static_cast<std::uint16_t>(static_cast<std::uint16_t>(transmitted_) - sequence);
  if (diff <= 0x7FFF) {
    if (diff + 1 > pipesize_) pipesize_ = diff + 1;
    if (static_cast<std::int16_t>(sequence - acked_) > 0 ||
        static_cast<std::uint16_t>(static_cast<std::uint16_t>(transmitted_) - acked_) > 0x7FFF) {
      acked_ = sequence;
    }
  }
}

void PingSession::update_interval() {
  const std::int64_t estimate = ewma_x8_ != 0 ? ewma_x8_ / 8 : interval_ms_ * 1000LL;
  interval_ms_ = static_cast<int>((estimate + rtt_addend_ + 500) / 1000);
  if (config_.non_root && interval_ms_ < kMinUserIntervalMs) interval_ms_ = kMinUserIntervalMs;
}

bool PingSession::stop_due() const {
  if (control_.exit_requested()) return true;
  const MonoNs now = clock_.mono_now();
  return (exit_at_ && now >= *exit_at_) || (deadline_at_ && now >= *deadline_at_);
}

// Returns milliseconds until the next probe is due (<= 0: send again now).
int PingSession::send_due_probes() {
  if (stop_due() ||
      (config_.count != 0 && transmitted_ >= config_.count && config_.deadline_s == 0)) {
    return 1000;
  }
  const MonoNs now = clock_.mono_now();
  if (!cur_time_set_) {
    cur_time_ = now;
    cur_time_set_ = true;
    tokens_ = interval_ms_ * (config_.preload - 1);
  } else {
    std::int64_t ntokens = ms_since(cur_time_, now);
    if (interval_ms_ == 0 && ntokens < kMinIntervalMs && in_flight() >= config_.preload) {
      // An unlimited flood waits for a reply, or 10 ms, before the next probe.
      return static_cast<int>(kMinIntervalMs - ntokens);
    }
    ntokens += tokens_;
    const std::int64_t bucket = static_cast<std::int64_t>(interval_ms_) * config_.preload;
    ntokens = std::min(ntokens, bucket);
    if (ntokens < interval_ms_) return static_cast<int>(interval_ms_ - ntokens);
    cur_time_ = now;
    tokens_ = static_cast<int>(ntokens - interval_ms_);
  }

  if (config_.outstanding && transmitted_ > 0 &&
      !test_received(static_cast<std::uint64_t>(transmitted_))) {
    sink_.no_answer_yet(clock_.wall_now(),
                        static_cast<std::uint64_t>(transmitted_) % kDupTableBits);
  }

  const auto number = static_cast<std::uint64_t>(transmitted_) + 1;
  set_received(number, false);
  const int err = transport_.send_echo(static_cast<std::uint16_t>(number), number);
  if (err == 0) {
    oom_count_ = 0;
    advance_transmitted();
    if (config_.flood && !config_.quiet &&
        ((config_.preload < config_.screen_width && pipesize_ < config_.screen_width) ||
         in_flight() < config_.screen_width)) {
      sink_.flood_sent();
    }
    return interval_ms_ - tokens_;
  }

  if (err == ENOBUFS || err == ENOMEM) {
    // Device queue full: back off (and slow an adaptive ping down).
    tokens_ = 0;
    rtt_addend_ += static_cast<int>(ewma_x8_ < 8LL * 50000 ? ewma_x8_ / 8 : 50000);
    if (config_.adaptive) update_interval();
    const int no_resource_interval = std::min(schint(interval_ms_ / 2), 500);
    ++oom_count_;
    if (oom_count_ * no_resource_interval < config_.linger_ms) return no_resource_interval;
  } else if (err == EAGAIN) {
    tokens_ += interval_ms_;
    return kMinIntervalMs;
  }

  // A hard local error: report what the error queue explains, else the errno itself, and
  // count the probe as sent, as iputils does.
  bool explained = false;
  while (auto event = transport_.next_event()) {
    explained = explained || !std::holds_alternative<probe::EchoReplyEvent>(*event);
    handle(*event);
  }
  print_lines();
  advance_transmitted();
  // iputils 20221126 stays silent here; a stderr line (never a flood 'E') says why it was lost.
  if (!explained && !config_.flood && !config_.quiet) sink_.local_error(with_errno("sendmsg", err));
  tokens_ = 0;
  return schint(interval_ms_);
}

int PingSession::schedule_exit(int next_ms) {
  if (config_.count == 0 || transmitted_ < config_.count || config_.deadline_s != 0) return next_ms;
  if (exit_at_) return next_ms;
  // All probes are out: wait for late replies, then stop.
  std::int64_t wait_us = 0;
  if (received_ != 0) {
    wait_us = std::max<std::int64_t>(2 * stats_.max_us(), 1000LL * interval_ms_);
  } else {
    wait_us = 1000LL * config_.linger_ms;
  }
  exit_at_ = clock_.mono_now() + std::chrono::microseconds{std::max<std::int64_t>(wait_us, 1)};
  if (next_ms < 0 || next_ms < wait_us / 1000) next_ms = static_cast<int>(wait_us / 1000);
  return next_ms;
}

void PingSession::on_reply(const probe::EchoReplyEvent& r) {
  if (!r.sent) return;  // a reply to nothing we sent (spoofed, or older than our memory)
  ++received_;
  if (r.checksum_ok) acknowledge(r.sequence);

  auto& pending = std::get<ReplyLine>(lines_.emplace_back(std::in_place_type<ReplyLine>));
  report::PingReply& line = pending.line;
  line.sequence = r.sequence;
  line.bytes = r.icmp_length;
  line.ttl = r.ttl;
  line.rx_from_kernel = r.rx_from_kernel;
  if (config_.timing && r.icmp_length >= probe::kIcmpHeaderLength + probe::kEchoTimestampLength) {
    WallNs tx = r.sent->user_tx;
    if (config_.tx_reference == TxTimestampSource::kKernel && r.sent->kernel_tx) {
      tx = *r.sent->kernel_tx;
      line.tx_reference = "kernel";
    }
    // The wall clock may have stepped back under us.
    const Nanos rtt = std::max(r.rx_time - tx, Nanos::zero());
    const std::int64_t rtt_us = (rtt.count() + 500) / 1000;
    line.rtt_ns = rtt.count();
    line.rtt_us = rtt_us;
    if (r.sent->kernel_tx) {
      line.kernel_rtt_ns = (r.rx_time - *r.sent->kernel_tx).count();
      line.send_stack_ns = (*r.sent->kernel_tx - r.sent->user_tx).count();
    }
    if (r.checksum_ok) {
      stats_.add(rtt_us);
      if (config_.percentiles) histogram_.add(rtt.count());
      ewma_x8_ = ewma_x8_ == 0 ? rtt_us * 8 : ewma_x8_ + rtt_us - ewma_x8_ / 8;
      if (config_.adaptive) update_interval();
    }
  }

  if (!r.checksum_ok) {
    ++checksum_failures_;
    --received_;
    line.bad_checksum = true;
  } else if (test_received(r.sequence)) {
    ++repeats_;
    --received_;
    line.duplicate = !config_.multicast || config_.verbose;
  } else {
    set_received(r.sequence, true);
  }
  line.truncated = r.icmp_length < config_.datalen + 8;
  line.from = namer_.describe(r.from);
  if (corrections_) {
    const auto probe =
        correlate::echo_probe(transport_.family(), transport_.wire_ident(), r.sequence);
    pending.asked = corrections_->ask(probe, r.sent->user_tx_mono);
    pending.counted = r.checksum_ok;
  }
}

void PingSession::on_error(const probe::IcmpErrorEvent& e) {
  acknowledge(e.sequence);
  ++errors_;
  auto& line =
      std::get<report::PingError>(lines_.emplace_back(std::in_place_type<report::PingError>));
  line.sequence = e.sequence;
  line.from = namer_.describe(e.offender);
  line.text = report::describe_icmp(e.family, e.type, e.code, e.info);
  line.icmp_type = e.type;
  line.icmp_code = e.code;
}

void PingSession::on_local_error(const probe::LocalErrorEvent& e) {
  if (config_.quiet) return;  // iputils neither prints nor counts them under -q
  ++errors_;
  if (e.error == EMSGSIZE) {
    lines_.emplace_back(LocalErrorLine{std::string("local error: message too long, mtu") +
                                       (e.family == AF_INET6 ? ": " : "=") +
                                       std::to_string(e.info)});
  } else {
    lines_.emplace_back(LocalErrorLine{"local error: " + errno_text(e.error)});
  }
}

void PingSession::on_notice(const probe::IcmpNoticeEvent& e) {
  auto& n =
      std::get<report::PingNotice>(lines_.emplace_back(std::in_place_type<report::PingNotice>));
  n.sequence = e.sequence;
  n.from = namer_.describe(e.from);
  n.text = report::describe_icmp(e.family, e.type, e.code, e.info);
  n.bad_checksum = !e.checksum_ok;
}

void PingSession::handle(const probe::EchoEvent& event) {
  std::visit(
      [this](const auto& e) {
        using T = std::decay_t<decltype(e)>;
        if constexpr (std::is_same_v<T, probe::EchoReplyEvent>) {
          on_reply(e);
        } else if constexpr (std::is_same_v<T, probe::IcmpErrorEvent>) {
          on_error(e);
        } else if constexpr (std::is_same_v<T, probe::LocalErrorEvent>) {
          on_local_error(e);
        } else {
          on_notice(e);
        }
      },
      event);
}

// The correlator is asked once per wake-up, for every reply read in it; a line waits for no
// more than that (the first reply of a run, alone in its wake-up, is corrected as it prints).
void PingSession::print_lines() {
  if (lines_.empty()) return;
  if (corrections_) corrections_->take_batch();
  for (auto& pending : lines_) {
    std::visit(
        [this](auto& l) {
          using T = std::decay_t<decltype(l)>;
          if constexpr (std::is_same_v<T, ReplyLine>) {
            if (l.asked) corrections_->correct(*l.asked, l.line, l.counted);
            l.line.print_time = clock_.wall_now();
            sink_.reply(l.line);
          } else if constexpr (std::is_same_v<T, LocalErrorLine>) {
            sink_.local_error(l.text);
          } else {
            l.print_time = clock_.wall_now();
            if constexpr (std::is_same_v<T, report::PingError>) {
              sink_.icmp_error(l);
            } else {
              sink_.notice(l);
            }
          }
        },
        pending);
  }
  lines_.clear();
}

void PingSession::print_status() {
  report::PingStatus s;
  s.transmitted = transmitted_;
  s.received = received_;
  s.ewma_us_x8 = ewma_x8_;
  if (received_ != 0 && config_.timing && stats_.count() != 0) {
    s.rtt = report::RttSummary{stats_.min_us(), stats_.avg_us(), stats_.max_us(), 0};
  }
  sink_.status(s);
}

report::PingSummary PingSession::make_summary() const {
  report::PingSummary s;
  s.hostname = config_.hostname;
  s.transmitted = transmitted_;
  s.received = received_;
  s.duplicates = repeats_;
  s.corrupted = checksum_failures_;
  s.errors = errors_;
  const MonoNs last = cur_time_set_ ? cur_time_ : start_time_;
  const std::int64_t span_ns = (last - start_time_).count();
  s.elapsed_ms = (span_ns / kNsPerSec) * 1000 + ((span_ns % kNsPerSec) + 500000) / 1000000;
  if (received_ != 0 && config_.timing && stats_.count() != 0) {
    s.rtt = report::RttSummary{stats_.min_us(), stats_.avg_us(), stats_.max_us(), stats_.mdev_us()};
    if (config_.percentiles && histogram_.count() != 0) {
      s.percentiles =
          report::PercentileSummary{*histogram_.quantile(0.5), *histogram_.quantile(0.9),
                                    *histogram_.quantile(0.99), *histogram_.quantile(0.999)};
    }
  }
  if (corrections_ && (!config_.correlator_connected || config_.correlator_connected())) {
    s.correction = corrections_->summary(stats_.count(), config_.percentiles);
  }
  s.pipe = pipesize_;
  if (received_ != 0 && (interval_ms_ == 0 || config_.flood || config_.adaptive) &&
      transmitted_ > 1) {
    s.ipg_us = (span_ns / kNsPerUs) / (transmitted_ - 1);
  }
  s.ewma_us_x8 = ewma_x8_;
  return s;
}

bool PingSession::handle_pending_events() {
  bool any = false;
  while (auto event = transport_.next_event()) {
    any = true;
    handle(*event);
    if (in_flight() == 0) break;
  }
  print_lines();
  return any;
}

int PingSession::run() {
  start_time_ = clock_.mono_now();
  if (config_.deadline_s != 0)
    deadline_at_ = start_time_ + std::chrono::seconds{config_.deadline_s};

  for (;;) {
    if (stop_due()) break;
    if (config_.count != 0 && received_ + errors_ >= config_.count) break;
    if (config_.deadline_s != 0 && errors_ != 0) break;
    if (control_.take_status_request()) print_status();

    int next = 0;
    do {
      next = send_due_probes();
      next = schedule_exit(next);
    } while (next <= 0);

    // Short waits: with replies expected, sleep the minimum; otherwise spin (yielding).
    if (config_.adaptive || next < schint(interval_ms_)) {
      if (next <= kMinIntervalMs) {
        if (in_flight() != 0) {
          next = kMinIntervalMs;
        } else {
          next = 0;
          sched_yield();
        }
      }
    }
    // Otherwise iputils blocks in recvmsg() with SO_RCVTIMEO = SCHINT(interval), so it checks its
    // exit conditions at least that often (errors may have been counted while sending).
    if (!config_.adaptive) next = std::min(next, schint(interval_ms_));
    Nanos timeout = std::chrono::milliseconds{next};
    const MonoNs now = clock_.mono_now();
    if (exit_at_) timeout = std::min(timeout, std::max(Nanos::zero(), *exit_at_ - now));
    if (deadline_at_) timeout = std::min(timeout, std::max(Nanos::zero(), *deadline_at_ - now));
    // On local paths the reply is often queued before sendto() even returns: look first,
    // and only sleep in ppoll() when nothing is there (saves a syscall per flood probe).
    if (in_flight() != 0 && handle_pending_events()) continue;
    if (!transport_.wait(timeout)) continue;
    handle_pending_events();
  }
  sink_.summary(make_summary());
  const bool short_of_count = config_.deadline_s != 0 && received_ < config_.count;
  return (received_ == 0 || short_of_count) ? 1 : 0;
}

}  // namespace mtool::ping
