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
//
// A MetricsSource of its own rather than prometheus-cpp's Family objects: a measurement's
// counts are one small struct (a few hundred bytes, made in microseconds, where the library's
// ten families of labelled objects took about 10 KB and 30 us each), recorded under that
// measurement's own lock and copied under it when scraped, so a scrape sees each measurement
// whole and never holds up the probe loop for longer than one copy. The library still does the
// exposition (its data model, text format, escaping and HTTP), in the exporter module.

#include <array>
#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "campaign/measurement_list.h"
#include "campaign/result_observer.h"
#include "metrics/labels.h"
#include "metrics/metric_writer.h"

namespace mtool::campaign {

struct RunMetricsOptions {
  std::vector<double> buckets;           // upper bounds in seconds (metrics/bucket_layout)
  metrics::LabelMap vantage;             // --label: on every series
  std::size_t max_series = 100000;       // --metrics-max-series
  std::uint32_t first_msm_id = 1000000;  // msm_id of a definition without one: this + index
};

class RunMetrics final : public ResultObserver, public metrics::MetricsSource {
 public:
  // The label names the series set themselves, which --label may not use.
  static constexpr std::array<std::string_view, 6> kOwnLabels = {"msm_id", "type", "target",
                                                                 "af",     "kind", "hop"};

  // Every exported measurement's series, all at zero (a series that appeared with its first
  // result would hide that result from rate()). `definitions` as the runner gets them.
  RunMetrics(const std::vector<MeasurementDefinition>& definitions,
             const RunMetricsOptions& options);
  ~RunMetrics() override;
  RunMetrics(const RunMetrics&) = delete;
  RunMetrics& operator=(const RunMetrics&) = delete;

  // The most series a definition of `d`'s kind makes with `buckets` bounds per histogram.
  static std::size_t series_of(const MeasurementDefinition& d, std::size_t buckets);

  [[nodiscard]] std::size_t exported() const { return exported_.size(); }
  [[nodiscard]] std::size_t unexported() const { return unexported_; }
  // Series reserved by the exported measurements (at most max_series).
  [[nodiscard]] std::size_t reserved_series() const { return reserved_; }

  void observe(const MeasurementDefinition& d, const report::AtlasPingResult& result) override;
  void observe(const MeasurementDefinition& d,
               const report::AtlasTracerouteResult& result) override;

  // A scrape (from the metrics server's threads).
  void collect(metrics::MetricWriter& out) const override;

 private:
  struct Counts;
  struct Measurement;

  // The measurement of `d`, or null when it is not exported.
  [[nodiscard]] Measurement* measurement_of(const MeasurementDefinition& d) const;
  // Under the lock of `d`'s measurement (if exported): the result and its run error counted,
  // then count(measurement, counts) for the rest.
  template <typename CountResult>
  void record(const MeasurementDefinition& d, const std::string& run_error, CountResult&& count);
  void count_ping(const report::AtlasPingResult& result, Counts& c) const;
  void count_traceroute(const report::AtlasTracerouteResult& result, unsigned first_hop,
                        Counts& c) const;

  std::vector<double> buckets_;
  metrics::Labels vantage_;
  std::vector<std::unique_ptr<Measurement>> by_index_;  // by definition index; null: not exported
  std::vector<const Measurement*> exported_;            // in list order
  std::size_t unexported_ = 0;
  std::size_t reserved_ = 0;
};

}  // namespace mtool::campaign
