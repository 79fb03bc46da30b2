#pragma once
// A subcommand's command line with Boost.Program_options: its described options plus one
// positional argument, the way `mtool correlator [run|status]` and `mtool run LIST` take them.
#include <boost/program_options.hpp>
#include <optional>
#include <string>
#include <vector>

namespace mtool {

struct SubcommandLine {
  boost::program_options::variables_map options;
  std::optional<std::string> positional;  // the one positional argument, when given
};

// `args[0]` is the subcommand's name. Throws boost::program_options::error on bad input (the
// caller words it); notify() has run, so bound variables are set.
SubcommandLine parse_subcommand_line(const std::vector<std::string>& args,
                                     const boost::program_options::options_description& described);

}  // namespace mtool
