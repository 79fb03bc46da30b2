#pragma once
// One run of an Atlas traceroute measurement on the traceroute tool's own engine: the same
// probe methods and Butskoy schedule, stepped by the campaign's loop instead of blocking, and
// paced by the campaign's gate. Hops come out as Atlas hop results.
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "campaign/measurement_list.h"
#include "correlate/overhead_source.h"
#include "net/address.h"
#include "report/atlas_results.h"
#include "trace/probe_method.h"
#include "trace/trace_scheduler.h"
#include "util/clock.h"

namespace mtool::campaign {

struct TraceRunSetup {
  net::IpAddress destination;
  std::uint16_t icmp_ident = 0;  // unique among the campaign's raw ICMP users
  correlate::OverheadSource* overheads = nullptr;
  bool breakdown = false;
  trace::SendGate* gate = nullptr;
  std::uint64_t ordinal = 1;  // which run of its definition (1: the first)
};

// Atlas' paris_id for run `ordinal` of a definition with `paris` (its probe code counts the
// runs and sends run n on flow n mod paris); nullopt for a classic trace (paris 0).
std::optional<unsigned> atlas_paris_id(unsigned paris, std::uint64_t ordinal);

// The Atlas result of a traceroute of `parameters` that ended at `endtime_s` (Unix seconds)
// with `hops`; `error`: why it could not start or go on (then Atlas' error-only result).
report::AtlasTracerouteResult traceroute_result(const TracerouteParameters& parameters,
                                                report::AtlasHeader header, std::int64_t endtime_s,
                                                std::vector<report::AtlasHop> hops,
                                                std::string error = {},
                                                std::optional<unsigned> paris_id = {});

class TraceRun {
 public:
  // Opens the method's sockets: throws FatalError (one line) when it cannot.
  TraceRun(const TracerouteParameters& parameters, const TraceRunSetup& setup, const Clock& clock);
  ~TraceRun();
  TraceRun(const TraceRun&) = delete;
  TraceRun& operator=(const TraceRun&) = delete;

  // Sends what is due and settles what expired; when to call again, nullopt once it is over.
  std::optional<MonoNs> advance();
  // The descriptors to poll, and reading them once poll says there is input.
  void descriptors(std::vector<int>& fds) const { method_->descriptors(fds); }
  void read_input();

  // The packet size Atlas reports (the probe's IP packet).
  [[nodiscard]] std::size_t packet_length() const { return method_->packet_length(); }
  [[nodiscard]] std::vector<report::AtlasHop> take_hops();
  // The run's Atlas result, under `header`, ending now (`endtime_s`); takes the hops.
  [[nodiscard]] report::AtlasTracerouteResult result(report::AtlasHeader header,
                                                     std::int64_t endtime_s,
                                                     std::string error = {});

 private:
  TracerouteParameters parameters_;
  std::optional<unsigned> paris_id_;
  class HopCollector;
  std::unique_ptr<trace::ProbeMethod> method_;
  std::unique_ptr<HopCollector> collector_;
  std::unique_ptr<trace::TraceScheduler> scheduler_;
  std::vector<trace::ProbeReply> replies_;
};

}  // namespace mtool::campaign
