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
  std::vector<std::string> keys{"TESTBED_CONTAINER_NS", "TESTBED_GATEWAY", "TESTBED_TARGET",
                                "TESTBED_UPLINK", "TESTBED_MULTIPATH_END"};
  for (int hop = 3; hop < kHops; ++hop)
    keys.push_back("TESTBED_MULTIPATH_HOP_" + std::to_string(hop));
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

HopSets MultipathBed::expected_hops() const {
  HopSets hops{{get("TESTBED_GATEWAY")}, {get("TESTBED_TARGET")}};
  for (int hop = 3; hop < kHops; ++hop)
    hops.push_back(words(get("TESTBED_MULTIPATH_HOP_" + std::to_string(hop))));
  hops.push_back({end()});
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

std::string joined(const std::set<std::string>& s) {
  std::string out;
  for (const auto& w : s) out += (out.empty() ? "" : " ") + w;
  return "{" + out + "}";
}

}  // namespace mtool::testing
