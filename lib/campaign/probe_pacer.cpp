#include "campaign/probe_pacer.h"

#include <algorithm>
#include <cmath>

namespace mtool::campaign {

ProbePacer::ProbePacer(double probes_per_second, unsigned burst)
    : spacing_(std::max<std::int64_t>(1, std::llround(1e9 / probes_per_second))),
      tolerance_(spacing_ * (std::max(burst, 1U) - 1)) {}

bool ProbePacer::available(MonoNs now) const { return theoretical_arrival_ - tolerance_ <= now; }

std::optional<MonoNs> ProbePacer::defer_until(MonoNs now) {
  if (!available(now)) return theoretical_arrival_ - tolerance_;
  theoretical_arrival_ = std::max(theoretical_arrival_, now) + spacing_;
  ++granted_;
  return std::nullopt;
}

}  // namespace mtool::campaign
