#include "util/command_line.h"

namespace mtool {

namespace po = boost::program_options;

SubcommandLine parse_subcommand_line(const std::vector<std::string>& args,
                                     const po::options_description& described) {
  constexpr const char* kPositional = "positional-argument";
  po::options_description hidden;
  hidden.add_options()(kPositional, po::value<std::string>());
  po::options_description all;
  all.add(described).add(hidden);
  po::positional_options_description positional;
  positional.add(kPositional, 1);
  SubcommandLine line;
  const std::vector<std::string> rest(args.begin() + (args.empty() ? 0 : 1), args.end());
  po::store(po::command_line_parser(rest).options(all).positional(positional).run(), line.options);
  po::notify(line.options);
  if (line.options.count(kPositional) != 0)
    line.positional = line.options[kPositional].as<std::string>();
  return line;
}

}  // namespace mtool
