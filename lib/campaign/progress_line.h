#pragma once
// The one line `mtool run` keeps refreshed on a terminal: results so far, probe rate, ETA.
#include <string>

#include "campaign/campaign_runner.h"

namespace mtool::campaign {

// "1234/10000 results, 56 running, 2003 probes/s, ETA 0:04" (no total or ETA for an unbounded
// periodic list, no rate in the first second).
std::string progress_line(const RunnerProgress& progress);

}  // namespace mtool::campaign
