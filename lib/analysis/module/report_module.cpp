// The report module (mtool-report.so): `mtool report`'s work behind the C interface of
// modules/report_abi.h. The executable parsed the command line; here the request is checked
// where it needs this layer (--by, --plot), the inputs read once, and the report written.
#include <cerrno>
#include <cstdio>
#include <exception>
#include <memory>
#include <new>
#include <optional>
#include <string>
#include <vector>

#include "analysis/gnuplot_plot.h"
#include "analysis/plot_figure.h"
#include "analysis/report_aggregator.h"
#include "analysis/report_input.h"
#include "analysis/report_model.h"
#include "analysis/report_writers.h"
#include "modules/report_abi.h"
#include "util/error.h"
#include "util/printable.h"

namespace mtool::analysis {
namespace {

constexpr int kExitBadInput = 1;  // --strict and a line that is not a result; no result at all
constexpr int kExitUsage = 2;     // a bad --by or --plot, an input that cannot be read, no plot

[[noreturn]] void usage_error(const std::string& text) { throw FatalError(text, kExitUsage); }

struct Plot {
  std::string file;
  PlotFormat format;
  std::string gnuplot;
  PlotLimits limits;
};

Grouping grouping_of(const mtool_report_request& request) {
  std::string error;
  const auto grouping = parse_grouping(request.by != nullptr ? request.by : "", error);
  if (!grouping) usage_error(error);
  return *grouping;
}

std::optional<Plot> plot_of(const mtool_report_request& request) {
  if (request.plot == nullptr) return std::nullopt;
  const std::string file = request.plot;
  const auto format = plot_format_of(file);
  if (!format) usage_error("--plot: " + printable(file) + " is neither .svg nor .png");
  const auto gnuplot = find_gnuplot();
  if (!gnuplot) {
    usage_error(
        "--plot needs gnuplot, which is not on PATH (Debian: apt-get install gnuplot-nox; the "
        "image has none: draw on the host)");
  }
  return Plot{file, *format, *gnuplot, PlotLimits{request.plot_targets, request.plot_vantages}};
}

ReportTables tables_of(const mtool_report_request& request) {
  switch (request.tables) {
    case MTOOL_REPORT_SUMMARY:
      return ReportTables::kSummary;
    case MTOOL_REPORT_PATHS:
      return ReportTables::kPaths;
    default:
      return ReportTables::kAll;
  }
}

std::string written(const Report& model, const mtool_report_request& request) {
  switch (request.format) {
    case MTOOL_REPORT_JSON:
      return report_json(model, tables_of(request));
    case MTOOL_REPORT_CSV:
      return report_csv(model, tables_of(request));
    default:
      return report_text(model, tables_of(request));
  }
}

int run(const mtool_report_request& request) {
  const Grouping grouping = grouping_of(request);
  const std::optional<Plot> plot = plot_of(request);
  const bool strict = request.strict != 0;

  ReportAggregator report(grouping);
  // The plot is per target and vantage point whatever --by says: its own groups when they differ.
  std::unique_ptr<ReportAggregator> plot_groups;
  if (plot && !(grouping == Grouping{}))
    plot_groups = std::make_unique<ReportAggregator>(Grouping{});
  ReportInput input(
      [&](const ResultRecord& record, std::string_view source) {
        report.add(record, source);
        if (plot_groups) plot_groups->add(record, source);
      },
      [&](const std::string& where, const std::string& why) {
        if (strict) throw FatalError(where + ": " + why + " (--strict)", kExitBadInput);
        std::fflush(stdout);
        std::fprintf(stderr, "mtool report: %s: %s; skipped\n", where.c_str(), why.c_str());
      });
  for (std::size_t i = 0; i < request.input_count; ++i) {
    const std::string failed = input.read(request.inputs[i]);
    if (!failed.empty()) usage_error(failed);
  }
  if (input.totals().results == 0) {
    throw FatalError("no ping or traceroute result in " + std::to_string(input.totals().inputs) +
                         (input.totals().inputs == 1 ? " input" : " inputs"),
                     kExitBadInput);
  }

  const std::string text = written(make_report(report, input.totals()), request);
  if (std::fwrite(text.data(), 1, text.size(), stdout) != text.size() || std::fflush(stdout) != 0)
    throw FatalError(with_errno("cannot write the report", errno), kExitBadInput);

  if (plot) {
    const PlotFigure figure = make_plot_figure(plot_groups ? *plot_groups : report, plot->limits);
    const std::string failed = draw_with_gnuplot(figure, plot->file, plot->format, plot->gnuplot);
    if (!failed.empty()) usage_error("--plot: " + failed);
    for (const std::string& note : figure.notes)
      std::fprintf(stderr, "mtool report: --plot: %s\n", note.c_str());
  }
  return 0;
}

// The interface's run: no exception leaves the module.
int run_request(const mtool_report_request* request) noexcept {
  try {
    return run(*request);
  } catch (const FatalError& e) {
    std::fflush(stdout);
    std::fprintf(stderr, "mtool report: %s\n", e.what());
    return e.exit_code();
  } catch (const std::bad_alloc&) {
    std::fflush(stdout);
    std::fputs("mtool report: out of memory\n", stderr);
    return kExitBadInput;
  } catch (const std::exception& e) {
    std::fflush(stdout);
    std::fprintf(stderr, "mtool report: %s\n", e.what());
    return kExitBadInput;
  }
}

constexpr mtool_report_api kApi{MTOOL_REPORT_ABI_VERSION, sizeof(mtool_report_api), run_request};

}  // namespace
}  // namespace mtool::analysis

extern "C" __attribute__((visibility("default"))) const mtool_report_api* mtool_report_v1() {
  return &mtool::analysis::kApi;
}
