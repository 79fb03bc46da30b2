#include "ping_json.h"

#include <gtest/gtest.h>

#include "processes.h"

namespace mtool::testing {

PingJson parse_ping_json(const std::string& text) {
  PingJson p;
  for (const std::string& line : lines_of(text)) {
    if (line.empty()) continue;
    const nlohmann::json o = nlohmann::json::parse(line, nullptr, false);
    if (o.is_discarded()) {
      ADD_FAILURE() << "not JSON: " << line;
      continue;
    }
    const std::string type = o.value("type", "");
    if (type == "header") p.header = o;
    if (type == "reply") p.replies.push_back(o);
    if (type == "summary") p.summary = o;
  }
  return p;
}

}  // namespace mtool::testing
