#include "campaign/run_metrics.h"

#include <algorithm>

#include "campaign/run_header.h"

namespace mtool::campaign {
namespace {

// Series per histogram beyond its bounds: the +Inf bucket, _sum and _count.
constexpr std::size_t kHistogramExtraSeries = 3;
// mtool_results_total, probes_sent, replies, duplicates, success and the error kinds.
constexpr std::size_t kPlainSeries = 5 + 3;
// mtool_traceroute_hops.
constexpr std::size_t kTracerouteSeries = 1;

constexpr double kSecondsPerMs = 1e-3;

const char* const kErrorKindNames[] = {"send", "icmp", "run"};

// The hops a traceroute of `d` may report (first_hop..max_hops).
std::size_t hop_range(const MeasurementDefinition& d) {
  const TracerouteParameters& t = d.traceroute;
  return t.max_hops >= t.first_hop ? t.max_hops - t.first_hop + 1 : 0;
}

prometheus::Labels with(prometheus::Labels labels, const char* name, std::string value) {
  labels.emplace(name, std::move(value));
  return labels;
}

}  // namespace

const std::set<std::string, std::less<>> RunMetrics::kOwnLabels = {"msm_id", "type", "target",
                                                                   "af",     "kind", "hop"};

struct RunMetrics::Families {
  Families(prometheus::Registry& r, const metrics::LabelMap& vantage)
      : rtt(prometheus::BuildHistogram()
                .Name("mtool_probe_rtt_seconds")
                .Help("Round-trip time of each reply as measured: a ping's replies (not "
                      "duplicates), a traceroute's replies from its target")
                .Labels(vantage)
                .Register(r)),
        corrected(prometheus::BuildHistogram()
                      .Name("mtool_probe_corrected_rtt_seconds")
                      .Help("The same replies' round-trip time corrected for this host's virtual "
                            "network by the correlator (replies it corrected)")
                      .Labels(vantage)
                      .Register(r)),
        results(prometheus::BuildCounter()
                    .Name("mtool_results_total")
                    .Help("Atlas results written (one per run)")
                    .Labels(vantage)
                    .Register(r)),
        sent(prometheus::BuildCounter()
                 .Name("mtool_probes_sent_total")
                 .Help("Probes sent (a ping's echo requests; a traceroute's probes to every hop)")
                 .Labels(vantage)
                 .Register(r)),
        replies(prometheus::BuildCounter()
                    .Name("mtool_probe_replies_total")
                    .Help("Probes answered (a ping's first replies; a traceroute's answered "
                          "probes at every hop)")
                    .Labels(vantage)
                    .Register(r)),
        duplicates(prometheus::BuildCounter()
                       .Name("mtool_probe_duplicates_total")
                       .Help("Duplicate replies to a ping")
                       .Labels(vantage)
                       .Register(r)),
        errors(prometheus::BuildCounter()
                   .Name("mtool_probe_errors_total")
                   .Help("Errors by kind: send (a probe could not be sent), icmp (an ICMP error "
                         "answered a probe), run (a run could not start or go on)")
                   .Labels(vantage)
                   .Register(r)),
        success(prometheus::BuildGauge()
                    .Name("mtool_probe_success")
                    .Help("1 when the latest run had a reply from the target, else 0")
                    .Labels(vantage)
                    .Register(r)),
        hops(prometheus::BuildGauge()
                 .Name("mtool_traceroute_hops")
                 .Help("The farthest hop that answered in the latest traceroute run (0: none)")
                 .Labels(vantage)
                 .Register(r)),
        hop_replies(prometheus::BuildCounter()
                        .Name("mtool_traceroute_hop_replies_total")
                        .Help("Traceroute probes answered, per hop")
                        .Labels(vantage)
                        .Register(r)),
        unexported(prometheus::BuildGauge()
                       .Name("mtool_metrics_unexported_measurements")
                       .Help("Measurements of the list without series of their own (beyond "
                             "--metrics-max-series); their results are still written")
                       .Labels(vantage)
                       .Register(r)) {}

