// `mtool run --metrics` scraped by a real Prometheus (Debian's, started here on loopback with a
// scrape config written here) on the testbed (instance 29), with the correlator on the host:
// the counters equal what the same run's Atlas results say, histogram_quantile(0.5) of the
// corrected RTT falls in the bucket that holds the results' median, every query of the Grafana
// dashboard the chart ships parses and returns data, the server's threads hold no capability,
// it listens only where asked and keeps serving until SIGTERM. Root only; the testbed comes up
// once per suite and goes down after it; Prometheus, the campaign, the correlator and
// temporary files go at the end of each test, also when it fails.
#include <dirent.h>
#include <gtest/gtest.h>
#include <signal.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdlib>
#include <ctime>
#include <fstream>
#include <map>
#include <nlohmann/json.hpp>
#include <regex>
#include <string>
#include <vector>

#include "campaign_testbed.h"
#include "dashboard_picture.h"
#include "harness.h"
#include "processes.h"
#include "prometheus_server.h"

namespace mtool::testing {
namespace {

using nlohmann::json;
using std::chrono::milliseconds;

constexpr int kTestbedIndex = 29;
// The vantage point's label, given to `mtool run --label` and to the correlator's scrape job, as
// the chart's PodMonitor gives both the node's name.
constexpr const char* kNode = "testbed29";
constexpr const char* kScrapeInterval = "500ms";
constexpr int kPort = 9101;  // `mtool run --metrics` in the container
// What the dashboard's variables become: $__rate_interval spans the whole test.
const std::map<std::string, std::string> kDashboardVariables = {
    {"$__rate_interval", "1m"}, {"$node", kNode}, {"$target", ".*"}};

// The list's measurements (write_list), one result each.
constexpr std::size_t kResults = 6;
// The dashboard's panels in the README's picture.
const std::vector<std::string> kPicturedPanels = {
    "RTT quantiles: raw vs corrected",
    "Egress and ingress overhead per node and container (median)", "Wire RTT per node (median)",
    "Probes and replies"};

// `mtool correlator --metrics` is scraped too (the dashboard's mtool_correlator_* panels must
// return data). Off only to look at the prober alone.
constexpr bool kCorrelatorMetrics = true;

// Every sample of a query's answer: its labels and value.
struct Sample {
  std::map<std::string, std::string> labels;
  double value = std::nan("");
};

std::vector<Sample> samples(const json& answer) {
  std::vector<Sample> out;
  if (answer.value("status", "") != "success") return out;
  for (const json& r : answer["data"]["result"]) {
    Sample s;
    for (const auto& [name, value] : r["metric"].items()) s.labels[name] = value.get<std::string>();
    s.value = std::stod(r["value"][1].get<std::string>());  // "NaN" and "+Inf" included
    out.push_back(std::move(s));
  }
  return out;
}

// The index of the bucket holding `value` among `bounds` (ascending upper bounds, `le`): the
// first bound at or above it; bounds.size() for the +Inf bucket.
std::size_t bucket_of(double value, const std::vector<double>& bounds) {
  return static_cast<std::size_t>(std::lower_bound(bounds.begin(), bounds.end(), value) -
                                  bounds.begin());
}

// The value histogram_quantile(0.5) ranks at: the ceil(n/2)-th smallest (for an odd count the
// median; for an even one the lower median).
double rank_median(std::vector<double> values) {
  std::sort(values.begin(), values.end());
  return values[(values.size() + 1) / 2 - 1];
}

// Every thread's CapPrm and CapEff lines of a process, or "" when it is gone.
std::vector<std::string> thread_capabilities(pid_t pid) {
  std::vector<std::string> sets;
  const std::string tasks = "/proc/" + std::to_string(pid) + "/task";
  DIR* dir = opendir(tasks.c_str());
  if (dir == nullptr) return sets;
  while (const dirent* entry = readdir(dir)) {
    if (entry->d_name[0] == '.') continue;
    std::string set;
    for (const std::string& line : lines_of(slurp(tasks + "/" + entry->d_name + "/status"))) {
      if (line.rfind("CapPrm:", 0) == 0 || line.rfind("CapEff:", 0) == 0) set += line + " ";
    }
    sets.push_back(set);
  }
  closedir(dir);
  return sets;
}

class ProberMetrics : public CampaignTestbed<ProberMetrics> {
 public:
  static CampaignTestbedSetup testbed() {
    return {kTestbedIndex,
            "",
            {"TESTBED_CONTAINER_NS", "TESTBED_CONTAINER_ADDR", "TESTBED_TARGET", "TESTBED_TARGET6",
             "TESTBED_UPLINK"},
            "mtool-metrics-test"};
  }

