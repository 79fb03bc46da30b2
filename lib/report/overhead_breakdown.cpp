#include "report/overhead_breakdown.h"

#include <string>
#include <vector>

namespace mtool::report {

void print_overhead_breakdown(std::FILE* out, const correlate::ProbeOverhead& o,
                              std::int64_t shared_ns, const char* label) {
  const std::string prefix = std::string("    ") + label;
  const auto path = [&](const char* stage, std::int64_t total_ns,
                        const std::vector<correlate::DeviceCrossing>& list) {
    std::fprintf(out, "%s%-7s %7.1f us:", prefix.c_str(), stage,
                 static_cast<double>(total_ns) / 1e3);
    for (std::size_t i = 0; i < list.size(); ++i) {
      const auto& d = list[i];
      std::fprintf(out, "%s %s/%s %.1f", i == 0 ? "" : " >",
                   d.device.empty() ? "?" : d.device.c_str(), correlate::hook_name(d.hook),
                   static_cast<double>(d.offset_ns) / 1e3);
    }
    std::fputc('\n', out);
  };
  path("egress", o.egress_ns, o.egress);
  if (o.answered_inside_host) {
    std::fprintf(out, "%s%-7s %7.1f us: answered inside the host\n", prefix.c_str(), "host",
                 static_cast<double>(o.wire_ns) / 1e3);
  } else if (o.target.empty()) {
    std::fprintf(out, "%s%-7s %7.1f us: uplink to uplink\n", prefix.c_str(), "wire",
                 static_cast<double>(o.wire_ns) / 1e3);
  } else {
    path("wire", o.wire_ns, o.target);
  }
  path("ingress", o.ingress_ns, o.ingress);
  if (shared_ns != 0) {
    std::fprintf(out,
                 "%s%-7s %7.1f us: egress excess over the local target's warm path, given back\n",
                 prefix.c_str(), "shared", static_cast<double>(shared_ns) / 1e3);
  }
}

}  // namespace mtool::report
