#include "multipath_bed.h"

#include <sstream>

#include "harness.h"
#include "processes.h"

namespace mtool::testing {
namespace {

// A testbed list: "a,b,c".
std::set<std::string> words(const std::string& text) {
  std::istringstream in(text);
  std::set<std::string> out;
  for (std::string w; std::getline(in, w, ',');) out.insert(w);
  return out;
}

}  // namespace

void MultipathBed::up(int index) {
  index_ = index;
  std::vector<std::string> keys{"TESTBED_CONTAINER_NS",    "TESTBED_GATEWAY",
                                "TESTBED_CONTAINER_ADDR6", "TESTBED_TARGET",
                                "TESTBED_TARGET6",         "TESTBED_UPLINK",
                                "TESTBED_MULTIPATH_END",   "TESTBED_MULTIPATH_END6"};
  for (int hop = 3; hop < kHops; ++hop) {
    keys.push_back("TESTBED_MULTIPATH_HOP_" + std::to_string(hop));
    keys.push_back("TESTBED_MULTIPATH_HOP6_" + std::to_string(hop));
  }
  error_.clear();
  bed_ = testbed_up(index, "--multipath", keys, error_);
}

void MultipathBed::down() {
  if (index_ >= 0) run(testbed_script(index_) + " down");
  bed_.clear();
  error_.clear();
}

std::string MultipathBed::in_container(const std::string& command) const {
  return "ip netns exec " + get("TESTBED_CONTAINER_NS") + " " + command;
}

HopSets MultipathBed::expected_hops(int family) const {
  const bool v6 = family == AF_INET6;
  std::string gateway = get("TESTBED_GATEWAY");
  if (v6) {  // the bridge's ::1 beside the container's ::2
    gateway = get("TESTBED_CONTAINER_ADDR6");
    gateway.back() = '1';
  }
  HopSets hops{{gateway}, {get(v6 ? "TESTBED_TARGET6" : "TESTBED_TARGET")}};
  for (int hop = 3; hop < kHops; ++hop) {
    hops.push_back(words(
        get((v6 ? "TESTBED_MULTIPATH_HOP6_" : "TESTBED_MULTIPATH_HOP_") + std::to_string(hop))));
  }
  hops.push_back({end(family)});
  return hops;
}

std::set<std::pair<std::string, std::string>> MultipathBed::expected_links() const {
  const HopSets hops = expected_hops();
  std::set<std::pair<std::string, std::string>> links;
  for (std::size_t h = 0; h + 1 < hops.size(); ++h) {
    for (const auto& a : hops[h]) {
      for (const auto& b : hops[h + 1]) links.emplace(a, b);
    }
  }
  return links;
}

MultipathSuite::MultipathSuite(const MultipathBed& bed, std::string pin_dir, std::string socket)
    : suite_bed_(bed),
      pin_dir_(std::move(pin_dir)),
      socket_(std::move(socket)),
      correlator_(pin_dir_, socket_) {}

void MultipathSuite::SetUp() {
  if (!running_as_root()) GTEST_SKIP() << "needs root: creates network namespaces, loads BPF";
  ASSERT_EQ(suite_bed_.error(), "");
}

void MultipathSuite::TearDown() {
  if (correlator_.running()) {
    const auto code = correlator_.stop();
    EXPECT_EQ(code, std::optional<int>(0)) << "correlator log:\n" << correlator_.log();
  }
  if (correlator_started_) run("rm -rf " + pin_dir_ + " " + socket_.substr(0, socket_.rfind('/')));
}

::testing::AssertionResult MultipathSuite::start_correlator() {
  if (correlator_answers(socket_))
    return ::testing::AssertionFailure() << "a correlator already answers on " << socket_;
  correlator_started_ = true;
  run("rm -rf " + pin_dir_ + " " + socket_.substr(0, socket_.rfind('/')));
  return correlator_.start(suite_bed_.get("TESTBED_UPLINK"));
}

std::string MultipathSuite::with_correlator() const { return correlator_env(pin_dir_, socket_); }

std::string joined(const std::set<std::string>& s) {
  std::string out;
  for (const auto& w : s) out += (out.empty() ? "" : " ") + w;
  return "{" + out + "}";
}

}  // namespace mtool::testing
