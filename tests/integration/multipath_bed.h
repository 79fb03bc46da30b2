#pragma once
// The multipath testbed (tests/testbed/testbed.sh up --multipath) as the Paris and MDA suites
// use it: behind the target, a two-way ECMP hop (3), a join (4), a diamond of two (5) then
// three (6) routers, and the end (7), each stage linked to every router of the next.
#include <gtest/gtest.h>
#include <sys/socket.h>

#include <map>
#include <set>
#include <string>
#include <vector>

#include "processes.h"

namespace mtool::testing {

// Every hop's routers, as a trace from the container meets them (hop 1 first).
using HopSets = std::vector<std::set<std::string>>;

class MultipathBed {
 public:
  static constexpr int kHops = 7;

  // Brings instance `index` up (after a down); error() says why when it failed.
  void up(int index);
  void down();
  [[nodiscard]] const std::string& error() const { return error_; }

  [[nodiscard]] const std::string& get(const std::string& key) const { return bed_.at(key); }
  // The end of the paths, AF_INET or AF_INET6.
  [[nodiscard]] const std::string& end(int family = AF_INET) const {
    return get(family == AF_INET6 ? "TESTBED_MULTIPATH_END6" : "TESTBED_MULTIPATH_END");
  }
  [[nodiscard]] std::string in_container(const std::string& command) const;
  [[nodiscard]] HopSets expected_hops(int family = AF_INET) const;
  // Every link between consecutive hops (each router of a stage reaches all of the next).
  [[nodiscard]] std::set<std::pair<std::string, std::string>> expected_links() const;

 private:
  int index_ = -1;
  std::map<std::string, std::string> bed_;
  std::string error_;
};

// A suite on the multipath testbed: root only, the bed up, and a private correlator on the
// bed's uplink when a test asks for one, stopped and its pins removed after the test.
class MultipathSuite : public ::testing::Test {
 protected:
  MultipathSuite(const MultipathBed& bed, std::string pin_dir, std::string socket);
  void SetUp() override;
  void TearDown() override;
  ::testing::AssertionResult start_correlator();
  // How a tool in the container finds that correlator ("env ... ").
  [[nodiscard]] std::string with_correlator() const;

 private:
  const MultipathBed& suite_bed_;
  std::string pin_dir_;
  std::string socket_;
  CorrelatorProcess correlator_;
  bool correlator_started_ = false;
};

// "{a b c}", for messages.
std::string joined(const std::set<std::string>& s);

}  // namespace mtool::testing
