#pragma once
// From a raw RTT and the correlator's overhead to the corrected RTT: what the same tool would
// have measured on the host itself. README, "Corrected RTT", explains the model:
//
//   corrected = raw - egress - ingress + shared
//
// `shared` is nonzero only when the target runs on this host too (its crossings were seen).
// The container's request then runs, cold, kernel code that the target's side runs again
// right after, warm: the device hand-off (transmit -> peer receive) and the receive backlog.
// A probe sent from the host would have paid that cold cost on the target's side instead, so
// the excess of each egress stage over its warm twin on the target's side is given back.
#include <cstdint>
#include <optional>

#include "correlate/probe_overhead.h"

namespace mtool::correlate {

struct CorrectedRtt {
  std::int64_t corrected_ns = 0;
  std::int64_t overhead_ns = 0;  // what was taken off: raw - corrected
  std::int64_t shared_ns = 0;    // given back (see above)
};

// nullopt when the overhead does not fit in the RTT (it cannot, for a record of this probe:
// the RTT spans egress, wire and ingress), so a wrong correction is never printed.
std::optional<CorrectedRtt> correct_rtt(std::int64_t raw_ns, const ProbeOverhead& overhead);

// The `shared` term alone (0 for a target out on the network).
std::int64_t shared_with_local_target(const ProbeOverhead& overhead);

}  // namespace mtool::correlate
