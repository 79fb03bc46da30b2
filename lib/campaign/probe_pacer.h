#pragma once
// A campaign's one global probe rate (scamper's -p): every measurement, ping or traceroute,
// takes a token from the same pacer before it sends. A generic cell rate algorithm: a probe
// may go when the virtual schedule is no more than `burst` probes ahead of now, so short
// bursts are smoothed but the long-run rate never exceeds the limit.
#include <cstdint>
#include <optional>

#include "trace/trace_scheduler.h"
#include "util/clock.h"

namespace mtool::campaign {

class ProbePacer final : public trace::SendGate {
 public:
  // `probes_per_second` > 0; `burst` >= 1 probes may go back to back.
  ProbePacer(double probes_per_second, unsigned burst);

  // nullopt: a probe may go now (and is counted); else when to ask again.
  std::optional<MonoNs> defer_until(MonoNs now) override;
  // Whether a probe could go now, without taking it.
  [[nodiscard]] bool available(MonoNs now) const;
  // When a probe may go next.
  [[nodiscard]] MonoNs next_available() const { return theoretical_arrival_ - tolerance_; }
  [[nodiscard]] std::uint64_t granted() const { return granted_; }

 private:
  Nanos spacing_;
  Nanos tolerance_;  // (burst - 1) spacings
  MonoNs theoretical_arrival_{};
  std::uint64_t granted_ = 0;
};

}  // namespace mtool::campaign
