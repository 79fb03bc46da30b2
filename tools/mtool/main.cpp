// mtool: one executable, several commands. Invoked through a link named after a command
// (ping), it is that command; otherwise the first argument names it.
#include <cstdio>
#include <cstring>
#include <string>
#include <vector>

#include "commands/correlator_command.h"
#include "commands/ping_command.h"
#include "commands/run_command.h"
#include "commands/trace_command.h"
#include "mtool/version.h"

namespace {

using Command = int (*)(const std::vector<std::string>&);

struct CommandEntry {
  const char* name;
  Command run;
  const char* summary;  // nullptr: an alias, answered but not listed
};

constexpr CommandEntry kCommands[] = {
    {"ping", mtool::commands::run_ping_command, "ICMP echo, a drop-in for iputils ping"},
    // Debian's ping4/ping6 links; the command reads the family from its argv[0].
    {"ping4", mtool::commands::run_ping_command, nullptr},
    {"ping6", mtool::commands::run_ping_command, nullptr},
    {"traceroute", mtool::commands::run_traceroute_command,
     "a drop-in for Debian's traceroute (Butskoy), with corrected times"},
    {"traceroute6", mtool::commands::run_traceroute_command, nullptr},
    {"run", mtool::commands::run_campaign_command,
     "run RIPE Atlas measurement definitions, write Atlas results (corrected)"},
    {"correlator", mtool::commands::run_correlator_command,
     "the host eBPF correlator (run on the host; 'status' shows its counters)"},
};

void print_help(std::FILE* out) {
  std::fprintf(out, "usage: mtool <command> [options]\n\ncommands:\n");
  for (const auto& c : kCommands) {
    if (c.summary != nullptr) std::fprintf(out, "  %-12s %s\n", c.name, c.summary);
  }
  std::fprintf(out, "\n'mtool <command> -h' shows a command's options.\n");
}

const CommandEntry* find_command(const std::string& name) {
  for (const auto& c : kCommands) {
    if (name == c.name) return &c;
  }
  return nullptr;
}

}  // namespace

int main(int argc, char** argv) {
  std::vector<std::string> args(argv, argv + argc);
  const char* slash = std::strrchr(argv[0], '/');
  const std::string invoked_as = slash != nullptr ? slash + 1 : argv[0];
  if (const CommandEntry* c = find_command(invoked_as)) return c->run(args);

  if (argc < 2 || args[1] == "-h" || args[1] == "--help" || args[1] == "help") {
    print_help(argc < 2 ? stderr : stdout);
    return argc < 2 ? 2 : 0;
  }
  if (args[1] == "--version" || args[1] == "-V") {
    std::printf("mtool %s\n", mtool::kVersion);
    return 0;
  }
  if (const CommandEntry* c = find_command(args[1])) {
    // The command sees itself as argv[0], so its messages read "ping: ...".
    std::vector<std::string> sub(args.begin() + 1, args.end());
    return c->run(sub);
  }
  std::fprintf(stderr, "mtool: unknown command '%s'\n", args[1].c_str());
  print_help(stderr);
  return 2;
}
