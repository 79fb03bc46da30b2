#pragma once
// Runs multipath discovery: the probes the MdaExplorer asks for go out through any
// ProbeMethod (built to hold flows), up to `sim_probes` in flight (-N), at least `send_wait`
// apart (-z); a probe unanswered after `wait_max` (-w MAX) is sent once more on the same flow
// (`attempts` in all, as tracelb's -q), then given up. Answers get the correlator's overheads
// in one batch per wake-up, as in a plain trace (probe_outcome), before the explorer sees
// them. Unit tests run it on a simulated network and clock.
#include <cstddef>
#include <deque>
#include <map>
#include <utility>
#include <vector>

#include "correlate/overhead_batch.h"
#include "report/hop_probe.h"
#include "trace/mda_explorer.h"
#include "trace/probe_method.h"
#include "util/clock.h"

namespace mtool::trace {

struct MdaScheduleConfig {
  int family = AF_INET;
  unsigned sim_probes = 16;
  Nanos wait_max = std::chrono::seconds{5};
  Nanos send_wait{};
  unsigned attempts = 2;
};

class MdaScheduler {
 public:
  MdaScheduler(MdaScheduleConfig config, MdaExplorer& explorer, ProbeMethod& method,
               const Clock& clock, correlate::OverheadSource* overheads);
  // Discovers to the end; the result is explorer.graph() (probes sent and duration filled).
  // Throws FatalError when a probe cannot be sent at all.
  void run();

 private:
  struct Flight {
    MdaProbe probe;
    unsigned attempt = 0;
  };
  void expire(MonoNs now);
  // Sends what may go now; returns when sending may resume if pacing holds it back.
  std::optional<MonoNs> send_due(MonoNs now);
  void deliver(const std::vector<ProbeReply>& replies);
  [[nodiscard]] std::optional<MonoNs> next_expiry() const;

  MdaScheduleConfig config_;
  MdaExplorer& explorer_;
  ProbeMethod& method_;
  const Clock& clock_;
  correlate::OverheadSource* overheads_;
  std::deque<report::HopProbe> probes_;  // every probe sent, by index
  std::map<std::size_t, Flight> in_flight_;
  std::deque<Flight> retries_;
  MonoNs last_send_{};
  std::vector<ProbeReply> replies_;
  // deliver()'s, kept from burst to burst: the answered flights, and those with an identity.
  std::vector<std::pair<std::size_t, Flight>> answered_;
  std::vector<report::HopProbe*> identified_;
  correlate::OverheadBatch batch_;
};

}  // namespace mtool::trace
