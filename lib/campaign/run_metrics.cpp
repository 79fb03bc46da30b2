#include "campaign/run_metrics.h"

#include <algorithm>
#include <array>
#include <limits>
#include <map>
#include <mutex>

#include "campaign/run_header.h"

namespace mtool::campaign {
namespace {

using metrics::Label;
using metrics::Labels;
using metrics::MetricType;

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
    {"mtool_probe_rtt_seconds", MetricType::kHistogram,
     "Round-trip time of each reply as measured: a ping's replies (not duplicates), a "
     "traceroute's replies from its target"},
    {"mtool_probe_corrected_rtt_seconds", MetricType::kHistogram,
     "The same replies' round-trip time corrected for this host's virtual network by the "
     "correlator (replies it corrected)"},
    {"mtool_results_total", MetricType::kCounter, "Atlas results written (one per run)"},
    {"mtool_probes_sent_total", MetricType::kCounter,
     "Probes sent (a ping's echo requests; a traceroute's probes to every hop)"},
    {"mtool_probe_replies_total", MetricType::kCounter,
     "Probes answered (a ping's first replies; a traceroute's answered probes at every hop)"},
    {"mtool_probe_duplicates_total", MetricType::kCounter, "Duplicate replies to a ping"},
    {"mtool_probe_errors_total", MetricType::kCounter,
     "Errors by kind: send (a probe could not be sent), icmp (an ICMP error answered a probe), "
     "run (a run could not start or go on)"},
    {"mtool_probe_success", MetricType::kGauge,
     "1 when the latest run had a reply from the target, else 0"},
    {"mtool_traceroute_hops", MetricType::kGauge,
     "The farthest hop that answered in the latest traceroute run (0: none)"},
    {"mtool_traceroute_hop_replies_total", MetricType::kCounter,
     "Traceroute probes answered, per hop"},
    {"mtool_metrics_unexported_measurements", MetricType::kGauge,
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
  Label label{name, std::move(value)};
  labels.insert(std::upper_bound(labels.begin(), labels.end(), label), std::move(label));
  return labels;
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
  // Written as Prometheus has it: cumulative, ending with +Inf.
  void write(metrics::MetricWriter& out, const Labels& labels,
             const std::vector<double>& bounds) const {
    std::vector<metrics::HistogramBucket> cumulative(buckets.size());
    std::uint64_t count = 0;
    for (std::size_t i = 0; i < buckets.size(); ++i) {
      count += buckets[i];
      cumulative[i] = {i < bounds.size() ? bounds[i] : std::numeric_limits<double>::infinity(),
                       count};
    }
    out.histogram(labels, cumulative, sum);
  }
};

}  // namespace

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
    labels["msm_id"] = std::to_string(atlas_header(d, msm_ids, WallNs{}).msm_id);
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

void RunMetrics::collect(metrics::MetricWriter& out) const {
  // Each measurement copied once, under its lock: the scrape sees it whole.
  std::vector<Counts> counts;
  counts.reserve(exported_.size());
  for (const Measurement* m : exported_) {
    const std::lock_guard<std::mutex> lock(m->mutex);
    counts.push_back(m->counts);
  }
  const bool any_traceroute = std::any_of(exported_.begin(), exported_.end(),
                                          [](const Measurement* m) { return m->traceroute; });
  // Family `f` (left out when it would have no sample), then `write(measurement, counts)` for
  // each exported measurement (traceroutes only, for a traceroute's family).
  const auto family = [&](Family f, bool traceroutes_only, const auto& write) {
    if (exported_.empty() || (traceroutes_only && !any_traceroute)) return;
    const FamilyDescription& d = kFamilyDescriptions[f];
    out.family(d.name, d.help, d.type);
    for (std::size_t i = 0; i < exported_.size(); ++i) {
      if (!traceroutes_only || exported_[i]->traceroute) write(*exported_[i], counts[i]);
    }
  };
  const auto plain = [&](Family f, double Counts::*field) {
    family(f, false,
           [&](const Measurement& m, const Counts& c) { out.sample(m.labels, c.*field); });
  };
  family(kRtt, false,
         [&](const Measurement& m, const Counts& c) { c.rtt.write(out, m.labels, buckets_); });
  family(kCorrected, false, [&](const Measurement& m, const Counts& c) {
    c.corrected.write(out, m.labels, buckets_);
  });
  plain(kResults, &Counts::results);
  plain(kSent, &Counts::sent);
  plain(kReplies, &Counts::replies);
  plain(kDuplicates, &Counts::duplicates);
  family(kErrors, false, [&](const Measurement& m, const Counts& c) {
    for (std::size_t kind = 0; kind < kErrorKinds; ++kind)
      out.sample(with(m.labels, "kind", kErrorKindNames[kind]), c.errors[kind]);
  });
  plain(kSuccess, &Counts::success);
  family(kHops, true, [&](const Measurement& m, const Counts& c) { out.sample(m.labels, c.hops); });
  family(kHopReplies, true, [&](const Measurement& m, const Counts& c) {
    for (std::size_t slot = 0; slot < c.hop_replies.size(); ++slot)
      out.sample(with(m.labels, "hop", std::to_string(m.first_hop + slot)), c.hop_replies[slot]);
  });
  const FamilyDescription& unexported = kFamilyDescriptions[kUnexported];
  out.family(unexported.name, unexported.help, unexported.type);
  out.sample(vantage_, static_cast<double>(unexported_));
}

}  // namespace mtool::campaign
