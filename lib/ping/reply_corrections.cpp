#include "ping/reply_corrections.h"

#include <utility>

#include "correlate/correction.h"

namespace mtool::ping {

void ReplyCorrections::correct(std::size_t place, report::PingReply& line, bool counted) {
  correlate::ProbeOverhead* answer = batch_.answer(place);
  if (!line.rtt_ns || answer == nullptr) return;
  correlate::ProbeOverhead& overhead = *answer;
  const auto corrected = correlate::correct_rtt(*line.rtt_ns, overhead);
  if (!corrected) return;
  const auto& c = *corrected;
  report::ReplyCorrection rc;
  rc.corrected_ns = c.corrected_ns;
  rc.corrected_us = (c.corrected_ns + 500) / 1000;
  rc.overhead_ns = c.overhead_ns;
  rc.shared_ns = c.shared_ns;
  if (counted) {
    ++corrected_;
    rtt_.add(rc.corrected_us);
    corrected_ns_.add(c.corrected_ns);
    egress_ns_.add(overhead.egress_ns);
    ingress_ns_.add(overhead.ingress_ns);
  }
  rc.overhead = std::move(overhead);  // each answer serves one line
  line.correction = std::move(rc);
}

report::CorrectionSummary ReplyCorrections::summary(long timed, bool percentiles) const {
  report::CorrectionSummary cs;
  cs.corrected = corrected_;
  cs.timed = timed;
  if (rtt_.count() != 0) {
    cs.rtt = report::RttSummary{rtt_.min_us(), rtt_.avg_us(), rtt_.max_us(), rtt_.mdev_us()};
    if (percentiles) {
      cs.percentiles =
          report::PercentileSummary{*corrected_ns_.quantile(0.5), *corrected_ns_.quantile(0.9),
                                    *corrected_ns_.quantile(0.99), *corrected_ns_.quantile(0.999)};
    }
    cs.egress_p50_ns = *egress_ns_.quantile(0.5);
    cs.ingress_p50_ns = *ingress_ns_.quantile(0.5);
  }
  return cs;
}

}  // namespace mtool::ping
