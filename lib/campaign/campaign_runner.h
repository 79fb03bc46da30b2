#pragma once
// `mtool run`'s engine: runs a list of Atlas measurements concurrently in one event loop.
//
//  - Pings share one ICMP socket per address family; replies are told apart by sequence
//    number (a 65536-entry owner table) and checked against the run's destination.
//  - Traceroutes each run the traceroute tool's engine in steps, on their own sockets.
//  - One pacer limits every probe sent, campaign-wide (probes per second).
//  - Memory stays bounded: at most `concurrency` runs exist at once; a definition waits in
//    the schedule as a few words until it starts; each result is written and forgotten as
//    soon as its run completes.
#include <cstdint>
#include <functional>
#include <memory>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "campaign/measurement_list.h"
#include "campaign/result_observer.h"
#include "correlate/overhead_source.h"
#include "util/clock.h"

namespace mtool::campaign {

struct RunnerOptions {
  double probes_per_second = 100;      // campaign-wide (scamper's default)
  unsigned burst = 10;                 // probes that may go back to back
  std::size_t concurrency = 1000;      // runs in progress at once
  std::size_t trace_concurrency = 64;  // of which traceroutes (each holds up to 16 sockets)
  std::uint32_t prb_id = 0;
  std::string from;                      // the vantage point's public address, if known
  std::uint32_t first_msm_id = 1000000;  // msm_id of a definition without one: this + index
  bool breakdown = false;                // per-reply device breakdown
  correlate::OverheadSource* overheads = nullptr;
  const sigset_t* wait_sigmask = nullptr;  // signals to let in while waiting
  std::function<bool()> stop_requested;    // polled each turn of the loop
  // Open the pings' shared sockets first, then keep only the capability later runs still
  // need: CAP_NET_RAW (permitted, not effective) while a TCP or ICMP traceroute may open a raw
  // socket, else none. Off for tests that run the loop inside their own process.
  bool drop_capabilities = false;
  // Shown every result as it is written (--metrics); null: none. Must outlive the runner.
  ResultObserver* observer = nullptr;
  // Called once the shared sockets are open and the capabilities dropped, before the first
  // run: where the metrics server starts, so that its threads hold no privilege the loop gave
  // up. May throw FatalError (nothing has run then).
  std::function<void()> on_start;
};

struct RunnerProgress {
  std::size_t completed = 0;  // results written
  std::size_t planned = 0;    // runs the list asks for (0: unbounded, periodic)
  std::size_t in_progress = 0;
  std::uint64_t probes_sent = 0;
  Nanos elapsed{};
};

struct RunnerTotals {
  std::size_t results = 0;
  std::size_t abandoned = 0;    // in progress when stopped: not written
  std::size_t not_started = 0;  // still scheduled when stopped
  std::uint64_t probes_sent = 0;
  std::uint64_t replies = 0;          // ping replies and traceroute probes answered
  std::uint64_t corrected = 0;        // of which the correlator corrected
  std::uint64_t ignored_packets = 0;  // replies that matched no probe of ours, or the wrong host
  Nanos elapsed{};
  bool stopped = false;
};

class CampaignRunner {
 public:
  using ResultWriter = std::function<void(const nlohmann::json&)>;
  using ProgressObserver = std::function<void(const RunnerProgress&)>;

  CampaignRunner(std::vector<MeasurementDefinition> definitions, RunnerOptions options,
                 ResultWriter write, const Clock& clock);
  ~CampaignRunner();
  CampaignRunner(const CampaignRunner&) = delete;
  CampaignRunner& operator=(const CampaignRunner&) = delete;

  // Called about four times a second while running.
  void observe(ProgressObserver observer);
  // Runs until every run completed, or until stop_requested() says so. Throws FatalError
  // only when nothing can be measured at all.
  RunnerTotals run();

 private:
  class Loop;
  std::unique_ptr<Loop> loop_;
};

}  // namespace mtool::campaign
