// `mtool run --metrics`' series (campaign/run_metrics): what each result adds, in Prometheus'
// text format as a scrape reads it, and the bound on series.
#include "campaign/run_metrics.h"

#include <gtest/gtest.h>

#include <map>
#include <sstream>
#include <string>
#include <vector>

#include "metrics/bucket_layout.h"
#include "metrics/metrics_server.h"

namespace mtool::campaign {
namespace {

using Labels = std::map<std::string, std::string>;
using PingKind = report::AtlasPingPacket::Kind;
using HopKind = report::AtlasHopReply::Kind;

// One scrape: every sample as (name, labels) -> value.
class Scrape {
 public:
  // Through the exporter module, as a scrape serves it.
  explicit Scrape(const metrics::MetricsSource& metrics) {
    std::istringstream text(metrics::render_text(metrics));
    for (std::string line; std::getline(text, line);) {
      if (line.empty() || line[0] == '#') continue;
      const auto brace = line.find('{');
      const auto space = line.rfind(' ');
      Labels labels;
      std::string name = line.substr(0, std::min(brace, space));
      if (brace != std::string::npos) {
        // name{a="x",b="y"} value: the values hold no quote or comma in these tests.
        std::istringstream pairs(line.substr(brace + 1, line.rfind('}') - brace - 1));
        for (std::string pair; std::getline(pairs, pair, ',');) {
          const auto eq = pair.find('=');
          labels[pair.substr(0, eq)] = pair.substr(eq + 2, pair.size() - eq - 3);
        }
      }
      samples_[{name, labels}] = std::stod(line.substr(space + 1));
    }
  }
  // The sample's value; NaN when there is no such sample.
  [[nodiscard]] double operator()(const std::string& name, Labels labels) const {
    const auto it = samples_.find({name, labels});
    return it == samples_.end() ? std::nan("") : it->second;
  }
  [[nodiscard]] std::size_t count(const std::string& prefix) const {
    std::size_t n = 0;
    for (const auto& [key, value] : samples_) n += key.first.rfind(prefix, 0) == 0 ? 1 : 0;
    return n;
  }
  [[nodiscard]] std::size_t size() const { return samples_.size(); }

