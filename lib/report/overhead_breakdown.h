#pragma once
// The device-by-device account of one probe's overhead (--breakdown), shared by ping and
// traceroute: one line per stage (egress, wire or the host's turnaround, ingress, shared),
// each listing the devices crossed with their offsets.
#include <cstdint>
#include <string>
#include <vector>

#include "correlate/probe_overhead.h"

namespace mtool::report {

// The lines, without line ends (ping ends each one, traceroute starts each one on a new line).
// `label` names the probe when several share a block (traceroute), or is empty (ping).
std::vector<std::string> overhead_breakdown_lines(const correlate::ProbeOverhead& overhead,
                                                  std::int64_t shared_ns,
                                                  const std::string& label = "");

}  // namespace mtool::report
