#pragma once
// `mtool traceroute --mda`: the part of the traceroute command that runs multipath discovery
// once the method is open (trace_command does the rest: options, names, privileges, the
// correlator), and writes the graph as text or, with --json, JSON.
#include "correlate/overhead_source.h"
#include "net/address.h"
#include "trace/method_common.h"
#include "trace/probe_method.h"
#include "trace/trace_options.h"
#include "util/clock.h"

namespace mtool::commands {

struct MdaTraceInputs {
  const trace::TraceOptions& options;
  const trace::MethodSetup& setup;
  trace::ProbeMethod& method;
  const Clock& clock;
  correlate::OverheadSource* overheads;
};

// Returns the exit code (0: the discovery ran, whether or not it reached the destination).
int run_multipath_discovery(const MdaTraceInputs& inputs);

}  // namespace mtool::commands
