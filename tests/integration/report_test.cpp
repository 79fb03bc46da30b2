// `mtool report` on mtool's own results from the testbed (instance 27, two routers behind the
// target), measured through the correlator from two vantage points (two prb_ids): every figure
// the report prints equals the one tests/report/independent_report.py computes from the same
// lines (within the histogram's 0.8%), every reply is corrected, the gateway's hop is
// [virtual], and --plot draws both formats. Root only; the testbed comes up once per suite,
// the correlator and temporary files go at the end of each test, also when it fails.
#include <gtest/gtest.h>

#include <fstream>
#include <map>
#include <nlohmann/json.hpp>
#include <string>

#include "harness.h"
#include "processes.h"

namespace mtool::testing {
namespace {

using nlohmann::json;

constexpr int kTestbedIndex = 27;
constexpr const char* kPinDir = "/sys/fs/bpf/mtool-report-test";
constexpr const char* kSocketDir = "/run/mtool-report-test";
constexpr const char* kSocket = "/run/mtool-report-test/correlator.sock";

class Report : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    if (!running_as_root()) return;
    bed_ = testbed_up(kTestbedIndex, "--routers 2",
                      {"TESTBED_CONTAINER_NS", "TESTBED_GATEWAY", "TESTBED_TARGET",
                       "TESTBED_UPLINK", "TESTBED_CHAIN_END"},
                      setup_error_);
  }
  static void TearDownTestSuite() {
    if (!running_as_root()) return;
    run(testbed_script(kTestbedIndex) + " down");
  }
  void SetUp() override {
    if (!running_as_root()) GTEST_SKIP() << "needs root: creates network namespaces, loads BPF";
    ASSERT_EQ(setup_error_, "");
    char dir[] = "/tmp/mtool-report-test.XXXXXX";
    ASSERT_NE(mkdtemp(dir), nullptr);
    dir_ = dir;
    run(std::string("rm -rf ") + kPinDir + " " + kSocketDir);
    ASSERT_FALSE(correlator_answers(kSocket)) << "a correlator already answers on " << kSocket;
    ASSERT_TRUE(correlator_.start(bed_["TESTBED_UPLINK"]));
  }
  void TearDown() override {
    if (correlator_.running()) {
      EXPECT_EQ(correlator_.stop(), std::optional<int>(0)) << correlator_.log();
    }
    run(std::string("rm -rf ") + kPinDir + " " + kSocketDir);
    if (!dir_.empty()) run("rm -rf " + dir_);
  }

  // A campaign from vantage point `prb_id` into `out`: pings to the target, ICMP traceroutes
  // to the chain's end, with per-device breakdowns.
  void campaign(int prb_id, const std::string& out) {
    std::string list;
    for (int i = 0; i < 6; ++i) {
      list += R"({"type": "ping", "target": ")" + bed_["TESTBED_TARGET"] +
              R"(", "packets": 5, "packet_interval": 20})" + "\n";
    }
    for (int i = 0; i < 3; ++i) {
      list += R"({"type": "traceroute", "target": ")" + bed_["TESTBED_CHAIN_END"] +
              R"(", "protocol": "ICMP", "packets": 3})" + "\n";
    }
    const std::string path = dir_ + "/list.jsonl";
    std::ofstream(path) << list;
    const CommandResult r = run("ip netns exec " + bed_["TESTBED_CONTAINER_NS"] + " " +
                                correlator_env(kPinDir, kSocket) + mtool_binary() +
                                " run --breakdown --concurrency 2 --prb-id " +
                                std::to_string(prb_id) + " --out " + out + " " + path);
    ASSERT_EQ(r.exit_code, 0) << r.err;
  }

  static std::map<std::string, std::string> bed_;
  static std::string setup_error_;
  std::string dir_;
  CorrelatorProcess correlator_{kPinDir, kSocket};
};

std::map<std::string, std::string> Report::bed_;
std::string Report::setup_error_;

TEST_F(Report, FiguresMatchAnIndependentComputationAndEveryReplyIsCorrected) {
  const std::string a = dir_ + "/vantage-a.jsonl";
  const std::string b = dir_ + "/vantage-b.jsonl";
  ASSERT_NO_FATAL_FAILURE(campaign(7001, a));
  ASSERT_NO_FATAL_FAILURE(campaign(7002, b));
  const std::string report_path = dir_ + "/report.json";
  const CommandResult r =
      run(mtool_binary() + " report --json " + a + " " + b + " > " + report_path);
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_EQ(r.err, "");
  const CommandResult check =
      run(std::string("python3 ") + MTOOL_SOURCE_DIR +
          "/tests/report/independent_report.py --report " + report_path + " " + a + " " + b);
  EXPECT_EQ(check.exit_code, 0) << check.out << check.err;

  const json report = json::parse(slurp(report_path));
  ASSERT_EQ(report["summary"].size(), 4U) << report.dump(1);  // {ping, traceroute} x 2 vantages
  for (const json& row : report["summary"]) {
    const std::string vantage = row["vantage"];
    EXPECT_TRUE(vantage == "7001@" + a || vantage == "7002@" + b) << vantage;
    EXPECT_GT(row["received"].get<int>(), 0) << row.dump();
    EXPECT_EQ(row["replies_corrected"], row["received"]) << row.dump();
    EXPECT_TRUE(row["corrected_p50_ms"].is_number()) << row.dump();
    EXPECT_GE(row["difference_p50_ms"].get<double>(), 0) << row.dump();
    EXPECT_TRUE(row["overhead_median_ms"].is_number()) << row.dump();
    if (row["type"] == "ping") {
      EXPECT_EQ(row["sent"], 30);
      EXPECT_TRUE(row["egress_median_ms"].is_number()) << row.dump();
      EXPECT_TRUE(row["ingress_median_ms"].is_number()) << row.dump();
    }
  }
  ASSERT_EQ(report["paths"].size(), 2U);
  for (const json& path : report["paths"]) {
    EXPECT_EQ(path["runs"], 3);
    EXPECT_EQ(path["distinct_paths"], 1) << path.dump();
    EXPECT_EQ(path["path_changes"], 0);
    ASSERT_EQ(path["hops"].size(), 4U) << path.dump();
    const json& gateway = path["hops"][0]["addresses"][0];
    EXPECT_EQ(gateway["address"], bed_["TESTBED_GATEWAY"]);
    EXPECT_TRUE(gateway["virtual"].get<bool>()) << path.dump();
    EXPECT_EQ(path["hops"][3]["addresses"][0]["address"], bed_["TESTBED_CHAIN_END"]);
  }
}

TEST_F(Report, PlotsDrawBothFormats) {
  const std::string a = dir_ + "/vantage-a.jsonl";
  ASSERT_NO_FATAL_FAILURE(campaign(7001, a));
  for (const char* name : {"plot.svg", "plot.png"}) {
    const std::string out = dir_ + "/" + name;
    const CommandResult r = run(mtool_binary() + " report --plot " + out + " " + a);
    ASSERT_EQ(r.exit_code, 0) << r.err;
    const std::string image = slurp(out);
    ASSERT_GT(image.size(), 1000U) << name;
    if (std::string(name) == "plot.svg") {
      EXPECT_NE(image.find("ping " + bed_["TESTBED_TARGET"] + ": RTT raw"), std::string::npos);
      EXPECT_NE(image.find("7001@" + a + " corrected"), std::string::npos);
      EXPECT_EQ(image.find("no overheads in these results"), std::string::npos);
    } else {
      EXPECT_EQ(image.substr(0, 8), std::string("\x89PNG\r\n\x1a\n", 8));
    }
  }
}

}  // namespace
}  // namespace mtool::testing
