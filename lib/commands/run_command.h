#pragma once
// `mtool run LIST`: runs a list of RIPE Atlas measurement definitions and writes Atlas results.
#include <string>
#include <vector>

namespace mtool::commands {

int run_campaign_command(const std::vector<std::string>& args);

}  // namespace mtool::commands
