#pragma once
// `mtool report FILE...`: campaign results (mtool's or RIPE Atlas') summarised per target and
// vantage point, traceroute paths hop by hop, as text, JSON or CSV, and drawn with --plot.
#include <string>
#include <vector>

namespace mtool::commands {

int run_report_command(const std::vector<std::string>& args);

}  // namespace mtool::commands
