#pragma once
// The device-by-device account of one probe's overhead (--breakdown), shared by ping and
// traceroute: one line per stage (egress, wire, ingress), each listing the devices crossed
// with their offsets.
#include <cstdint>
#include <cstdio>

#include "correlate/probe_overhead.h"

namespace mtool::report {

// `label` names the probe when several share a block (traceroute), or is empty (ping).
void print_overhead_breakdown(std::FILE* out, const correlate::ProbeOverhead& overhead,
                              std::int64_t shared_ns, const char* label = "");

}  // namespace mtool::report
