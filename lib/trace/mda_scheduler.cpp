#include "trace/mda_scheduler.h"

#include <algorithm>
#include <cerrno>

#include "trace/probe_outcome.h"
#include "util/error.h"

namespace mtool::trace {
namespace {

// How long to wait before sending again when the method said "not yet" with nothing in flight.
constexpr Nanos kRetrySendAfter = std::chrono::milliseconds{1};

}  // namespace

MdaScheduler::MdaScheduler(MdaScheduleConfig config, MdaExplorer& explorer, ProbeMethod& method,
                           const Clock& clock, correlate::OverheadSource* overheads)
    : config_(config), explorer_(explorer), method_(method), clock_(clock), overheads_(overheads) {}

void MdaScheduler::run() {
  const MonoNs start = clock_.mono_now();
  while (true) {
    MonoNs now = clock_.mono_now();
    expire(now);
    const std::optional<MonoNs> resume = send_due(now);
    if (in_flight_.empty() && retries_.empty() && explorer_.finished()) break;
    std::optional<MonoNs> until = next_expiry();
    if (resume && (!until || *resume < *until)) until = resume;
    if (!until) break;  // nothing in flight and nothing to send: the explorer is stuck
    replies_.clear();
    now = clock_.mono_now();
    method_.wait(std::max(Nanos::zero(), *until - now), replies_);
    deliver(replies_);
  }
  report::MdaGraph& graph = explorer_.graph();
  graph.probes_sent = probes_.size();
  graph.duration = clock_.mono_now() - start;
}

std::optional<MonoNs> MdaScheduler::next_expiry() const {
  std::optional<MonoNs> earliest;
  for (const auto& [index, flight] : in_flight_) {
    const MonoNs at = probes_[index].mono_tx + config_.wait_max;
    if (!earliest || at < *earliest) earliest = at;
  }
  return earliest;
}

void MdaScheduler::expire(MonoNs now) {
  for (auto it = in_flight_.begin(); it != in_flight_.end();) {
    if (probes_[it->first].mono_tx + config_.wait_max > now) {
      ++it;
      continue;
    }
    method_.release(it->first);
    const Flight flight = it->second;
    it = in_flight_.erase(it);
    if (flight.attempt + 1 < config_.attempts) {
      retries_.push_back({flight.probe, flight.attempt + 1});
    } else {
      explorer_.unanswered(flight.probe);
    }
  }
}

std::optional<MonoNs> MdaScheduler::send_due(MonoNs now) {
  while (in_flight_.size() < config_.sim_probes) {
    if (config_.send_wait > Nanos::zero() && last_send_ != MonoNs{} &&
        last_send_ + config_.send_wait > now) {
      return last_send_ + config_.send_wait;
    }
    Flight flight;
    if (!retries_.empty()) {
      flight = retries_.front();
      retries_.pop_front();
    } else if (const std::optional<MdaProbe> probe = explorer_.next_probe()) {
      flight.probe = *probe;
    } else {
      return std::nullopt;
    }
    const std::size_t index = probes_.size();
    report::HopProbe& probe = probes_.emplace_back();
    const int err =
        method_.send(index, probe, static_cast<int>(flight.probe.ttl), flight.probe.flow);
    if (err == ENOBUFS || err == EAGAIN) {  // not now: the same probe first, later
      probes_.pop_back();
      retries_.push_front(flight);
      if (in_flight_.empty()) return now + kRetrySendAfter;
      return std::nullopt;
    }
    if (err != 0 || !probe.sent) throw FatalError(with_errno("send probe", err), 1);
    in_flight_.emplace(index, flight);
    last_send_ = probe.mono_tx;
    now = clock_.mono_now();
  }
  return std::nullopt;
}

void MdaScheduler::deliver(const std::vector<ProbeReply>& replies) {
  answered_.clear();
  identified_.clear();
  for (const ProbeReply& reply : replies) {
    const auto it = in_flight_.find(reply.index);
    if (it == in_flight_.end()) continue;  // late, or a duplicate
    report::HopProbe& probe = probes_[reply.index];
    record_reply(config_.family, reply, probe);
    method_.release(reply.index);
    answered_.emplace_back(*it);
    in_flight_.erase(it);
    if (overheads_ != nullptr && probe.identity.family != 0) identified_.push_back(&probe);
  }
  if (overheads_ != nullptr) take_overheads(batch_, *overheads_, identified_);
  for (const auto& [index, flight] : answered_) explorer_.answered(flight.probe, probes_[index]);
}

}  // namespace mtool::trace
