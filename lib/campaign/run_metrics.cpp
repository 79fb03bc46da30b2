#include "campaign/run_metrics.h"

#include <algorithm>
#include <array>
#include <limits>
#include <map>
#include <mutex>

#include "campaign/run_header.h"

namespace mtool::campaign {
namespace {

using prometheus::ClientMetric;
using prometheus::MetricFamily;
using prometheus::MetricType;
using Labels = std::vector<ClientMetric::Label>;

// Series per histogram beyond its bounds: the +Inf bucket, _sum and _count.
constexpr std::size_t kHistogramExtraSeries = 3;
// mtool_results_total, probes_sent, replies, duplicates, success and the error kinds.
constexpr std::size_t kPlainSeries = 5 + 3;
// mtool_traceroute_hops.
constexpr std::size_t kTracerouteSeries = 1;

constexpr double kSecondsPerMs = 1e-3;

enum ErrorKind : std::size_t { kSend, kIcmp, kRun, kErrorKinds };
const std::array<const char*, kErrorKinds> kErrorKindNames = {"send", "icmp", "run"};

// The families, in the order a scrape lists them.
enum Family : std::size_t {
  kRtt,
  kCorrected,
  kResults,
  kSent,
  kReplies,
  kDuplicates,
  kErrors,
  kSuccess,
  kHops,
  kHopReplies,
  kUnexported,
  kFamilies
};
struct FamilyDescription {
  const char* name;
  MetricType type;
  const char* help;
};
const std::array<FamilyDescription, kFamilies> kFamilyDescriptions = {{
    {"mtool_probe_rtt_seconds", MetricType::Histogram,
     "Round-trip time of each reply as measured: a ping's replies (not duplicates), a "
     "traceroute's replies from its target"},
    {"mtool_probe_corrected_rtt_seconds", MetricType::Histogram,
     "The same replies' round-trip time corrected for this host's virtual network by the "
     "correlator (replies it corrected)"},
    {"mtool_results_total", MetricType::Counter, "Atlas results written (one per run)"},
    {"mtool_probes_sent_total", MetricType::Counter,
     "Probes sent (a ping's echo requests; a traceroute's probes to every hop)"},
    {"mtool_probe_replies_total", MetricType::Counter,
     "Probes answered (a ping's first replies; a traceroute's answered probes at every hop)"},
    {"mtool_probe_duplicates_total", MetricType::Counter, "Duplicate replies to a ping"},
    {"mtool_probe_errors_total", MetricType::Counter,
     "Errors by kind: send (a probe could not be sent), icmp (an ICMP error answered a probe), "
     "run (a run could not start or go on)"},
    {"mtool_probe_success", MetricType::Gauge,
     "1 when the latest run had a reply from the target, else 0"},
    {"mtool_traceroute_hops", MetricType::Gauge,
     "The farthest hop that answered in the latest traceroute run (0: none)"},
    {"mtool_traceroute_hop_replies_total", MetricType::Counter,
     "Traceroute probes answered, per hop"},
    {"mtool_metrics_unexported_measurements", MetricType::Gauge,
     "Measurements of the list without series of their own (beyond --metrics-max-series); "
     "their results are still written"},
}};

// The hops a traceroute of `d` may report (first_hop..max_hops).
std::size_t hop_range(const MeasurementDefinition& d) {
  const TracerouteParameters& t = d.traceroute;
  return t.max_hops >= t.first_hop ? t.max_hops - t.first_hop + 1 : 0;
}

// `labels` (sorted by name) with one more, in its place.
Labels with(Labels labels, const char* name, std::string value) {
  ClientMetric::Label label{name, std::move(value)};
  labels.insert(std::upper_bound(labels.begin(), labels.end(), label), std::move(label));
  return labels;
}

ClientMetric counter(Labels labels, double value) {
  ClientMetric m;
  m.label = std::move(labels);
  m.counter.value = value;
  return m;
}

ClientMetric gauge(Labels labels, double value) {
  ClientMetric m;
  m.label = std::move(labels);
  m.gauge.value = value;
  return m;
}

// One histogram's observations: a count per bucket (the last: above every bound), their sum.
struct HistogramCounts {
  std::vector<std::uint64_t> buckets;
  double sum = 0;

