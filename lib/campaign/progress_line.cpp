#include "campaign/progress_line.h"

#include <cmath>
#include <cstdio>

namespace mtool::campaign {

std::string progress_line(const RunnerProgress& p) {
  const double seconds = static_cast<double>(p.elapsed.count()) / 1e9;
  const double rate = seconds > 0 ? static_cast<double>(p.probes_sent) / seconds : 0;
  std::string line = std::to_string(p.completed);
  // Appended piece by piece: GCC 12's -Wrestrict misfires on "/" + std::to_string() at -O3
  // (GCC bug 105329), and main now builds with -Werror.
  if (p.planned != 0) {
    line += '/';
    line += std::to_string(p.planned);
  }
  line += " results, " + std::to_string(p.in_progress) + " running";
  char buffer[64];
  // A rate over less than a second is mostly the first burst: say nothing yet.
  if (seconds >= 1) {
    std::snprintf(buffer, sizeof buffer, ", %.0f probes/s", rate);
    line += buffer;
  }
  if (p.planned != 0 && p.completed > 0 && p.completed <= p.planned) {
    const double per_result = seconds / static_cast<double>(p.completed);
    const long eta = std::lround(per_result * static_cast<double>(p.planned - p.completed));
    std::snprintf(buffer, sizeof buffer, ", ETA %ld:%02ld", eta / 60, eta % 60);
    line += buffer;
  }
  return line;
}

}  // namespace mtool::campaign
