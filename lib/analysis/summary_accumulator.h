#pragma once
// One group's summary, accumulated result by result in bounded state: counts, and histograms
// (lib/stats, 0.8% precision) of the raw and corrected RTTs and of the overheads. A ping counts
// its packets; a traceroute counts its last hop's probes and the target's answers among them
// (how far the target is, as the trace saw it).
#include <cstdint>

#include "analysis/result_record.h"
#include "stats/rtt_statistics.h"

namespace mtool::analysis {

class SummaryAccumulator {
 public:
  void add(const ResultRecord& record);

  struct Counts {
    std::uint64_t results = 0;
    std::uint64_t sent = 0;
    std::uint64_t received = 0;  // replies, duplicates left out (as Atlas' rcvd)
    std::uint64_t duplicates = 0;
    std::uint64_t errors = 0;       // packets (or whole results) that ended in an error
    std::uint64_t late = 0;         // answers after their time
    std::uint64_t corrected = 0;    // replies whose overhead the correlator knew
    std::uint64_t inside_host = 0;  // ... of which answered inside the host (no corrected RTT)
  };
  [[nodiscard]] const Counts& counts() const { return counts_; }
  [[nodiscard]] const stats::LatencyHistogram& raw() const { return raw_; }
  [[nodiscard]] const stats::LatencyHistogram& corrected() const { return corrected_; }
  [[nodiscard]] const stats::LatencyHistogram& overhead() const { return overhead_; }
  [[nodiscard]] const stats::LatencyHistogram& egress() const { return egress_; }
  [[nodiscard]] const stats::LatencyHistogram& ingress() const { return ingress_; }

 private:
  void add_ping(const ResultRecord& record);
  void add_traceroute(const ResultRecord& record);
  void add_reply(const ReplyFigures& figures);

  Counts counts_;
  stats::LatencyHistogram raw_;
  stats::LatencyHistogram corrected_;
  stats::LatencyHistogram overhead_;
  stats::LatencyHistogram egress_;
  stats::LatencyHistogram ingress_;
};

// Milliseconds as the histograms hold them: nanoseconds, rounded.
std::int64_t to_ns(double ms);

}  // namespace mtool::analysis