  prometheus::Family<prometheus::Histogram>& rtt;
  prometheus::Family<prometheus::Histogram>& corrected;
  prometheus::Family<prometheus::Counter>& results;
  prometheus::Family<prometheus::Counter>& sent;
  prometheus::Family<prometheus::Counter>& replies;
  prometheus::Family<prometheus::Counter>& duplicates;
  prometheus::Family<prometheus::Counter>& errors;
  prometheus::Family<prometheus::Gauge>& success;
  prometheus::Family<prometheus::Gauge>& hops;
  prometheus::Family<prometheus::Counter>& hop_replies;
  prometheus::Family<prometheus::Gauge>& unexported;
};

// One measurement's series.
struct RunMetrics::Series {
  prometheus::Histogram* rtt = nullptr;
  prometheus::Histogram* corrected = nullptr;
  prometheus::Counter* results = nullptr;
  prometheus::Counter* sent = nullptr;
  prometheus::Counter* replies = nullptr;
  prometheus::Counter* duplicates = nullptr;
  std::array<prometheus::Counter*, kErrorKinds> errors{};
  prometheus::Gauge* success = nullptr;
  prometheus::Gauge* hops = nullptr;  // traceroutes only
  unsigned first_hop = 1;
  std::vector<prometheus::Counter*> hop_replies;  // by hop - first_hop
};

RunMetrics::RunMetrics(prometheus::Registry& registry,
                       const std::vector<MeasurementDefinition>& definitions,
                       const RunMetricsOptions& options)
    : families_(std::make_unique<Families>(registry, options.vantage)), buckets_(options.buckets) {
  std::size_t last_index = 0;
  for (const auto& d : definitions) last_index = std::max(last_index, d.index);
  series_.resize(definitions.empty() ? 0 : last_index + 1);
  const HeaderDefaults msm_ids{0, {}, options.first_msm_id};
  for (const auto& d : definitions) {
    const std::size_t needed = series_of(d, buckets_.size());
    if (needed > options.max_series - reserved_) {
      ++unexported_;
      continue;
    }
    reserved_ += needed;
    ++exported_;
    const prometheus::Labels labels = {
        {"msm_id", std::to_string(atlas_header(d, msm_ids, 0).msm_id)},
        {"type", d.type == MeasurementType::kPing ? "ping" : "traceroute"},
        {"target", d.target},
        {"af", std::to_string(d.af)}};
    series_[d.index] = make_series(d, labels);
  }
  families_->unexported.Add({}).Set(static_cast<double>(unexported_));
}

RunMetrics::~RunMetrics() = default;

std::unique_ptr<RunMetrics::Series> RunMetrics::make_series(const MeasurementDefinition& d,
                                                            const prometheus::Labels& labels) {
  auto s = std::make_unique<Series>();
  s->rtt = &families_->rtt.Add(labels, buckets_);
  s->corrected = &families_->corrected.Add(labels, buckets_);
  s->results = &families_->results.Add(labels);
  s->sent = &families_->sent.Add(labels);
  s->replies = &families_->replies.Add(labels);
  s->duplicates = &families_->duplicates.Add(labels);
  for (std::size_t kind = 0; kind < kErrorKinds; ++kind) {
    s->errors[kind] = &families_->errors.Add(with(labels, "kind", kErrorKindNames[kind]));
  }
  s->success = &families_->success.Add(labels);
  if (d.type == MeasurementType::kTraceroute) {
    s->hops = &families_->hops.Add(labels);
    s->first_hop = d.traceroute.first_hop;
    for (std::size_t hop = s->first_hop; hop < s->first_hop + hop_range(d); ++hop) {
      s->hop_replies.push_back(
          &families_->hop_replies.Add(with(labels, "hop", std::to_string(hop))));
    }
  }
  return s;
}

std::size_t RunMetrics::series_of(const MeasurementDefinition& d, std::size_t buckets) {
  const std::size_t common = 2 * (buckets + kHistogramExtraSeries) + kPlainSeries;
  if (d.type == MeasurementType::kPing) return common;
  return common + kTracerouteSeries + hop_range(d);
}

RunMetrics::Series* RunMetrics::series_for(const MeasurementDefinition& d) const {
  return d.index < series_.size() ? series_[d.index].get() : nullptr;
}

void RunMetrics::count_result(Series& s, const std::string& run_error) {
  s.results->Increment();
  if (!run_error.empty()) s.errors[kRun]->Increment();
}

void RunMetrics::observe(const MeasurementDefinition& d, const report::AtlasPingResult& result) {
  Series* s = series_for(d);
  if (s == nullptr) return;
  count_result(*s, result.resolution_error);
  s->sent->Increment(result.sent);
  unsigned replies = 0;
  for (const report::AtlasPingPacket& p : result.packets) {
    switch (p.kind) {
      case report::AtlasPingPacket::Kind::kReply:
        ++replies;
        s->rtt->Observe(p.rtt_ms * kSecondsPerMs);
        if (p.correction && !p.correction->inside_host)
          s->corrected->Observe(p.correction->corrected_ms * kSecondsPerMs);
        break;
      case report::AtlasPingPacket::Kind::kDuplicate:
        s->duplicates->Increment();
        break;
      case report::AtlasPingPacket::Kind::kError:
        s->errors[p.icmp_error ? kIcmp : kSend]->Increment();
        break;
      case report::AtlasPingPacket::Kind::kLost:
        break;
    }
  }
  s->replies->Increment(replies);
  s->success->Set(replies > 0 ? 1 : 0);
}

void RunMetrics::observe(const MeasurementDefinition& d,
                         const report::AtlasTracerouteResult& result) {
  Series* s = series_for(d);
  if (s == nullptr) return;
  count_result(*s, result.resolution_error);
  std::size_t sent = 0;
  std::size_t replies = 0;
  unsigned farthest = 0;
  bool target_answered = false;
  for (const report::AtlasHop& hop : result.hops) {
    std::size_t answered = 0;
    for (const report::AtlasHopReply& reply : hop.replies) {
      ++sent;
      if (reply.kind == report::AtlasHopReply::Kind::kError) {
        s->errors[kSend]->Increment();
        continue;
      }
      if (reply.kind != report::AtlasHopReply::Kind::kReply) continue;
      ++answered;
      if (!reply.err.is_null()) s->errors[kIcmp]->Increment();
      if (reply.from != result.header.dst_addr) continue;
      target_answered = true;
      s->rtt->Observe(reply.rtt_ms * kSecondsPerMs);
      if (reply.correction && !reply.correction->inside_host)
        s->corrected->Observe(reply.correction->corrected_ms * kSecondsPerMs);
    }
    if (answered == 0) continue;
    replies += answered;
    farthest = std::max(farthest, hop.hop);
    const std::size_t slot = hop.hop - s->first_hop;
    if (hop.hop >= s->first_hop && slot < s->hop_replies.size())
      s->hop_replies[slot]->Increment(static_cast<double>(answered));
  }
  s->sent->Increment(static_cast<double>(sent));
  s->replies->Increment(static_cast<double>(replies));
  s->success->Set(target_answered ? 1 : 0);
  s->hops->Set(farthest);
}

}  // namespace mtool::campaign
