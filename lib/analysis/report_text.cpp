// report_text: the aligned tables a person reads, text quoted from the results escaped.
#include <cstdio>

#include "analysis/report_columns.h"
#include "analysis/report_writers.h"
#include "analysis/text_table.h"
#include "util/printable.h"

namespace mtool::analysis {

namespace {

std::string format(const char* pattern, double value) {
  char text[64];
  std::snprintf(text, sizeof text, pattern, value);
  return text;
}

std::string cell_text(const Cell& cell) {
  struct Visitor {
    std::string operator()(std::monostate) const { return "-"; }
    std::string operator()(std::uint64_t n) const { return std::to_string(n); }
    std::string operator()(Milliseconds m) const { return format("%.3f", m.value); }
    std::string operator()(Fraction f) const { return format("%.1f%%", f.value * 100); }
    std::string operator()(bool b) const { return b ? "yes" : ""; }
    std::string operator()(const std::string& s) const { return printable(s); }
  };
  return std::visit(Visitor{}, cell);
}

std::string summary_text(const Report& report) {
  const auto columns = summary_columns(report.grouping);
  std::vector<TextTable::Column> shown;
  for (const Column& c : columns) {
    if (c.in_text) shown.push_back({c.group, c.heading, !c.words});
  }
  TextTable table(std::move(shown));
  for (const SummaryRow& row : report.summary) {
    const auto cells = summary_cells(row, report.grouping);
    std::vector<std::string> texts;
    for (std::size_t i = 0; i < columns.size(); ++i) {
      if (columns[i].in_text) texts.push_back(cell_text(cells[i]));
    }
    table.add_row(std::move(texts));
  }
  return table.render();
}

std::string path_heading(const PathRow& path, const Grouping& grouping) {
  std::string text = "traceroute";
  for (const GroupField field : grouping.fields) {
    switch (field) {
      case GroupField::kTarget:
        text += " to " + printable(path.key.target);
        break;
      case GroupField::kVantage:
        text += " from " + printable(path.key.vantage);
        break;
      case GroupField::kMsm:
        text += " msm " + std::to_string(path.key.msm.value_or(0));
        break;
      case GroupField::kHour:
        text += " in " + hour_text(path.key.hour.value_or(0));
        break;
    }
  }
  const auto plural = [](std::uint64_t n, const char* one, const char* many) {
    return std::to_string(n) + " " + (n == 1 ? one : many);
  };
  text += ": " + plural(path.runs, "run", "runs") + ", " +
          (path.distinct_paths_capped ? "at least " : "") +
          plural(path.distinct_paths, "distinct path", "distinct paths") + ", " +
          plural(path.changes, "change", "changes");
  if (path.paris_ids > 1)
    text += " (runs compared per paris_id: " + std::to_string(path.paris_ids) + " ids)";
  return text + "\n";
}

std::string address_text(const AddressRow& a) {
  std::string text = printable(a.address);
  if (a.virtual_hop) text += " [virtual]";
  if (!a.errors.empty()) text += " !" + printable(a.errors);
  return text;
}

std::string path_text(const PathRow& path, const Grouping& grouping) {
  TextTable table({{"", "hop", true},
                   {"", "probes", true},
                   {"", "loss", true},
                   {"", "late", true},
                   {"", "address", false},
                   {"", "share", true},
                   {"", "raw p50 ms", true},
                   {"", "corrected p50 ms", true}});
  for (const HopRow& hop : path.hops) {
    std::vector<std::string> first{
        std::to_string(hop.hop),
        std::to_string(hop.probes),
        cell_text(hop.loss ? Cell{Fraction{*hop.loss}} : Cell{}),
        hop.late == 0 ? "" : std::to_string(hop.late),
        "*",
        "",
        cell_text(hop.raw_median ? Cell{Milliseconds{*hop.raw_median}} : Cell{}),
        cell_text(hop.corrected_median ? Cell{Milliseconds{*hop.corrected_median}} : Cell{})};
    std::vector<std::pair<std::string, std::uint64_t>> answers;
    for (const AddressRow& a : hop.addresses) answers.emplace_back(address_text(a), a.replies);
    if (hop.other_replies > 0) answers.emplace_back("(other addresses)", hop.other_replies);
    for (std::size_t i = 0; i < answers.size(); ++i) {
      std::vector<std::string> row =
          i == 0 ? first : std::vector<std::string>{"", "", "", "", "", "", "", ""};
      row[4] = answers[i].first;
      row[5] = format("%.0f%%", 100.0 * static_cast<double>(answers[i].second) /
                                    static_cast<double>(hop.replies));
      table.add_row(std::move(row));
    }
    if (answers.empty()) table.add_row(std::move(first));
  }
  return path_heading(path, grouping) + table.render(2);
}

}  // namespace

std::string report_text(const Report& report, ReportTables tables) {
  std::string out;
  if (tables != ReportTables::kPaths && !report.summary.empty()) out += summary_text(report);
  if (tables != ReportTables::kSummary) {
    for (const PathRow& path : report.paths) {
      if (!out.empty()) out += '\n';
      out += path_text(path, report.grouping);
    }
  }
  const InputTotals& in = report.input;
  if (!out.empty()) out += '\n';
  out += std::to_string(in.results) + " results from " + std::to_string(in.inputs) +
         (in.inputs == 1 ? " input" : " inputs");
  if (in.skipped > 0) out += ", " + std::to_string(in.skipped) + " lines skipped (not results)";
  out += '\n';
  return out;
}

}  // namespace mtool::analysis
