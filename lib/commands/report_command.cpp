#include "commands/report_command.h"

#include <boost/program_options.hpp>
#include <cstdio>
#include <iostream>
#include <memory>
#include <optional>

#include "analysis/gnuplot_plot.h"
#include "analysis/plot_figure.h"
#include "analysis/report_aggregator.h"
#include "analysis/report_input.h"
#include "analysis/report_model.h"
#include "analysis/report_writers.h"
#include "util/error.h"
#include "util/printable.h"

namespace mtool::commands {
namespace {

namespace po = boost::program_options;
using namespace mtool::analysis;  // NOLINT(google-build-using-namespace): the command's own layer

constexpr int kExitBadInput = 1;  // --strict and a line that is not a result; no result at all
constexpr int kExitUsage = 2;     // bad options, an input that cannot be read, a plot not drawn

const char* kUsage =
    "usage: mtool report [options] FILE...\n"
    "Summarises Atlas results (mtool run's, or RIPE Atlas' ping and traceroute results, firmware\n"
    "4570 and later, as JSON lines or one JSON array) per target and vantage point: packets,\n"
    "loss, raw and corrected RTT percentiles and their difference, overheads; for traceroutes,\n"
    "the path hop by hop. '-' reads standard input; a directory, each of its files. A line that\n"
    "is not a result is named on standard error and skipped.\n"
    "--plot needs gnuplot (Debian: apt-get install gnuplot-nox) on PATH; the image has none, so\n"
    "draw on the host.\n";

struct ReportOptions {
  std::vector<std::string> inputs;
  Grouping grouping;
  ReportTables tables = ReportTables::kAll;
  enum class Format { kText, kJson, kCsv } format = Format::kText;
  bool strict = false;
  std::string plot;
  std::optional<PlotFormat> plot_format;
  std::string gnuplot;
  PlotLimits plot_limits;
};

[[noreturn]] void usage_error(const std::string& text) { throw FatalError(text, kExitUsage); }

std::optional<ReportOptions> parse(const std::vector<std::string>& args) {
  ReportOptions o;
  std::string by = "target,vantage";
  std::string only = "all";
  bool json = false;
  bool csv = false;
  po::options_description described("Options");
  described.add_options()(
      "by", po::value<std::string>(&by)->default_value(by),
      "group by these, comma-separated: target, vantage (prb_id@from, or @FILE when a result "
      "has no from), msm, hour")("json", po::bool_switch(&json), "write one JSON document")(
      "csv", po::bool_switch(&csv), "write CSV: the summary, a blank line, the paths")(
      "only", po::value<std::string>(&only)->default_value(only),
      "the tables written: summary, paths or all")(
      "plot", po::value<std::string>(&o.plot),
      "draw the distributions into FILE (.svg or .png) with gnuplot")(
      "plot-targets", po::value<std::size_t>(&o.plot_limits.targets)->default_value(12),
      "draw at most this many targets (those with the most results)")(
      "plot-vantages", po::value<std::size_t>(&o.plot_limits.vantages)->default_value(8),
      "draw at most this many vantage points per target")(
      "strict", po::bool_switch(&o.strict), "stop at the first line that is not a result")(
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
  std::string error;
  auto grouping = parse_grouping(by, error);
  if (!grouping) usage_error(error);
  o.grouping = *grouping;
  if (json && csv) usage_error("--json and --csv exclude each other");
  if (json) o.format = ReportOptions::Format::kJson;
  if (csv) o.format = ReportOptions::Format::kCsv;
  if (only == "summary") {
    o.tables = ReportTables::kSummary;
  } else if (only == "paths") {
    o.tables = ReportTables::kPaths;
  } else if (only != "all") {
    usage_error("--only: '" + printable(only) + "' is not summary, paths or all");
  }
  if (vm.count("plot") != 0) {
    o.plot_format = plot_format_of(o.plot);
    if (!o.plot_format) usage_error("--plot: " + printable(o.plot) + " is neither .svg nor .png");
    const auto gnuplot = find_gnuplot();
    if (!gnuplot) {
      usage_error(
          "--plot needs gnuplot, which is not on PATH (Debian: apt-get install gnuplot-nox; the "
          "image has none: draw on the host)");
    }
    o.gnuplot = *gnuplot;
    if (o.plot_limits.targets < 1 || o.plot_limits.vantages < 1)
      usage_error("--plot-targets and --plot-vantages must be at least 1");
  }
  return o;
}

int run(const std::vector<std::string>& args) {
  const auto options = parse(args);
  if (!options) return 0;
  const ReportOptions& o = *options;

  ReportAggregator report(o.grouping);
  // The plot is per target and vantage point whatever --by says: its own groups when they differ.
  std::unique_ptr<ReportAggregator> plot_groups;
  if (o.plot_format && !(o.grouping == Grouping{}))
    plot_groups = std::make_unique<ReportAggregator>(Grouping{});
  ReportInput input(
      [&](const ResultRecord& record, std::string_view source) {
        report.add(record, source);
        if (plot_groups) plot_groups->add(record, source);
      },
      [&](const std::string& where, const std::string& why) {
        if (o.strict) throw FatalError(where + ": " + why + " (--strict)", kExitBadInput);
        std::fflush(stdout);
        std::fprintf(stderr, "mtool report: %s: %s; skipped\n", where.c_str(), why.c_str());
      });
  for (const std::string& path : o.inputs) {
    const std::string failed = input.read(path);
    if (!failed.empty()) usage_error(failed);
  }
  if (input.totals().results == 0) {
    throw FatalError("no ping or traceroute result in " + std::to_string(input.totals().inputs) +
                         (input.totals().inputs == 1 ? " input" : " inputs"),
                     kExitBadInput);
  }

  const Report model = make_report(report, input.totals());
  std::string text;
  switch (o.format) {
    case ReportOptions::Format::kText:
      text = report_text(model, o.tables);
      break;
    case ReportOptions::Format::kJson:
      text = report_json(model, o.tables);
      break;
    case ReportOptions::Format::kCsv:
      text = report_csv(model, o.tables);
      break;
  }
  if (std::fwrite(text.data(), 1, text.size(), stdout) != text.size() || std::fflush(stdout) != 0)
    throw FatalError(with_errno("cannot write the report", errno), kExitBadInput);

  if (o.plot_format) {
    const PlotFigure figure = make_plot_figure(plot_groups ? *plot_groups : report, o.plot_limits);
    const std::string failed = draw_with_gnuplot(figure, o.plot, *o.plot_format, o.gnuplot);
    if (!failed.empty()) usage_error("--plot: " + failed);
    for (const std::string& note : figure.notes)
      std::fprintf(stderr, "mtool report: --plot: %s\n", note.c_str());
  }
  return 0;
}

}  // namespace

int run_report_command(const std::vector<std::string>& args) {
  try {
    return run(args);
  } catch (const FatalError& e) {
    std::fflush(stdout);
    std::fprintf(stderr, "mtool report: %s\n", e.what());
    return e.exit_code();
  } catch (const std::bad_alloc&) {
    std::fputs("mtool report: out of memory\n", stderr);
    return 1;
  }
}

}  // namespace mtool::commands