 protected:
  void TearDown() override {
    campaign_.reset();
    prometheus_.reset();
    CampaignTestbed::TearDown();
  }
  // The suite's correlator; with kCorrelatorMetrics, serving its metrics on the host's loopback
  // at correlator_metrics_port_, with run-time statistics on (the dashboard's cost panel).
  ::testing::AssertionResult start_correlator_with_metrics() {
    if (!kCorrelatorMetrics) return start_correlator();
    correlator_metrics_port_ = free_loopback_port();
    return start_correlator("--stats --metrics 127.0.0.1:" +
                            std::to_string(correlator_metrics_port_));
  }
  // The list: pings in both families, one to a name that does not resolve, and a UDP traceroute
  // (no raw socket, so the campaign keeps no capability). They start a few seconds from now, so
  // that Prometheus scrapes every series at zero before the first result. Two more pings of
  // the first target 3 and 6 s later: the series of every vantage point's target and the
  // correlator's histograms then grow while scraped, so the dashboard's rates have values.
  std::string write_list() const {
    const long start = static_cast<long>(std::time(nullptr)) + 3;
    const std::string when = R"(, "start_time": )" + std::to_string(start) + "}";
    const auto later = [&](int msm_id, int seconds) {
      return R"({"type": "ping", "af": 4, "target": ")" + bed_.at("TESTBED_TARGET") +
             R"(", "packets": 10, "packet_interval": 100, "msm_id": )" + std::to_string(msm_id) +
             R"(, "start_time": )" + std::to_string(start + seconds) + "}\n";
    };
    const std::string path = dir_ + "/list.jsonl";
    std::ofstream(path)
        << R"({"type": "ping", "af": 4, "target": ")" << bed_["TESTBED_TARGET"]
        << R"(", "packets": 15, "packet_interval": 20, "msm_id": 100)" << when << "\n"
        << R"({"type": "ping", "af": 6, "target": ")" << bed_["TESTBED_TARGET6"]
        << R"(", "packets": 5, "packet_interval": 20, "msm_id": 101)" << when << "\n"
        << R"({"type": "ping", "af": 4, "target": "no-such-host.invalid", "packets": 1, "msm_id": 102)"
        << when << "\n"
        << R"({"type": "traceroute", "af": 4, "target": ")" << bed_["TESTBED_TARGET"]
        << R"(", "protocol": "UDP", "packets": 2, "max_hops": 4, "msm_id": 103)" << when << "\n"
        << later(104, 3) << later(105, 6);
    return path;
  }
  // The value of `promql` when it is one sample.
  std::optional<double> single(const std::string& promql) const {
    const auto found = samples(prometheus_->query(promql));
    if (found.size() != 1) return std::nullopt;
    return found[0].value;
  }
  // The same, which must be one sample.
  double value(const std::string& promql) const {
    const auto found = single(promql);
    if (!found) ADD_FAILURE() << promql << ": not one sample";
    return found.value_or(std::nan(""));
  }
  // The finite upper bounds of a histogram's buckets, as Prometheus stored them.
  std::vector<double> bounds_of(const std::string& bucket_series) const {
    std::vector<double> bounds;
    for (const Sample& s : samples(prometheus_->query(bucket_series))) {
      if (s.labels.at("le") != "+Inf") bounds.push_back(std::stod(s.labels.at("le")));
    }
    std::sort(bounds.begin(), bounds.end());
    return bounds;
  }

  std::uint16_t correlator_metrics_port_ = 0;
  std::unique_ptr<Background> campaign_;
  std::unique_ptr<PrometheusServer> prometheus_;
};

// What one Atlas result says, as the metrics count it.
struct Expected {
  double sent = 0, replies = 0, duplicates = 0, run_errors = 0, packet_errors = 0, success = 0;
  double hops = 0;  // traceroute: the farthest hop that answered
  std::vector<double> rtt_s, corrected_s;
};

