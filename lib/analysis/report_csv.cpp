// report_csv: RFC 4180 tables, the summary then the paths, a blank line between them.
#include <cstdio>
#include <string_view>

#include "analysis/report_columns.h"
#include "analysis/report_writers.h"

namespace mtool::analysis {

namespace {

// Text comes from result files, which any vantage point (a tenant's container) writes: a
// target named "=HYPERLINK(...)" would be a formula to the spreadsheet that opens the CSV.
// A cell that would start as a formula starts with an apostrophe instead (OWASP's advice);
// no host name, address or file name mtool writes starts that way.
bool starts_like_a_formula(const std::string& text) {
  return !text.empty() && std::string_view("=+-@\t\r").find(text.front()) != std::string_view::npos;
}

std::string quoted(const std::string& plain) {
  std::string text = starts_like_a_formula(plain) ? "'" + plain : plain;
  if (text.find_first_of(",\"\r\n") == std::string::npos) return text;
  std::string out = "\"";
  for (const char c : text) {
    if (c == '"') out += '"';
    out += c;
  }
  return out + "\"";
}

std::string decimal(double value) {
  char text[64];
  std::snprintf(text, sizeof text, "%.6f", value);
  return text;
}

std::string csv_cell(const Cell& cell) {
  struct Visitor {
    std::string operator()(std::monostate) const { return ""; }
    std::string operator()(std::uint64_t n) const { return std::to_string(n); }
    std::string operator()(Milliseconds m) const { return decimal(m.value); }
    std::string operator()(Fraction f) const { return decimal(f.value); }
    std::string operator()(bool b) const { return b ? "true" : "false"; }
    std::string operator()(const std::string& s) const { return quoted(s); }
  };
  return std::visit(Visitor{}, cell);
}

void add_line(std::string& out, const std::vector<std::string>& fields) {
  for (std::size_t i = 0; i < fields.size(); ++i) {
    if (i > 0) out += ',';
    out += fields[i];
  }
  out += "\r\n";
}

void add_table(std::string& out, const std::vector<Column>& columns,
               const std::vector<std::vector<Cell>>& rows) {
  std::vector<std::string> fields;
  fields.reserve(columns.size());
  for (const Column& c : columns) fields.push_back(c.name);
  add_line(out, fields);
  for (const auto& row : rows) {
    fields.clear();
    for (const Cell& cell : row) fields.push_back(csv_cell(cell));
    add_line(out, fields);
  }
}

}  // namespace

std::string report_csv(const Report& report, ReportTables tables) {
  std::string out;
  if (tables != ReportTables::kPaths) {
    std::vector<std::vector<Cell>> rows;
    for (const SummaryRow& row : report.summary)
      rows.push_back(summary_cells(row, report.grouping));
    add_table(out, summary_columns(report.grouping), rows);
  }
  if (tables != ReportTables::kSummary &&
      (tables == ReportTables::kPaths || !report.paths.empty())) {
    std::vector<std::vector<Cell>> rows;
    for (const PathRow& path : report.paths) {
      for (auto& row : path_cells(path, report.grouping)) rows.push_back(std::move(row));
    }
    if (!out.empty()) out += "\r\n";
    add_table(out, path_columns(report.grouping), rows);
  }
  return out;
}

}  // namespace mtool::analysis
