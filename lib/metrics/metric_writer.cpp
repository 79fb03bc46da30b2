#include "metrics/metric_writer.h"

namespace mtool::metrics {

void MetricWriter::family(const char* name, const char* help, MetricType type) {
  sink_.family(sink_.self, name, help, static_cast<int>(type));
}

void MetricWriter::view(const Labels& labels) {
  labels_.clear();
  for (const Label& l : labels) labels_.push_back({l.name.c_str(), l.value.c_str()});
}

void MetricWriter::sample(const Labels& labels, double value) {
  view(labels);
  sink_.sample(sink_.self, labels_.data(), labels_.size(), value);
}

void MetricWriter::histogram(const Labels& labels, std::span<const HistogramBucket> buckets,
                             double sum) {
  view(labels);
  sink_.histogram(sink_.self, labels_.data(), labels_.size(), buckets.data(), buckets.size(), sum);
}

mtool_metric_source c_source(const MetricsSource& source) {
  return mtool_metric_source{
      const_cast<MetricsSource*>(&source),  // the C side's void*; collect() is const
      [](void* self, const mtool_metric_sink* sink) {
        try {
          MetricWriter writer(*sink);
          static_cast<const MetricsSource*>(self)->collect(writer);
        } catch (...) {
          // Nothing may unwind into the module. A family left without its samples would be
          // served as empty; say it failed instead, with a family of a type no sample matches.
          sink->family(sink->self, "", "", -1);
        }
      }};
}

}  // namespace mtool::metrics