Expected expected_from(const json& r) {
  Expected e;
  const bool ping = r["type"] == "ping";
  for (const json& entry : r["result"]) {
    if (entry.contains("error") && !entry.contains("hop")) {
      // A run's error (no address for the target here), else a ping packet's.
      if (!r.contains("dst_addr") || !ping) {
        ++e.run_errors;
      } else {
        ++e.packet_errors;
      }
      continue;
    }
    if (ping) {
      if (entry.contains("dup")) {
        ++e.duplicates;
      } else if (entry.contains("rtt")) {
        e.rtt_s.push_back(entry["rtt"].get<double>() * 1e-3);
        if (entry.contains("rtt_corrected"))
          e.corrected_s.push_back(entry["rtt_corrected"].get<double>() * 1e-3);
      }
      continue;
    }
    for (const json& reply : entry["result"]) {
      ++e.sent;
      if (reply.contains("error") || reply.contains("err")) ++e.packet_errors;
      if (!reply.contains("from")) continue;
      ++e.replies;
      e.hops = std::max(e.hops, entry["hop"].get<double>());
      if (reply["from"] == r["dst_addr"]) {
        e.success = 1;
        e.rtt_s.push_back(reply["rtt"].get<double>() * 1e-3);
      }
    }
  }
  if (ping) {
    e.sent = r["sent"].get<double>();
    e.replies = r["rcvd"].get<double>();
    e.success = e.replies > 0 ? 1 : 0;
  }
  return e;
}

