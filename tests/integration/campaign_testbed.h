#pragma once
// The fixture of the suites that run `mtool run` in a testbed's container (campaign_test,
// prober_metrics_test): the testbed up once per suite and down after it; per test a temporary
// directory and, on request, the suite's own correlator on the uplink (its pins and socket
// named after the suite), all removed at the end of the test, also when it fails. Root only:
// without root every test skips and says why.
#include <gtest/gtest.h>
#include <stdlib.h>

#include <map>
#include <string>
#include <vector>

#include "harness.h"
#include "processes.h"

namespace mtool::testing {

struct CampaignTestbedSetup {
  int index;                          // the testbed instance
  std::string args;                   // for `testbed.sh up`
  std::vector<std::string> required;  // KEY=VALUE lines the suite needs
  std::string name;  // /sys/fs/bpf/NAME, /run/NAME/correlator.sock, /tmp/NAME.XXXXXX
};

// `Suite` derives from CampaignTestbed<Suite> and has `static CampaignTestbedSetup testbed()`.
template <typename Suite>
class CampaignTestbed : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    if (!running_as_root()) return;
    const CampaignTestbedSetup s = Suite::testbed();
    bed_ = testbed_up(s.index, s.args, s.required, setup_error_);
  }
  static void TearDownTestSuite() {
    if (!running_as_root()) return;
    run(testbed_script(Suite::testbed().index) + " down");
  }
  void SetUp() override {
    if (!running_as_root()) GTEST_SKIP() << "needs root: creates network namespaces, loads BPF";
    ASSERT_EQ(setup_error_, "");
    std::string dir = "/tmp/" + Suite::testbed().name + ".XXXXXX";
    ASSERT_NE(mkdtemp(dir.data()), nullptr);
    dir_ = dir;
  }
  void TearDown() override {
    if (correlator_.running()) {
      EXPECT_EQ(correlator_.stop(), std::optional<int>(0)) << correlator_.log();
    }
    if (correlator_started_) run("rm -rf " + pin_dir() + " " + socket_dir());
    if (!dir_.empty()) run("rm -rf " + dir_);
  }

  static std::string pin_dir() { return "/sys/fs/bpf/" + Suite::testbed().name; }
  static std::string socket_dir() { return "/run/" + Suite::testbed().name; }
  static std::string socket() { return socket_dir() + "/correlator.sock"; }

  // `mtool run ARGS` in the container, with or without the suite's correlator.
  static std::string in_container(const std::string& args, bool correlator = false) {
    return "ip netns exec " + bed_["TESTBED_CONTAINER_NS"] + " " +
           (correlator ? correlator_env(pin_dir(), socket())
                       : std::string("env MTOOL_CORRELATOR=off ")) +
           mtool_binary() + " run " + args;
  }
  // The suite's correlator on the testbed's uplink, with `options` for `mtool correlator`.
  ::testing::AssertionResult start_correlator(const std::string& options = "") {
    if (correlator_answers(socket()))
      return ::testing::AssertionFailure() << "a correlator already answers on " << socket();
    correlator_started_ = true;
    run("rm -rf " + pin_dir() + " " + socket_dir());
    return correlator_.start(bed_["TESTBED_UPLINK"], options);
  }

  static std::map<std::string, std::string> bed_;
  static std::string setup_error_;
  std::string dir_;
  CorrelatorProcess correlator_{pin_dir(), socket()};
  bool correlator_started_ = false;
};

template <typename Suite>
std::map<std::string, std::string> CampaignTestbed<Suite>::bed_;
template <typename Suite>
std::string CampaignTestbed<Suite>::setup_error_;

}  // namespace mtool::testing
