#pragma once
// Everything the daemon counts, in one place, for its metrics (correlator_metrics): plain data,
// gathered when scraped (the kernel's counters and histograms) or kept by the loop (its own).
#include <cstdint>
#include <string>
#include <vector>

#include "correlator/kernel_programs.h"
#include "correlator/namespace_histograms.h"
#include "correlator/namespace_listeners.h"
#include "correlator/query_server.h"

namespace mtool::correlator {

struct MapFill {
  std::string map;  // the BPF map's name
  std::uint64_t entries = 0;
  std::uint64_t capacity = 0;
};

// What the daemon deleted from each map, since it started.
struct Evictions {
  std::uint64_t waiting = 0;        // probes unanswered after MTOOL_FLIGHT_TTL_S
  std::uint64_t records = 0;        // records untaken after MTOOL_RECORD_TTL_S
  std::uint64_t subscriptions = 0;  // namespaces without a tool for MTOOL_SUBSCRIPTION_TTL_S
  std::uint64_t histograms = 0;     // namespaces gone
};

// Kept by the daemon's loop (refreshed every second).
struct LoopFigures {
  QueryCounters socket;
  bool listeners_on = false;
  std::size_t listeners_open = 0;
  ListenerCounters listeners;
  Evictions evicted;
  std::vector<MapFill> maps;
};

struct DaemonFigures {
  Counters kernel{};  // MTOOL_CTR_*
  LoopFigures loop;
  bool program_stats = false;  // run-time statistics on: ProgramCost is meaningful
  std::vector<ProgramCost> programs;
  std::vector<NamespaceDistributions> namespaces;
};

}  // namespace mtool::correlator