TEST_F(ProberMetrics, PrometheusScrapesWhatTheAtlasResultsSay) {
  ASSERT_TRUE(start_correlator_with_metrics());
  // Any port is free in the container's fresh namespace: Prometheus can be told it first.
  const std::string endpoint = bed_["TESTBED_CONTAINER_ADDR"] + ":" + std::to_string(kPort);
  std::string scrape_configs =
      "  - job_name: mtool-run\n    static_configs:\n      - targets: ['" + endpoint + "']\n";
  if (kCorrelatorMetrics) {
    // The correlator on the host's loopback, its series labelled with the node as the chart's
    // PodMonitor does.
    scrape_configs +=
        "  - job_name: mtool-correlator\n    static_configs:\n      - targets: "
        "['127.0.0.1:" +
        std::to_string(correlator_metrics_port_) + "']\n        labels: {node: " + kNode + "}\n";
  }
  prometheus_ = std::make_unique<PrometheusServer>(scrape_configs, kScrapeInterval);
  ASSERT_TRUE(prometheus_->start());
  // Its first scrape (of nothing yet: up 0) comes only once discovery has sent its targets, up
  // to 5 s after the start.
  ASSERT_TRUE(
      wait_until([&] { return single(R"(up{job="mtool-run"})").has_value(); }, milliseconds(15000)))
      << prometheus_->log();

  const std::string out = dir_ + "/results.jsonl";
  const double campaign_start = static_cast<double>(std::time(nullptr));
  campaign_ = std::make_unique<Background>(
      "exec " + in_container("--metrics " + endpoint + " --label node=" + kNode +
                                 " --pps 500 --out " + out + " " + write_list(),
                             true),
      "campaign");
  ASSERT_TRUE(campaign_->started());
  ASSERT_TRUE(wait_until(
      [&] {
        return campaign_->err().find("serving metrics on") != std::string::npos ||
               !campaign_->running();
      },
      milliseconds(10000)))
      << campaign_->err();
  EXPECT_EQ(campaign_->err(), "mtool run: serving metrics on http://" + endpoint + "/metrics\n");
  // Scraped at zero before the first run starts (the list starts a few seconds from now).
  ASSERT_TRUE(
      wait_until([&] { return single(R"(sum(mtool_results_total))") == 0.0; }, milliseconds(3000)))
      << prometheus_->log();

  // Listening where asked only: not on the container's loopback.
  EXPECT_NE(run("ip netns exec " + bed_["TESTBED_CONTAINER_NS"] +
                " bash -c 'exec 3<>/dev/tcp/127.0.0.1/" + std::to_string(kPort) + "'")
                .exit_code,
            0);

  // Every result written, then scraped once more after the last.
  ASSERT_TRUE(wait_until(
      [&] {
        return campaign_->err().find("all measurements done") != std::string::npos ||
               !campaign_->running();
      },
      milliseconds(30000)))
      << campaign_->err();
  ASSERT_TRUE(campaign_->running()) << campaign_->err();
  std::vector<json> results;
  for (const std::string& line : lines_of(slurp(out))) results.push_back(json::parse(line));
  ASSERT_EQ(results.size(), kResults);
  ASSERT_TRUE(wait_until(
      [&] { return single("sum(mtool_results_total)") == static_cast<double>(kResults); },
      milliseconds(15000)))
      << prometheus_->log();
  EXPECT_EQ(value(R"(up{job="mtool-run"})"), 1);

  // The counters say what the results say.
  for (const json& r : results) {
    const std::string msm = "msm_id=\"" + std::to_string(r["msm_id"].get<unsigned>()) + "\"";
    const Expected e = expected_from(r);
    SCOPED_TRACE(r.dump());
    const std::string of = "{" + msm + ", node=\"" + kNode + "\"}";
    EXPECT_EQ(value("mtool_results_total" + of), 1);
    EXPECT_EQ(value("mtool_probes_sent_total" + of), e.sent);
    EXPECT_EQ(value("mtool_probe_replies_total" + of), e.replies);
    EXPECT_EQ(value("mtool_probe_duplicates_total" + of), e.duplicates);
    EXPECT_EQ(value("mtool_probe_errors_total{" + msm + ", kind=\"run\"}"), e.run_errors);
    EXPECT_EQ(value("sum(mtool_probe_errors_total{" + msm + ", kind=~\"send|icmp\"})"),
              e.packet_errors);
    EXPECT_EQ(value("mtool_probe_success" + of), e.success);
    EXPECT_EQ(value("mtool_probe_rtt_seconds_count" + of), e.rtt_s.size());
    if (r["type"] == "ping") {
      EXPECT_EQ(value("mtool_probe_corrected_rtt_seconds_count" + of), e.corrected_s.size());
    } else {
      EXPECT_EQ(value("mtool_traceroute_hops" + of), e.hops);
      EXPECT_EQ(value("sum(mtool_traceroute_hop_replies_total" + of + ")"), e.replies);
    }
  }

  // The container's pings (15, every one corrected): the median's bucket, raw and corrected.
  const json& pings = *std::find_if(results.begin(), results.end(),
                                    [](const json& r) { return r["msm_id"] == 100; });
  const Expected e = expected_from(pings);
  ASSERT_EQ(e.corrected_s.size(), 15U) << pings.dump();
  for (const auto& [histogram, values] : std::vector<std::pair<std::string, std::vector<double>>>{
           {"mtool_probe_rtt_seconds", e.rtt_s},
           {"mtool_probe_corrected_rtt_seconds", e.corrected_s}}) {
    const std::vector<double> bounds = bounds_of(histogram + "_bucket{msm_id=\"100\"}");
    ASSERT_EQ(bounds.size(), 29U) << histogram;  // the default layout, 1 us to 10 s
    const double median = rank_median(values);
    const double quantile =
        value("histogram_quantile(0.5, sum by (le) (" + histogram + "_bucket{msm_id=\"100\"}))");
    EXPECT_EQ(bucket_of(quantile, bounds), bucket_of(median, bounds))
        << histogram << ": histogram_quantile " << quantile << " s, the results' median " << median
        << " s";
  }

  // A rate needs two samples: the correlator's histograms of the container's namespace appear
  // with its first records (named within a second), so wait for Prometheus to hold two.
  if (kCorrelatorMetrics) {
    EXPECT_TRUE(wait_until(
        [&] {
          return single("min(count_over_time(mtool_correlator_wire_rtt_seconds_count[1m]))")
                     .value_or(0) >= 2;
        },
        milliseconds(10000)))
        << prometheus_->log();
  }

  // Every query of the shipped dashboard, its variables substituted, parses and returns data.
  const json dashboard = json::parse(slurp(MTOOL_SOURCE_DIR "/helm/mtool/dashboards/mtool.json"));
  std::vector<std::string> queries;
  for (const json& panel : dashboard["panels"])
    for (const json& target : panel.value("targets", json::array()))
      queries.push_back(target["expr"].get<std::string>());
  // A variable's label_values(METRIC, LABEL) as the series Grafana lists its values from.
  const std::regex label_values(R"(label_values\((.*), *([a-z_]+)\))");
  for (const json& variable : dashboard["templating"]["list"]) {
    std::smatch m;
    const std::string definition = variable.value("definition", "");
    if (std::regex_match(definition, m, label_values))
      queries.push_back("count by (" + m[2].str() + ") (" + m[1].str() + ")");
  }
  EXPECT_GE(queries.size(), 20U);
  for (const std::string& query : queries) {
    const std::string promql = substitute_variables(query, kDashboardVariables);
    EXPECT_EQ(promql.find('$'), std::string::npos) << promql;
    const json answer = prometheus_->query(promql);
    EXPECT_EQ(answer.value("status", ""), "success") << promql << "\n" << answer.dump();
    if (promql.find("mtool_correlator_") != std::string::npos && !kCorrelatorMetrics) continue;
    const auto found = samples(answer);
    EXPECT_TRUE(std::any_of(found.begin(), found.end(),
                            [](const Sample& x) { return std::isfinite(x.value); }))
        << "no data (or only NaN: no increase in the window): " << promql << "\n"
        << answer.dump();
  }

  // MTOOL_DASHBOARD_PICTURE=FILE (.png, .svg; scripts/dashboard_sample.sh): the README's
  // picture of the dashboard's main panels, from this run's Prometheus.
  if (const char* picture = std::getenv("MTOOL_DASHBOARD_PICTURE")) {
    EXPECT_EQ(draw_dashboard_panels(*prometheus_, dashboard, kPicturedPanels, kDashboardVariables,
                                    campaign_start - 5, static_cast<double>(std::time(nullptr)),
                                    0.5, picture),
              "");
  }

  // No thread of the campaign holds a capability: the server started after they were dropped.
  const auto sets = thread_capabilities(campaign_->pid());
  EXPECT_GE(sets.size(), 3U) << "the server's threads are missing";
  for (const std::string& set : sets)
    EXPECT_EQ(set, "CapPrm:\t0000000000000000 CapEff:\t0000000000000000 ");

  // It served until now; SIGTERM ends it as a finished campaign.
  EXPECT_EQ(campaign_->stop(SIGTERM), std::optional<int>(0)) << campaign_->err();
  EXPECT_NE(campaign_->err().find("all measurements done; serving metrics until SIGTERM"),
            std::string::npos)
      << campaign_->err();
}

