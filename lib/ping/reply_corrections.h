#pragma once
// The corrections of a ping's replies. The replies read in one wake-up have their overheads
// asked of the correlator together (OverheadSource::take_many: one wake-up of the daemon, as
// traceroute and mtool run ask) before any of their lines is printed; each timed reply is then
// corrected, and the corrected figures of the whole run are kept for the summary.
#include <cstddef>
#include <optional>
#include <vector>

#include "correlate/overhead_batch.h"
#include "report/ping_events.h"
#include "stats/rtt_statistics.h"
#include "util/clock.h"

namespace mtool::ping {

class ReplyCorrections {
 public:
  explicit ReplyCorrections(correlate::OverheadSource& source) : source_(source) {}

  // Adds `probe` to the next batch; returns its place in it, for correct(). Every reply to a
  // probe we sent is asked for, timed or not: the correlator keeps a record until its sender
  // takes it.
  std::size_t ask(const correlate::ProbeIdentity& probe, MonoNs sent_mono) {
    return batch_.add(probe, sent_mono);
  }
  // Asks the correlator for the whole batch at once (nothing when nothing was asked); the next
  // ask() starts the next batch.
  void take_batch() { batch_.take(source_); }
  // Corrects `line` (its raw RTT: rtt_ns; untimed lines stay as they are) with the answer at
  // `place` of the batch just taken; `counted`: a good reply, one for the corrected statistics.
  void correct(std::size_t place, report::PingReply& line, bool counted);

  [[nodiscard]] long corrected() const { return corrected_; }
  // The corrected counterpart of the summary's rtt line, out of `timed` replies with an RTT.
  [[nodiscard]] report::CorrectionSummary summary(long timed, bool percentiles) const;

 private:
  correlate::OverheadSource& source_;
  correlate::OverheadBatch batch_;

  long corrected_ = 0;
  stats::IputilsRttStatistics rtt_;
  stats::LatencyHistogram corrected_ns_;
  stats::LatencyHistogram egress_ns_;
  stats::LatencyHistogram ingress_ns_;
};

}  // namespace mtool::ping
