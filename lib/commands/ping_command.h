#pragma once
// `mtool ping` / `ping`: the whole command, from argv to exit code, with iputils' messages.
#include <string>
#include <vector>

namespace mtool::commands {

int run_ping_command(const std::vector<std::string>& args);

}  // namespace mtool::commands
