#pragma once
// The traceroute engine: Butskoy's schedule, probe for probe. Up to `sim_probes` probes are in
// flight at once across hops; hops are printed strictly in order as soon as each one is
// settled; a probe is given up after MAX seconds, or sooner when its own hop (HERE) or a later
// hop (NEAR) already answered faster; the trace ends with the hop whose reply was final.
#include <cstddef>
#include <cstdint>
#include <optional>
#include <vector>

#include "correlate/overhead_batch.h"
#include "report/hop_probe.h"
#include "report/probe_printer.h"
#include "trace/probe_method.h"
#include "trace/probe_outcome.h"
#include "util/clock.h"

namespace mtool::trace {

struct ScheduleConfig {
  int family = AF_INET;
  unsigned first_hop = 1;
  unsigned max_hops = 30;
  unsigned probes_per_hop = 3;
  unsigned sim_probes = 16;
  Nanos wait_max = std::chrono::seconds{5};
  double wait_here = 3;  // 0: off
  double wait_near = 10;
  Nanos send_wait{};  // -z: at least this long between two sends
  FlowId flow = 0;    // Paris: the one flow every probe holds (if the method does)
};

// Paces sends from outside (a campaign's global probes-per-second limit).
class SendGate {
 public:
  virtual ~SendGate() = default;
  // nullopt: a probe may go now (and is counted); else when to ask again.
  virtual std::optional<MonoNs> defer_until(MonoNs now) = 0;
};

class TraceScheduler {
 public:
  TraceScheduler(ScheduleConfig config, ProbeMethod& method, report::ProbePrinter& printer,
                 const Clock& clock, correlate::OverheadSource* overheads,
                 SendGate* gate = nullptr);
  // Runs the trace to the end. Throws FatalError when a probe cannot be sent at all.
  void run();

  // The same in steps, for a caller that waits on many traces at once (mtool run):
  // advance() prints what is settled and sends what is due, and returns when to call it again
  // (nullopt: the trace is over); deliver() applies replies the method reported meanwhile.
  std::optional<MonoNs> advance();
  void deliver(const std::vector<ProbeReply>& replies);
  [[nodiscard]] const std::vector<report::HopProbe>& probes() const { return probes_; }

 private:
  [[nodiscard]] Nanos timeout(std::size_t index) const;
  void check_expired(std::size_t index);
  void apply(const ProbeReply& reply);
  void take_overheads();
  [[nodiscard]] unsigned ttl_of(std::size_t index) const {
    return static_cast<unsigned>(index / config_.probes_per_hop) + 1;
  }

  ScheduleConfig config_;
  ProbeMethod& method_;
  report::ProbePrinter& printer_;
  const Clock& clock_;
  correlate::OverheadSource* overheads_;
  SendGate* gate_;
  std::vector<report::HopProbe> probes_;
  std::size_t start_ = 0;  // the next probe to print
  std::size_t end_ = 0;    // one past the last probe that may be sent (shrinks at a final hop)
  MonoNs last_send_{};
  std::vector<ProbeReply> replies_;
  // Answered since the last batch (probes_ never grows, so the pointers hold).
  std::vector<report::HopProbe*> awaiting_overhead_;
  correlate::OverheadBatch batch_;
};

}  // namespace mtool::trace
