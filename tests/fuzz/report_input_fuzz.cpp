// libFuzzer target for `mtool report`'s reading of results: any bytes, as JSON lines or one
// JSON array, through the parser (simdjson On Demand), the aggregation, every writer and the
// plot script. A complaint must be one printable line; every line is a result, skipped or
// blank; nothing crashes, reads out of bounds (ASan) or hangs.
#include <sys/mman.h>
#include <unistd.h>

#include <cstdint>
#include <cstdlib>
#include <string>

#include "analysis/gnuplot_plot.h"
#include "analysis/plot_figure.h"
#include "analysis/report_aggregator.h"
#include "analysis/report_input.h"
#include "analysis/report_model.h"
#include "analysis/report_writers.h"
#include "util/fd.h"

using namespace mtool::analysis;  // NOLINT(google-build-using-namespace)

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const mtool::UniqueFd fd(::memfd_create("report-fuzz", MFD_CLOEXEC));
  if (!fd) std::abort();
  if (size > 0 && ::write(fd.get(), data, size) != static_cast<ssize_t>(size)) std::abort();
  ::lseek(fd.get(), 0, SEEK_SET);

  ReportAggregator by_target(Grouping{});
  ReportAggregator by_hour(Grouping{{GroupField::kHour, GroupField::kMsm}});
  ReportInput input(
      [&](const ResultRecord& record, std::string_view source) {
        by_target.add(record, source);
        by_hour.add(record, source);
      },
      [](const std::string& where, const std::string& why) {
        if (why.empty()) std::abort();
        for (const char c : where + why) {
          if (static_cast<unsigned char>(c) < 0x20 || c == 0x7f) std::abort();
        }
      },
      ReportInput::Limits{.max_line = 4096, .max_array = 1 << 20});
  (void)input.read_fd(fd.get(), "fuzz");
  const InputTotals& totals = input.totals();
  if (totals.results + totals.skipped > totals.lines + 1) std::abort();

  for (const ReportAggregator* aggregator : {&by_target, &by_hour}) {
    const Report report = make_report(*aggregator, totals);
    for (const ReportTables tables : {ReportTables::kAll, ReportTables::kPaths}) {
      (void)report_text(report, tables);
      (void)report_csv(report, tables);
      (void)report_json(report, tables);
    }
  }
  const std::string script =
      gnuplot_script(make_plot_figure(by_target, PlotLimits{}), PlotFormat::kSvg);
  // Nothing read may end a quoted string early: every quote opens and closes on one line.
  std::size_t quotes = 0;
  for (const char c : script) {
    if (c == '\'') ++quotes;
    if (c == '\n' && quotes % 2 != 0) std::abort();
  }
  return 0;
}