 private:
  std::map<std::pair<std::string, Labels>, double> samples_;
};

Labels with(Labels labels, const Labels& more) {
  labels.insert(more.begin(), more.end());
  return labels;
}

MeasurementDefinition ping_to(std::size_t index, const std::string& target) {
  MeasurementDefinition d;
  d.index = index;
  d.target = target;
  return d;
}

MeasurementDefinition trace_to(std::size_t index, const std::string& target) {
  MeasurementDefinition d = ping_to(index, target);
  d.type = MeasurementType::kTraceroute;
  d.traceroute.max_hops = 5;
  return d;
}

report::AtlasPingPacket reply(double rtt_ms, std::optional<double> corrected_ms = std::nullopt) {
  report::AtlasPingPacket p;
  p.kind = PingKind::kReply;
  p.rtt_ms = rtt_ms;
  if (corrected_ms)
    p.correction = report::AtlasCorrection{*corrected_ms, rtt_ms - *corrected_ms, false, {}};
  return p;
}

class RunMetricsTest : public ::testing::Test {
 protected:
  RunMetricsOptions options() const {
    RunMetricsOptions o;
    std::string error;
    o.buckets = *metrics::parse_buckets(metrics::kDefaultBuckets, error);
    o.vantage = {{"node", "a1"}};
    o.first_msm_id = 5000;
    return o;
  }
  const Labels ping_labels_{
      {"node", "a1"}, {"msm_id", "42"}, {"type", "ping"}, {"target", "198.18.0.2"}, {"af", "4"}};
  const Labels trace_labels_{{"node", "a1"},
                             {"msm_id", "5001"},
                             {"type", "traceroute"},
                             {"target", "198.18.0.9"},
                             {"af", "4"}};
};

TEST_F(RunMetricsTest, EverySeriesExistsAtZeroBeforeTheFirstResult) {
  MeasurementDefinition ping = ping_to(0, "198.18.0.2");
  ping.msm_id = 42;
  const RunMetrics metrics({ping, trace_to(1, "198.18.0.9")}, options());
  EXPECT_EQ(metrics.exported(), 2U);
  const Scrape scrape(metrics);
  for (const Labels& labels : {ping_labels_, trace_labels_}) {
    EXPECT_EQ(scrape("mtool_probes_sent_total", labels), 0);
    EXPECT_EQ(scrape("mtool_probe_replies_total", labels), 0);
    EXPECT_EQ(scrape("mtool_probe_errors_total", with(labels, {{"kind", "icmp"}})), 0);
    EXPECT_EQ(scrape("mtool_probe_rtt_seconds_count", labels), 0);
    EXPECT_EQ(scrape("mtool_probe_corrected_rtt_seconds_bucket", with(labels, {{"le", "+Inf"}})),
              0);
  }
  EXPECT_EQ(scrape("mtool_traceroute_hops", trace_labels_), 0);
  EXPECT_TRUE(std::isnan(scrape("mtool_traceroute_hops", ping_labels_)));
  EXPECT_EQ(scrape("mtool_metrics_unexported_measurements", {{"node", "a1"}}), 0);
  // What the bound reserved for them, and the gauge of unexported measurements.
  EXPECT_EQ(scrape.size(), metrics.reserved_series() + 1);
  for (const char* hop : {"1", "5"}) {
    EXPECT_EQ(scrape("mtool_traceroute_hop_replies_total", with(trace_labels_, {{"hop", hop}})), 0);
  }
}

TEST_F(RunMetricsTest, APingResultCountsAsItsAtlasResultSays) {
  MeasurementDefinition d = ping_to(0, "198.18.0.2");
  d.msm_id = 42;
  RunMetrics metrics({d}, options());
  report::AtlasPingResult r;
  r.sent = 6;
  report::AtlasPingPacket duplicate = reply(0.0040);
  duplicate.kind = PingKind::kDuplicate;
  report::AtlasPingPacket refused;
  refused.kind = PingKind::kError;
  refused.icmp_error = true;
  report::AtlasPingPacket unsent;
  unsent.kind = PingKind::kError;
  r.packets = {
      reply(0.0040, 0.0015),    duplicate, reply(0.0095, 0.0070), reply(0.2), refused, unsent,
      report::AtlasPingPacket{} /* lost */};
  metrics.observe(d, r);
  const Scrape scrape(metrics);
  EXPECT_EQ(scrape("mtool_results_total", ping_labels_), 1);
  EXPECT_EQ(scrape("mtool_probes_sent_total", ping_labels_), 6);
  EXPECT_EQ(scrape("mtool_probe_replies_total", ping_labels_), 3);
  EXPECT_EQ(scrape("mtool_probe_duplicates_total", ping_labels_), 1);
  EXPECT_EQ(scrape("mtool_probe_errors_total", with(ping_labels_, {{"kind", "icmp"}})), 1);
  EXPECT_EQ(scrape("mtool_probe_errors_total", with(ping_labels_, {{"kind", "send"}})), 1);
  EXPECT_EQ(scrape("mtool_probe_errors_total", with(ping_labels_, {{"kind", "run"}})), 0);
  EXPECT_EQ(scrape("mtool_probe_success", ping_labels_), 1);
  // Raw: 4 us and 9.5 us at or below 10 us, 200 us above; corrected: 1.5 us and 7 us.
  EXPECT_EQ(scrape("mtool_probe_rtt_seconds_count", ping_labels_), 3);
  EXPECT_EQ(scrape("mtool_probe_rtt_seconds_bucket", with(ping_labels_, {{"le", "1e-05"}})), 2);
  EXPECT_EQ(scrape("mtool_probe_rtt_seconds_bucket", with(ping_labels_, {{"le", "5.62e-06"}})), 1);
  EXPECT_NEAR(scrape("mtool_probe_rtt_seconds_sum", ping_labels_), 213.5e-6, 1e-12);
  EXPECT_EQ(scrape("mtool_probe_corrected_rtt_seconds_count", ping_labels_), 2);
  EXPECT_EQ(
      scrape("mtool_probe_corrected_rtt_seconds_bucket", with(ping_labels_, {{"le", "1.78e-06"}})),
      1);
  EXPECT_EQ(
      scrape("mtool_probe_corrected_rtt_seconds_bucket", with(ping_labels_, {{"le", "5.62e-06"}})),
      1);
  EXPECT_EQ(
      scrape("mtool_probe_corrected_rtt_seconds_bucket", with(ping_labels_, {{"le", "1e-05"}})), 2);

  // A later run with no reply: success goes to 0, the counters go on.
  report::AtlasPingResult lost;
  lost.sent = 1;
  lost.packets = {report::AtlasPingPacket{}};
  metrics.observe(d, lost);
  report::AtlasPingResult unresolved;
  unresolved.resolution_error = "name resolution failed";
  metrics.observe(d, unresolved);
  const Scrape later(metrics);
  EXPECT_EQ(later("mtool_results_total", ping_labels_), 3);
  EXPECT_EQ(later("mtool_probes_sent_total", ping_labels_), 7);
  EXPECT_EQ(later("mtool_probe_success", ping_labels_), 0);
  EXPECT_EQ(later("mtool_probe_errors_total", with(ping_labels_, {{"kind", "run"}})), 1);
}

TEST_F(RunMetricsTest, ATracerouteCountsEveryHopAndTimesItsTarget) {
  const MeasurementDefinition d = trace_to(1, "198.18.0.9");
  RunMetrics metrics({d}, options());
  report::AtlasTracerouteResult r;
  r.header.dst_addr = "198.18.0.9";
  auto hop_reply = [](const std::string& from, double rtt_ms) {
    report::AtlasHopReply h;
    h.kind = HopKind::kReply;
    h.from = from;
    h.rtt_ms = rtt_ms;
    return h;
  };
  report::AtlasHopReply timeout;
  report::AtlasHopReply unreachable = hop_reply("198.18.0.5", 0.5);
  unreachable.err = "H";
  report::AtlasHopReply target = hop_reply("198.18.0.9", 0.020);
  target.correction = report::AtlasCorrection{0.012, 0.008, false, {}};
  r.hops = {{1, {hop_reply("198.18.0.1", 0.010), timeout}},
            {2, {timeout, timeout}},
            {3, {unreachable, target}}};
  metrics.observe(d, r);
  const Scrape scrape(metrics);
  EXPECT_EQ(scrape("mtool_probes_sent_total", trace_labels_), 6);
  EXPECT_EQ(scrape("mtool_probe_replies_total", trace_labels_), 3);
  EXPECT_EQ(scrape("mtool_probe_errors_total", with(trace_labels_, {{"kind", "icmp"}})), 1);
  EXPECT_EQ(scrape("mtool_traceroute_hops", trace_labels_), 3);
  EXPECT_EQ(scrape("mtool_probe_success", trace_labels_), 1);
  EXPECT_EQ(scrape("mtool_traceroute_hop_replies_total", with(trace_labels_, {{"hop", "1"}})), 1);
  EXPECT_EQ(scrape("mtool_traceroute_hop_replies_total", with(trace_labels_, {{"hop", "3"}})), 2);
  EXPECT_EQ(scrape("mtool_traceroute_hop_replies_total", with(trace_labels_, {{"hop", "2"}})), 0);
  // Only the target's reply is its round-trip time.
  EXPECT_EQ(scrape("mtool_probe_rtt_seconds_count", trace_labels_), 1);
  EXPECT_NEAR(scrape("mtool_probe_rtt_seconds_sum", trace_labels_), 20e-6, 1e-12);
  EXPECT_NEAR(scrape("mtool_probe_corrected_rtt_seconds_sum", trace_labels_), 12e-6, 1e-12);
}

TEST_F(RunMetricsTest, MeasurementsPastTheBoundGetNoSeriesAndAreCounted) {
  RunMetricsOptions o = options();
  const MeasurementDefinition ping = ping_to(0, "198.18.0.2");
  const MeasurementDefinition trace = trace_to(1, "198.18.0.9");
  const std::size_t ping_series = RunMetrics::series_of(ping, o.buckets.size());
  EXPECT_EQ(ping_series, 2 * (29 + 3) + 8U);
  EXPECT_EQ(RunMetrics::series_of(trace, o.buckets.size()), ping_series + 1 + 5);
  // Room for two pings: the traceroute between them does not fit, the ping after it does.
  o.max_series = 2 * ping_series;
  RunMetrics metrics({ping, trace, ping_to(2, "198.18.0.3")}, o);
  EXPECT_EQ(metrics.exported(), 2U);
  EXPECT_EQ(metrics.unexported(), 1U);
  EXPECT_EQ(metrics.reserved_series(), 2 * ping_series);
  report::AtlasTracerouteResult r;
  r.hops = {{1, {report::AtlasHopReply{}}}};
  metrics.observe(trace, r);  // ignored: it has no series
  const Scrape scrape(metrics);
  EXPECT_EQ(scrape("mtool_metrics_unexported_measurements", {{"node", "a1"}}), 1);
  EXPECT_EQ(scrape.count("mtool_probes_sent_total"), 2U);
  EXPECT_EQ(scrape.count("mtool_traceroute"), 0U);
  EXPECT_LE(scrape.size() - 1, o.max_series);
}

}  // namespace
}  // namespace mtool::campaign
