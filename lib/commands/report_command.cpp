#include "commands/report_command.h"

#include <boost/program_options.hpp>
#include <cstdio>
#include <iostream>
#include <optional>

#include "modules/module_loader.h"
#include "modules/report_abi.h"
#include "util/error.h"
#include "util/printable.h"

namespace mtool::commands {
namespace {

namespace po = boost::program_options;

constexpr int kExitUsage = 2;  // bad options; the report module missing or of another version

const char* kUsage =
    "usage: mtool report [options] FILE...\n"
    "Summarises Atlas results (mtool run's, or RIPE Atlas' ping and traceroute results, firmware\n"
    "4570 and later, as JSON lines or one JSON array) per target and vantage point: packets,\n"
    "loss, raw and corrected RTT percentiles and their difference, overheads; for traceroutes,\n"
    "the path hop by hop. '-' reads standard input; a directory, each of its files. A line that\n"
    "is not a result is named on standard error and skipped.\n"
    "--plot needs gnuplot (Debian: apt-get install gnuplot-nox) on PATH; the image has none, so\n"
    "draw on the host.\n";

[[noreturn]] void usage_error(const std::string& text) { throw FatalError(text, kExitUsage); }

// The command line, kept alive while the module reads the request's pointers into it.
struct ReportOptions {
  std::vector<std::string> inputs;
  std::string by = "target,vantage";
  std::optional<std::string> plot;
  mtool_report_request request{};
};

std::optional<ReportOptions> parse(const std::vector<std::string>& args) {
  ReportOptions o;
  mtool_report_request& r = o.request;
  std::string only = "all";
  bool json = false;
  bool csv = false;
  bool strict = false;
  std::string plot;
  po::options_description described("Options");
  described.add_options()(
      "by", po::value<std::string>(&o.by)->default_value(o.by),
      "group by these, comma-separated: target, vantage (prb_id@from, or @FILE when a result "
      "has no from), msm, hour")("json", po::bool_switch(&json), "write one JSON document")(
      "csv", po::bool_switch(&csv), "write CSV: the summary, a blank line, the paths")(
      "only", po::value<std::string>(&only)->default_value(only),
      "the tables written: summary, paths or all")(
      "plot", po::value<std::string>(&plot),
      "draw the distributions into FILE (.svg or .png) with gnuplot")(
      "plot-targets", po::value<std::size_t>(&r.plot_targets)->default_value(12),
      "draw at most this many targets (those with the most results)")(
      "plot-vantages", po::value<std::size_t>(&r.plot_vantages)->default_value(8),
      "draw at most this many vantage points per target")(
      "strict", po::bool_switch(&strict), "stop at the first line that is not a result")(
      "help,h", "show this help");
  po::options_description hidden;
  hidden.add_options()("input", po::value<std::vector<std::string>>(&o.inputs));
  po::options_description all;
  all.add(described).add(hidden);
  po::positional_options_description positional;
  positional.add("input", -1);
  po::variables_map vm;
  try {
    const std::vector<std::string> rest(args.begin() + (args.empty() ? 0 : 1), args.end());
    po::store(po::command_line_parser(rest).options(all).positional(positional).run(), vm);
    po::notify(vm);
  } catch (const po::error& e) {
    usage_error(e.what());
  }
  if (vm.count("help") != 0) {
    std::cout << kUsage << '\n' << described;
    return std::nullopt;
  }
  if (o.inputs.empty()) usage_error("no results given (see mtool report --help)");
  if (json && csv) usage_error("--json and --csv exclude each other");
  r.format = json ? MTOOL_REPORT_JSON : csv ? MTOOL_REPORT_CSV : MTOOL_REPORT_TEXT;
  if (only == "summary") {
    r.tables = MTOOL_REPORT_SUMMARY;
  } else if (only == "paths") {
    r.tables = MTOOL_REPORT_PATHS;
  } else if (only == "all") {
    r.tables = MTOOL_REPORT_ALL;
  } else {
    usage_error("--only: '" + printable(only) + "' is not summary, paths or all");
  }
  if (vm.count("plot") != 0) {
    if (r.plot_targets < 1 || r.plot_vantages < 1)
      usage_error("--plot-targets and --plot-vantages must be at least 1");
    o.plot = plot;
  }
  r.strict = strict ? 1 : 0;
  return o;
}

// The module's functions; throws FatalError (kExitUsage) naming the path and what is wrong.
const mtool_report_api& report_module() {
  std::string why;
  const std::string path = modules::module_path(MTOOL_REPORT_FILE, why);
  if (path.empty()) usage_error(why);
  const auto* api = modules::module_api<mtool_report_api>(path, MTOOL_REPORT_ENTRY,
                                                          MTOOL_REPORT_ABI_VERSION, why);
  if (api == nullptr) usage_error("needs the report module " + path + ": " + why);
  return *api;
}

int run(const std::vector<std::string>& args) {
  auto options = parse(args);
  if (!options) return 0;
  const mtool_report_api& module = report_module();
  std::vector<const char*> inputs;
  inputs.reserve(options->inputs.size());
  for (const std::string& input : options->inputs) inputs.push_back(input.c_str());
  mtool_report_request& request = options->request;
  request.inputs = inputs.data();
  request.input_count = inputs.size();
  request.by = options->by.c_str();
  request.plot = options->plot ? options->plot->c_str() : nullptr;
  // The module writes through the C library's streams: nothing of ours may be left buffered.
  std::cout.flush();
  std::fflush(stdout);
  return module.run(&request);
}

}  // namespace

int run_report_command(const std::vector<std::string>& args) {
  try {
    return run(args);
  } catch (const FatalError& e) {
    std::fflush(stdout);
    std::fprintf(stderr, "mtool report: %s\n", e.what());
    return e.exit_code();
  }
}

}  // namespace mtool::commands
