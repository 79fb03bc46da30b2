#include "trace/trace_scheduler.h"

#include <algorithm>
#include <cerrno>

#include "util/error.h"

namespace mtool::trace {
namespace {

// Butskoy adds 1 ms to a reply's time before scaling it, against rounding trouble.
constexpr Nanos kWaitPrecision = std::chrono::milliseconds{1};

}  // namespace

TraceScheduler::TraceScheduler(ScheduleConfig config, ProbeMethod& method,
                               report::ProbePrinter& printer, const Clock& clock,
                               correlate::OverheadSource* overheads, SendGate* gate)
    : config_(config),
      method_(method),
      printer_(printer),
      clock_(clock),
      overheads_(overheads),
      gate_(gate),
      probes_(static_cast<std::size_t>(config.max_hops) * config.probes_per_hop),
      start_(static_cast<std::size_t>(config.first_hop - 1) * config.probes_per_hop),
      end_(probes_.size()) {}

Nanos TraceScheduler::timeout(std::size_t index) const {
  const auto scaled = [this](Nanos rtt, double factor) {
    const double value = static_cast<double>((rtt + kWaitPrecision).count()) * factor;
    return std::min(Nanos{static_cast<std::int64_t>(value)}, config_.wait_max);
  };
  if (config_.wait_here > 0) {
    // A reply from the same hop already came: this one should not take much longer.
    const std::size_t first = index - index % config_.probes_per_hop;
    for (std::size_t i = first; i < first + config_.probes_per_hop; ++i) {
      if (probes_[i].done && probes_[i].rtt() > Nanos::zero())
        return scaled(probes_[i].rtt(), config_.wait_here);
    }
  }
  if (config_.wait_near > 0) {
    // A later hop already answered: this one, nearer, should not take much longer.
    for (std::size_t i = index + 1; i < probes_.size() && probes_[i].sent; ++i) {
      if (probes_[i].done && probes_[i].rtt() > Nanos::zero())
        return scaled(probes_[i].rtt(), config_.wait_near);
    }
  }
  return config_.wait_max;
}

// A probe expired unanswered while a later one got a final reply. With many probes in flight a
// destination (or a router sending unreachables) may answer only the latest ones; when it
// looks so, the final reply moves to this place, so the destination is not printed beyond
// itself. Butskoy's check_expired(), decision for decision.
void TraceScheduler::check_expired(std::size_t index) {
  const std::size_t per_hop = config_.probes_per_hop;
  report::HopProbe& pb = probes_[index];
  if (!pb.done) return;
  std::optional<std::size_t> previous_final;
  for (std::size_t i = index - index % per_hop; i < index; ++i) {
    if (!probes_[i].done || !probes_[i].final) return;
    previous_final = i;
  }
  std::optional<std::size_t> next_final;
  for (std::size_t i = index + 1; i < probes_.size() && probes_[i].sent; ++i) {
    if (probes_[i].done) {
      if (!probes_[i].final) return;  // a later hop was still in transit: we simply expired
      next_final = i;
      break;
    }
  }
  if (!next_final) return;
  const report::HopProbe& fp = probes_[*next_final];
  if (fp.annotation.empty()) return;  // echo replies, resets, port unreachables come in order

  bool replace = previous_final.has_value() || (index % per_hop) + (*next_final - index) < per_hop;
  if (!replace) {
    // An unreachable may follow a time exceeded from the same router.
    for (std::size_t i = index; i-- > 0;) {
      if (!probes_[i].from.empty() && probes_[i].from.same_host(fp.from)) {
        replace = true;
        break;
      }
    }
  }
  if (!replace && fp.reply_ttl != 0) {
    // Where would the final reply sit, judging by its TTL (relative to the nearest earlier
    // time exceeded with a smaller distance)?
    int back = report::hops_back(fp.reply_ttl);
    for (std::size_t i = index; i-- > 0;) {
      const report::HopProbe& p = probes_[i];
      if (p.done && !p.final && p.reply_ttl != 0) {
        const int hops = report::hops_back(p.reply_ttl);
        if (hops < back) {
          back = back - hops + static_cast<int>(ttl_of(i));
          break;
        }
      }
    }
    replace = back <= static_cast<int>(ttl_of(index));
  }
  if (!replace) return;
  pb = fp;
  probes_[*next_final] = report::HopProbe{};
  probes_[*next_final].sent = true;  // never sent again; expires at once and prints "*"
  probes_[*next_final].mono_tx = mono_from_ns(1);
}

void TraceScheduler::apply(const ProbeReply& reply) {
  if (reply.index >= probes_.size()) return;
  report::HopProbe& pb = probes_[reply.index];
  if (pb.done || !pb.sent) return;
  record_reply(config_.family, reply, pb);
  if (overheads_ != nullptr && pb.identity.family != 0) awaiting_overhead_.push_back(&pb);
  method_.release(reply.index);
}

void TraceScheduler::take_overheads() {
  if (overheads_ == nullptr) return;  // no correlator: apply() queued nothing
  trace::take_overheads(batch_, *overheads_, awaiting_overhead_);
  awaiting_overhead_.clear();
}

void TraceScheduler::run() {
  while (const auto next = advance()) {
    replies_.clear();
    method_.wait(std::max(Nanos::zero(), *next - clock_.mono_now()), replies_);
    deliver(replies_);
  }
}

void TraceScheduler::deliver(const std::vector<ProbeReply>& replies) {
  for (const auto& reply : replies) apply(reply);
  take_overheads();  // one batch per wake-up, before anything is printed
}

std::optional<MonoNs> TraceScheduler::advance() {
  while (start_ < end_) {
    MonoNs next_time{};
    unsigned in_flight = 0;
    const MonoNs now = clock_.mono_now();
    for (std::size_t n = start_; n < end_; ++n) {
      report::HopProbe& pb = probes_[n];
      if (n == start_ && !pb.done && pb.sent) {  // time to print it, but no reply yet
        const MonoNs expires = pb.mono_tx + timeout(n);
        if (expires > now) {
          next_time = expires;
        } else {
          method_.release(n);
          pb.done = true;
          check_expired(n);
        }
      }
      if (pb.done) {
        if (n == start_) {
          printer_.print_probe(probes_, n);
          ++start_;
        }
        if (pb.final) end_ = (n / config_.probes_per_hop + 1) * config_.probes_per_hop;
        continue;
      }
      if (!pb.sent) {
        if (config_.send_wait > Nanos::zero() && last_send_ != MonoNs{} &&
            last_send_ + config_.send_wait > now) {
          next_time = last_send_ + config_.send_wait;
          break;
        }
        if (gate_ != nullptr) {
          if (const auto later = gate_->defer_until(now)) {
            if (next_time == MonoNs{} || *later < next_time) next_time = *later;
            break;
          }
        }
        const int err = method_.send(n, pb, static_cast<int>(ttl_of(n)), config_.flow);
        if (err != 0 || !pb.sent) {
          if (next_time != MonoNs{} && (err == ENOBUFS || err == EAGAIN)) break;  // later
          throw FatalError(with_errno("send probe", err), 1);
        }
        last_send_ = pb.mono_tx;
      }
      if (next_time == MonoNs{}) next_time = pb.mono_tx + timeout(n);
      if (++in_flight >= config_.sim_probes) break;
    }
    if (next_time != MonoNs{}) return next_time;
  }
  return std::nullopt;
}

}  // namespace mtool::trace