  // Prometheus' `le`: a value on a bound belongs to that bound's bucket.
  void observe(const std::vector<double>& bounds, double value) {
    ++buckets[static_cast<std::size_t>(std::lower_bound(bounds.begin(), bounds.end(), value) -
                                       bounds.begin())];
    sum += value;
  }
  [[nodiscard]] ClientMetric metric(Labels labels, const std::vector<double>& bounds) const {
    ClientMetric m;
    m.label = std::move(labels);
    std::uint64_t cumulative = 0;
    for (std::size_t i = 0; i < buckets.size(); ++i) {
      cumulative += buckets[i];
      m.histogram.bucket.push_back(
          {cumulative, i < bounds.size() ? bounds[i] : std::numeric_limits<double>::infinity()});
    }
    m.histogram.sample_count = cumulative;
    m.histogram.sample_sum = sum;
    return m;
  }
};

}  // namespace

const std::set<std::string, std::less<>> RunMetrics::kOwnLabels = {"msm_id", "type", "target",
                                                                   "af",     "kind", "hop"};

// One measurement's counts.
struct RunMetrics::Counts {
  HistogramCounts rtt;
  HistogramCounts corrected;
  double results = 0, sent = 0, replies = 0, duplicates = 0;
  std::array<double, kErrorKinds> errors{};
  double success = 0;
  double hops = 0;                  // traceroutes only
  std::vector<double> hop_replies;  // by hop - first_hop
};

// One exported measurement: its labels, and its counts under its own lock.
struct RunMetrics::Measurement {
  Labels labels;  // sorted by name, the vantage point's included
  bool traceroute = false;
  unsigned first_hop = 1;
  mutable std::mutex mutex;
  Counts counts;
};

RunMetrics::RunMetrics(const std::vector<MeasurementDefinition>& definitions,
                       const RunMetricsOptions& options)
    : buckets_(options.buckets) {
  for (const auto& [name, value] : options.vantage) vantage_.push_back({name, value});
  std::size_t last_index = 0;
  for (const auto& d : definitions) last_index = std::max(last_index, d.index);
  by_index_.resize(definitions.empty() ? 0 : last_index + 1);
  const HeaderDefaults msm_ids{0, {}, options.first_msm_id};
  for (const auto& d : definitions) {
    const std::size_t needed = series_of(d, buckets_.size());
    if (needed > options.max_series - reserved_) {
      ++unexported_;
      continue;
    }
    reserved_ += needed;
    auto m = std::make_unique<Measurement>();
    std::map<std::string, std::string> labels(options.vantage.begin(), options.vantage.end());
    labels["msm_id"] = std::to_string(atlas_header(d, msm_ids, 0).msm_id);
    labels["type"] = d.type == MeasurementType::kPing ? "ping" : "traceroute";
    labels["target"] = d.target;
    labels["af"] = std::to_string(d.af);
    for (auto& [name, value] : labels) m->labels.push_back({name, value});
    m->traceroute = d.type == MeasurementType::kTraceroute;
    m->first_hop = d.traceroute.first_hop;
    m->counts.rtt.buckets.resize(buckets_.size() + 1);
    m->counts.corrected.buckets.resize(buckets_.size() + 1);
    if (m->traceroute) m->counts.hop_replies.resize(hop_range(d));
    exported_.push_back(m.get());
    by_index_[d.index] = std::move(m);
  }
}

RunMetrics::~RunMetrics() = default;

std::size_t RunMetrics::series_of(const MeasurementDefinition& d, std::size_t buckets) {
  const std::size_t common = 2 * (buckets + kHistogramExtraSeries) + kPlainSeries;
  if (d.type == MeasurementType::kPing) return common;
  return common + kTracerouteSeries + hop_range(d);
}

RunMetrics::Measurement* RunMetrics::measurement_of(const MeasurementDefinition& d) const {
  return d.index < by_index_.size() ? by_index_[d.index].get() : nullptr;
}

template <typename CountResult>
void RunMetrics::record(const MeasurementDefinition& d, const std::string& run_error,
                        CountResult&& count) {
  Measurement* m = measurement_of(d);
  if (m == nullptr) return;
  const std::lock_guard<std::mutex> lock(m->mutex);
  ++m->counts.results;
  if (!run_error.empty()) ++m->counts.errors[kRun];
  count(*m, m->counts);
}

void RunMetrics::observe(const MeasurementDefinition& d, const report::AtlasPingResult& result) {
  record(d, result.resolution_error, [&](const Measurement&, Counts& c) { count_ping(result, c); });
}

void RunMetrics::observe(const MeasurementDefinition& d,
                         const report::AtlasTracerouteResult& result) {
  record(d, result.resolution_error,
         [&](const Measurement& m, Counts& c) { count_traceroute(result, m.first_hop, c); });
}

void RunMetrics::count_ping(const report::AtlasPingResult& result, Counts& c) const {
  c.sent += result.sent;
  unsigned replies = 0;
  for (const report::AtlasPingPacket& p : result.packets) {
    switch (p.kind) {
      case report::AtlasPingPacket::Kind::kReply:
        ++replies;
        c.rtt.observe(buckets_, p.rtt_ms * kSecondsPerMs);
        if (p.correction && !p.correction->inside_host)
          c.corrected.observe(buckets_, p.correction->corrected_ms * kSecondsPerMs);
        break;
      case report::AtlasPingPacket::Kind::kDuplicate:
        ++c.duplicates;
        break;
      case report::AtlasPingPacket::Kind::kError:
        ++c.errors[p.icmp_error ? kIcmp : kSend];
        break;
      case report::AtlasPingPacket::Kind::kLost:
        break;
    }
  }
  c.replies += replies;
  c.success = replies > 0 ? 1 : 0;
}

void RunMetrics::count_traceroute(const report::AtlasTracerouteResult& result, unsigned first_hop,
                                  Counts& c) const {
  unsigned farthest = 0;
  bool target_answered = false;
  for (const report::AtlasHop& hop : result.hops) {
    unsigned answered = 0;
    for (const report::AtlasHopReply& reply : hop.replies) {
      ++c.sent;
      if (reply.kind == report::AtlasHopReply::Kind::kError) {
        ++c.errors[kSend];
        continue;
      }
      if (reply.kind != report::AtlasHopReply::Kind::kReply) continue;
      ++answered;
      if (!reply.err.is_null()) ++c.errors[kIcmp];
      if (reply.from != result.header.dst_addr) continue;
      target_answered = true;
      c.rtt.observe(buckets_, reply.rtt_ms * kSecondsPerMs);
      if (reply.correction && !reply.correction->inside_host)
        c.corrected.observe(buckets_, reply.correction->corrected_ms * kSecondsPerMs);
    }
    if (answered == 0) continue;
    c.replies += answered;
    farthest = std::max(farthest, hop.hop);
    const std::size_t slot = hop.hop - first_hop;
    if (hop.hop >= first_hop && slot < c.hop_replies.size()) c.hop_replies[slot] += answered;
  }
  c.success = target_answered ? 1 : 0;
  c.hops = farthest;
}

std::vector<MetricFamily> RunMetrics::Collect() const {
  std::vector<MetricFamily> families(kFamilies);
  for (std::size_t f = 0; f < kFamilies; ++f) {
    families[f].name = kFamilyDescriptions[f].name;
    families[f].help = kFamilyDescriptions[f].help;
    families[f].type = kFamilyDescriptions[f].type;
  }
  for (const Measurement* m : exported_) {
    Counts c;
    {
      const std::lock_guard<std::mutex> lock(m->mutex);
      c = m->counts;
    }
    const Labels& labels = m->labels;
    families[kRtt].metric.push_back(c.rtt.metric(labels, buckets_));
    families[kCorrected].metric.push_back(c.corrected.metric(labels, buckets_));
    families[kResults].metric.push_back(counter(labels, c.results));
    families[kSent].metric.push_back(counter(labels, c.sent));
    families[kReplies].metric.push_back(counter(labels, c.replies));
    families[kDuplicates].metric.push_back(counter(labels, c.duplicates));
    for (std::size_t kind = 0; kind < kErrorKinds; ++kind) {
      families[kErrors].metric.push_back(
          counter(with(labels, "kind", kErrorKindNames[kind]), c.errors[kind]));
    }
    families[kSuccess].metric.push_back(gauge(labels, c.success));
    if (!m->traceroute) continue;
    families[kHops].metric.push_back(gauge(labels, c.hops));
    for (std::size_t slot = 0; slot < c.hop_replies.size(); ++slot) {
      families[kHopReplies].metric.push_back(
          counter(with(labels, "hop", std::to_string(m->first_hop + slot)), c.hop_replies[slot]));
    }
  }
  families[kUnexported].metric.push_back(gauge(vantage_, static_cast<double>(unexported_)));
  std::erase_if(families, [](const MetricFamily& f) { return f.metric.empty(); });
  return families;
}

}  // namespace mtool::campaign
