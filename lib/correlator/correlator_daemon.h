#pragma once
// The correlator daemon: kernel programs + uplink tracking + the query socket, in one
// single-threaded event loop. Logs one line per event that matters (start, uplink change,
// stop), nothing per packet.
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "correlator/query_server.h"
#include "correlator_abi.h"
#include "metrics/listen_address.h"

namespace mtool::correlator {

struct DaemonOptions {
  std::string pin_dir;
  std::string socket_path;
  std::vector<std::string> uplinks;  // empty: follow the default routes
  bool enable_stats = false;         // hold kernel.bpf_stats_enabled on while running
  std::uint32_t namespace_probe_rate = MTOOL_NAMESPACE_PROBE_RATE_DEFAULT;  // probes/s followed
  ConnectionLimits limits;                                                  // of the socket
  bool namespace_listeners = true;  // the socket also inside every container's namespace
  bool follow_host_probes = false;  // tests and benchmarks only (ProgramTuning)
  // Prometheus metrics on this address; none: no metrics, and no histograms kept in the kernel.
  std::optional<metrics::ListenAddress> metrics_address;
  unsigned metrics_buckets_per_octave = 2;  // 1, 2 or 4 of the kernel's
};

// Runs until SIGTERM or SIGINT. Returns the exit code; throws FatalError on setup failure.
int run_daemon(const DaemonOptions& options);

}  // namespace mtool::correlator
