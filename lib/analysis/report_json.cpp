// report_json: one document, {"input", "group_by", "summary": [...], "paths": [...]}, with the
// column names of the CSV tables; a path's hops and their addresses nested.
#include <cmath>
#include <nlohmann/json.hpp>

#include "analysis/report_columns.h"
#include "analysis/report_writers.h"

namespace mtool::analysis {

namespace {

using json = nlohmann::ordered_json;

double six_decimals(double value) { return std::round(value * 1e6) / 1e6; }

json json_cell(const Cell& cell) {
  struct Visitor {
    json operator()(std::monostate) const { return nullptr; }
    json operator()(std::uint64_t n) const { return n; }
    json operator()(Milliseconds m) const { return six_decimals(m.value); }
    json operator()(Fraction f) const { return six_decimals(f.value); }
    json operator()(bool b) const { return b; }
    json operator()(const std::string& s) const { return s; }
  };
  return std::visit(Visitor{}, cell);
}

json optional_ms(std::optional<double> value) {
  return value ? json(six_decimals(*value)) : json(nullptr);
}

json path_json(const PathRow& path, const Grouping& grouping) {
  json out;
  const auto columns = key_columns(grouping);
  const auto cells = key_cells(path.key, grouping);
  for (std::size_t i = 0; i < columns.size(); ++i) out[columns[i].name] = json_cell(cells[i]);
  out["runs"] = path.runs;
  out["distinct_paths"] = path.distinct_paths;
  out["distinct_paths_capped"] = path.distinct_paths_capped;
  out["path_changes"] = path.changes;
  out["paris_ids"] = path.paris_ids;
  json hops = json::array();
  for (const HopRow& hop : path.hops) {
    json addresses = json::array();
    for (const AddressRow& a : hop.addresses) {
      json errors = json::array();
      std::string_view rest = a.errors;
      while (!rest.empty()) {
        const std::size_t comma = rest.find(',');
        errors.push_back(std::string(rest.substr(0, comma)));
        rest = comma == std::string_view::npos ? std::string_view() : rest.substr(comma + 1);
      }
      addresses.push_back({{"address", a.address},
                           {"replies", a.replies},
                           {"share", six_decimals(a.share)},
                           {"virtual", a.virtual_hop},
                           {"icmp_errors", std::move(errors)}});
    }
    hops.push_back({{"hop", hop.hop},
                    {"probes", hop.probes},
                    {"replies", hop.replies},
                    {"timeouts", hop.timeouts},
                    {"errors", hop.errors},
                    {"late", hop.late},
                    {"duplicates", hop.duplicates},
                    {"unsent", hop.unsent},
                    {"loss", hop.loss ? json(six_decimals(*hop.loss)) : json(nullptr)},
                    {"rtt_p50_ms", optional_ms(hop.raw_median)},
                    {"corrected_p50_ms", optional_ms(hop.corrected_median)},
                    {"addresses", std::move(addresses)},
                    {"other_replies", hop.other_replies}});
  }
  out["hops"] = std::move(hops);
  return out;
}

}  // namespace

std::string report_json(const Report& report, ReportTables tables) {
  json out;
  out["input"] = {{"inputs", report.input.inputs},
                  {"lines", report.input.lines},
                  {"results", report.input.results},
                  {"skipped", report.input.skipped}};
  json by = json::array();
  for (const GroupField f : report.grouping.fields) by.push_back(group_field_name(f));
  out["group_by"] = std::move(by);
  if (tables != ReportTables::kPaths) {
    const auto columns = summary_columns(report.grouping);
    json rows = json::array();
    for (const SummaryRow& row : report.summary) {
      const auto cells = summary_cells(row, report.grouping);
      json object;
      for (std::size_t i = 0; i < columns.size(); ++i)
        object[columns[i].name] = json_cell(cells[i]);
      rows.push_back(std::move(object));
    }
    out["summary"] = std::move(rows);
  }
  if (tables != ReportTables::kSummary) {
    json paths = json::array();
    for (const PathRow& path : report.paths) paths.push_back(path_json(path, report.grouping));
    out["paths"] = std::move(paths);
  }
  // Text from the results may not be valid UTF-8: replaced, never a failure.
  return out.dump(-1, ' ', false, json::error_handler_t::replace) + "\n";
}

}  // namespace mtool::analysis
