#pragma once
// The multipath testbed (tests/testbed/testbed.sh up --multipath) as the Paris and MDA suites
// use it: behind the target, a two-way ECMP hop (3), a join (4), a diamond of two (5) then
// three (6) routers, and the end (7), each stage linked to every router of the next.
#include <map>
#include <set>
#include <string>
#include <vector>

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
  [[nodiscard]] const std::string& end() const { return get("TESTBED_MULTIPATH_END"); }
  [[nodiscard]] std::string in_container(const std::string& command) const;
  [[nodiscard]] HopSets expected_hops() const;
  // Every link between consecutive hops (each router of a stage reaches all of the next).
  [[nodiscard]] std::set<std::pair<std::string, std::string>> expected_links() const;

 private:
  int index_ = -1;
  std::map<std::string, std::string> bed_;
  std::string error_;
};

// "{a b c}", for messages.
std::string joined(const std::set<std::string>& s);

}  // namespace mtool::testing
