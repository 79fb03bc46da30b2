#pragma once
// `mtool correlator [options]` runs the host correlator; `mtool correlator status` asks a
// running one for its counters.
#include <string>
#include <vector>

namespace mtool::commands {

int run_correlator_command(const std::vector<std::string>& args);

}  // namespace mtool::commands
