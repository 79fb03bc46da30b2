#pragma once
// `mtool traceroute` (also `traceroute`, `traceroute6` through links): a drop-in for Debian's
// traceroute (Butskoy 2.1.2) that prints each probe's corrected time next to the raw one.
#include <string>
#include <vector>

namespace mtool::commands {

// args[0] is the program name. Returns the exit code: 0 (even when the destination was not
// reached), 1 runtime errors (privileges, sockets), 2 usage errors.
int run_traceroute_command(const std::vector<std::string>& args);

}  // namespace mtool::commands
