#pragma once
// From a raw RTT and the correlator's overhead to the corrected RTT: what the same tool would
// have measured on the host itself. The README ("Corrected RTT") explains the model.
#include <cstdint>

#include "correlate/probe_overhead.h"

namespace mtool::correlate {

struct CorrectedRtt {
  std::int64_t corrected_ns = 0;
  std::int64_t overhead_ns = 0;  // what was taken off: raw - corrected
};

CorrectedRtt correct_rtt(std::int64_t raw_ns, const ProbeOverhead& overhead);

}  // namespace mtool::correlate
