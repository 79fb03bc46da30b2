#pragma once
// What a metrics endpoint serves, as mtool's code writes it: a MetricsSource describes every
// family and sample of one scrape to a MetricWriter, which hands them to the exporter module
// through its C interface (modules/exporter_abi.h): strings as C strings, labels and buckets as
// plain arrays, nothing of the module's C++ runtime.
#include <cstdint>
#include <span>
#include <string>
#include <vector>

#include "modules/exporter_abi.h"

namespace mtool::metrics {

struct Label {
  std::string name;
  std::string value;
  auto operator<=>(const Label&) const = default;
};
using Labels = std::vector<Label>;

enum class MetricType {
  kCounter = MTOOL_METRIC_COUNTER,
  kGauge = MTOOL_METRIC_GAUGE,
  kHistogram = MTOOL_METRIC_HISTOGRAM
};

// One bucket: upper bound (le; +infinity for the last) and the count at or below it.
using HistogramBucket = mtool_metric_bucket;

class MetricWriter {
 public:
  explicit MetricWriter(const mtool_metric_sink& sink) : sink_(sink) {}

  // Starts a family; the samples that follow belong to it.
  void family(const char* name, const char* help, MetricType type);
  // A counter's or gauge's sample.
  void sample(const Labels& labels, double value);
  // A histogram's sample: cumulative buckets ending with +Inf, and the sum of the observations.
  void histogram(const Labels& labels, std::span<const HistogramBucket> buckets, double sum);

 private:
  const mtool_metric_sink& sink_;
  std::vector<mtool_metric_label> labels_;  // reused: the C view of a sample's labels
  void view(const Labels& labels);
};

// What an endpoint serves. collect() runs on the exporter's HTTP threads, possibly two at once:
// it must be safe against the measuring thread and itself.
class MetricsSource {
 public:
  virtual ~MetricsSource() = default;
  virtual void collect(MetricWriter& out) const = 0;
};

// `source` as the C interface calls it; collect's exceptions stop there (the scrape is then
// empty: the module sees an unfinished family set as failed).
[[nodiscard]] mtool_metric_source c_source(const MetricsSource& source);

}  // namespace mtool::metrics
