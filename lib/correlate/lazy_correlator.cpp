#include "correlate/lazy_correlator.h"

namespace mtool::correlate {

LazyCorrelator::LazyCorrelator(std::unique_ptr<OverheadSource> source, Connect connect,
                               const Clock& clock, Notify notify)
    : source_(std::move(source)),
      connect_(std::move(connect)),
      clock_(clock),
      notify_(std::move(notify)),
      last_look_(clock.mono_now()) {}

bool LazyCorrelator::ready() {
  if (source_) return true;
  if (!connect_) return false;
  const MonoNs now = clock_.mono_now();
  if (now - last_look_ < kRetryInterval) return false;
  last_look_ = now;
  ConnectAttempt attempt = connect_();
  if (attempt.source) {
    source_ = std::move(attempt.source);
    via_ = std::move(attempt.via);
    connect_ = nullptr;
    return true;
  }
  if (attempt.host_namespace) {
    connect_ = nullptr;  // the host itself: nothing to correct, nothing to say
  } else if (!attempt.refused.empty()) {
    connect_ = nullptr;  // someone holds the name: said once, the run goes on uncorrected
    if (notify_) notify_("corrections unavailable: " + attempt.refused);
  }
  return false;
}

std::optional<ProbeOverhead> LazyCorrelator::take(const ProbeIdentity& probe, MonoNs sent_mono) {
  if (!ready()) return std::nullopt;
  return source_->take(probe, sent_mono);
}

void LazyCorrelator::take_many(const std::vector<Request>& requests, Answers& answers) {
  if (requests.empty() || !ready()) {
    answers.assign(requests.size(), std::nullopt);
    return;
  }
  source_->take_many(requests, answers);
}

std::unique_ptr<LazyCorrelator> correlator_for_run(CorrelatorConnection& connection,
                                                   const Clock& clock,
                                                   LazyCorrelator::Notify notify) {
  if (!connection.source && !connection.look_again) return nullptr;
  auto lazy = std::make_unique<LazyCorrelator>(
      std::move(connection.source), std::move(connection.look_again), clock, std::move(notify));
  return lazy;
}

}  // namespace mtool::correlate
