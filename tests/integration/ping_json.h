#pragma once
// `mtool ping --json` output as the root suites read it: one object per line, split by type.
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

namespace mtool::testing {

struct PingJson {
  nlohmann::json header;
  std::vector<nlohmann::json> replies;
  nlohmann::json summary;
};

// A line that is not JSON is a test failure (ADD_FAILURE), and skipped.
PingJson parse_ping_json(const std::string& text);

}  // namespace mtool::testing
