#pragma once
// A report written out: an aligned text table (for a person), CSV (one table per blank-line
// separated block, each with its header) or one JSON document.
#include <string>

#include "analysis/report_model.h"

namespace mtool::analysis {

enum class ReportTables { kAll, kSummary, kPaths };

std::string report_text(const Report& report, ReportTables tables);
std::string report_csv(const Report& report, ReportTables tables);
std::string report_json(const Report& report, ReportTables tables);

}  // namespace mtool::analysis
