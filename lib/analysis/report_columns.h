#pragma once
// The columns of a report's two tables, defined once for every way of writing them: the
// summary (a row per group) and the paths (a row per hop and address). Cells keep their kind,
// so each writer formats them its own way (text: 3 decimals, CSV and JSON: 6).
#include <cstdint>
#include <string>
#include <variant>
#include <vector>

#include "analysis/grouping.h"
#include "analysis/report_model.h"

namespace mtool::analysis {

struct Milliseconds {
  double value;
};
struct Fraction {
  double value;
};
// Nothing to say (monostate), a count, a time, a fraction, a flag, text (as read: writers escape).
using Cell = std::variant<std::monostate, std::uint64_t, Milliseconds, Fraction, bool, std::string>;

struct Column {
  std::string group;    // a heading over several columns (text), "" for none
  std::string heading;  // the column's own heading (text)
  std::string name;     // its name in CSV and JSON
  bool in_text = true;  // shown in the text table too
  bool words = false;   // text (left-aligned), not a number
};

std::vector<Column> summary_columns(const Grouping& grouping);
std::vector<Cell> summary_cells(const SummaryRow& row, const Grouping& grouping);

std::vector<Column> key_columns(const Grouping& grouping);
std::vector<Cell> key_cells(const GroupKey& key, const Grouping& grouping);

// The path table, flat: the group's key and path figures, the hop's, then one address (one row
// per address; a hop that no address answered has one row with no address).
std::vector<Column> path_columns(const Grouping& grouping);
std::vector<std::vector<Cell>> path_cells(const PathRow& path, const Grouping& grouping);

}  // namespace mtool::analysis
