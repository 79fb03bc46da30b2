#include "correlate/correction.h"

#include <algorithm>

namespace mtool::correlate {

CorrectedRtt correct_rtt(std::int64_t raw_ns, const ProbeOverhead& overhead) {
  const std::int64_t taken = std::clamp<std::int64_t>(overhead.egress_ns + overhead.ingress_ns, 0, raw_ns);
  return {raw_ns - taken, taken};
}

}  // namespace mtool::correlate