TEST_F(ProberMetrics, BadMetricsOptionsAreOneLineUsageErrors) {
  const std::string list = dir_ + "/one.json";
  std::ofstream(list) << R"([{"type": "ping", "target": ")" << bed_["TESTBED_TARGET"]
                      << R"(", "packets": 1}])";
  struct Case {
    std::string options;
    std::string error;
  };
  // A port taken in the container's namespace by a listener of our own.
  Background holder("exec ip netns exec " + bed_["TESTBED_CONTAINER_NS"] +
                        " python3 -c 'import socket,time; s=socket.socket(); "
                        "s.bind((\"127.0.0.1\", 29029)); s.listen(); time.sleep(60)'",
                    "holder");
  ASSERT_TRUE(wait_until(
      [&] {
        return run("ip netns exec " + bed_["TESTBED_CONTAINER_NS"] + " ss -ltnH 'sport = 29029'")
                   .out.find("29029") != std::string::npos;
      },
      milliseconds(5000)));
  const std::vector<Case> cases = {
      {"--metrics 127.0.0.1:29029",
       "mtool run: cannot serve metrics on 127.0.0.1:29029: Address already in use\n"},
      {"--metrics localhost:9101",
       "mtool run: --metrics localhost:9101: 'localhost' is not a numeric IPv4 address; expected "
       "ADDR:PORT with a numeric IPv4 address, e.g. 127.0.0.1:9101\n"},
      {"--label node=a1", "mtool run: --label needs --metrics\n"},
      {"--metrics-buckets 1ms,2ms", "mtool run: --metrics-buckets needs --metrics\n"},
      {"--metrics 127.0.0.1:0 --label target=x",
       "mtool run: --label target=x: 'target' is a label mtool or Prometheus sets itself\n"},
      {"--metrics 127.0.0.1:0 --metrics-buckets 2ms,1ms",
       "mtool run: --metrics-buckets '2ms,1ms': bounds must increase (LOW:HIGH:N, N bounds per "
       "decade, e.g. 1us:10s:4; or B1,B2,... e.g. 50us,1ms,1s)\n"},
      {"--metrics 127.0.0.1:0 --metrics-max-series 0",
       "mtool run: --metrics-max-series must be at least 1\n"},
  };
  for (const Case& c : cases) {
    const CommandResult r = run(in_container(c.options + " " + list, false));
    EXPECT_EQ(r.exit_code, 2) << c.options << "\n" << r.err;
    EXPECT_EQ(r.out, "") << c.options;
    EXPECT_EQ(r.err, c.error) << c.options;
  }
}

}  // namespace
}  // namespace mtool::testing
