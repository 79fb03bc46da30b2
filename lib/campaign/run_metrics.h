#pragma once
// `mtool run --metrics`: each measurement of the list as Prometheus series, recorded from its
// Atlas results as they are written (so the counters say what the results say), labelled
// msm_id, type, target, af and the vantage point's own labels (--label):
//   mtool_probe_rtt_seconds, mtool_probe_corrected_rtt_seconds   histograms: ping's replies
//       (duplicates left out, as Atlas' statistics do), a traceroute's replies from its target
//   mtool_results_total, mtool_probes_sent_total, mtool_probe_replies_total,
//   mtool_probe_duplicates_total, mtool_probe_errors_total{kind}   counters; kind: "send" (a
//       probe could not be sent), "icmp" (an ICMP error answered it: ping's unreachable, a
//       traceroute's !H !N ...), "run" (a run could not start or go on: an unknown target)
//   mtool_probe_success   1 when the latest run had a reply from the target, else 0
//   mtool_traceroute_hops   the farthest hop that answered in the latest run (0: none)
//   mtool_traceroute_hop_replies_total{hop}   replies per hop, first_hop to max_hops
// Bounded: each definition reserves the most series it can make, in list order, until
// --metrics-max-series; the rest are not exported (mtool_metrics_unexported_measurements says
// how many) and still have their results written.
#include <prometheus/counter.h>
#include <prometheus/family.h>
#include <prometheus/gauge.h>
#include <prometheus/histogram.h>
#include <prometheus/registry.h>

#include <array>
#include <cstdint>
#include <memory>
#include <set>
#include <string>
#include <vector>

#include "campaign/measurement_list.h"
#include "campaign/result_observer.h"
#include "metrics/labels.h"

namespace mtool::campaign {

struct RunMetricsOptions {
  std::vector<double> buckets;           // upper bounds in seconds (metrics/bucket_layout)
  metrics::LabelMap vantage;             // --label: on every series
  std::size_t max_series = 100000;       // --metrics-max-series
  std::uint32_t first_msm_id = 1000000;  // msm_id of a definition without one: this + index
};

class RunMetrics final : public ResultObserver {
 public:
  // The label names the series set themselves, which --label may not use.
  static const std::set<std::string, std::less<>> kOwnLabels;

  // Registers the families in `registry` and every exported measurement's series, all at zero:
  // a series that appears with its first result would hide that result from rate(). `definitions`
  // as the runner gets them; `registry` must outlive this.
  RunMetrics(prometheus::Registry& registry, const std::vector<MeasurementDefinition>& definitions,
             const RunMetricsOptions& options);
  ~RunMetrics() override;
  RunMetrics(const RunMetrics&) = delete;
  RunMetrics& operator=(const RunMetrics&) = delete;

  // The most series a definition of `d`'s kind makes with `buckets` bounds per histogram.
  static std::size_t series_of(const MeasurementDefinition& d, std::size_t buckets);

  [[nodiscard]] std::size_t exported() const { return exported_; }
  [[nodiscard]] std::size_t unexported() const { return unexported_; }
  // Series reserved by the exported measurements (at most max_series).
  [[nodiscard]] std::size_t reserved_series() const { return reserved_; }

  void observe(const MeasurementDefinition& d, const report::AtlasPingResult& result) override;
  void observe(const MeasurementDefinition& d,
               const report::AtlasTracerouteResult& result) override;

 private:
  enum ErrorKind : std::size_t { kSend, kIcmp, kRun, kErrorKinds };
  struct Series;
  struct Families;

  // The series of `d`, or null when it is not exported.
  Series* series_for(const MeasurementDefinition& d) const;
  std::unique_ptr<Series> make_series(const MeasurementDefinition& d,
                                      const prometheus::Labels& labels);
  // What every result counts: the result, and a run error if it says so.
  static void count_result(Series& s, const std::string& run_error);

  std::unique_ptr<Families> families_;
  std::vector<double> buckets_;
  std::vector<std::unique_ptr<Series>> series_;  // by definition index; null: not exported
  std::size_t exported_ = 0;
  std::size_t unexported_ = 0;
  std::size_t reserved_ = 0;
};

}  // namespace mtool::campaign
