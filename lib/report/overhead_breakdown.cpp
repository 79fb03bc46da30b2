#include "report/overhead_breakdown.h"

#include <cstdio>

namespace mtool::report {
namespace {

std::string stage_head(const std::string& prefix, const char* stage, std::int64_t total_ns) {
  char text[64];
  std::snprintf(text, sizeof text, "%-7s %7.1f us:", stage, static_cast<double>(total_ns) / 1e3);
  return prefix + text;
}

std::string path_line(const std::string& prefix, const char* stage, std::int64_t total_ns,
                      const std::vector<correlate::DeviceCrossing>& list) {
  std::string line = stage_head(prefix, stage, total_ns);
  for (std::size_t i = 0; i < list.size(); ++i) {
    const auto& d = list[i];
    char offset[32];
    std::snprintf(offset, sizeof offset, " %.1f", static_cast<double>(d.offset_ns) / 1e3);
    line += (i == 0 ? " " : " > ") + (d.device.empty() ? std::string("?") : d.device) + "/" +
            correlate::hook_name(d.hook) + offset;
  }
  return line;
}

}  // namespace

std::vector<std::string> overhead_breakdown_lines(const correlate::ProbeOverhead& o,
                                                  std::int64_t shared_ns,
                                                  const std::string& label) {
  const std::string prefix = "    " + label;
  std::vector<std::string> lines;
  lines.push_back(path_line(prefix, "egress", o.egress_ns, o.egress));
  if (o.answered_inside_host) {
    lines.push_back(stage_head(prefix, "host", o.wire_ns) + " answered inside the host");
  } else if (o.target.empty()) {
    lines.push_back(stage_head(prefix, "wire", o.wire_ns) + " uplink to uplink");
  } else {
    lines.push_back(path_line(prefix, "wire", o.wire_ns, o.target));
  }
  lines.push_back(path_line(prefix, "ingress", o.ingress_ns, o.ingress));
  if (shared_ns != 0) {
    lines.push_back(stage_head(prefix, "shared", shared_ns) +
                    " egress excess over the local target's warm path, given back");
  }
  return lines;
}

}  // namespace mtool::report
