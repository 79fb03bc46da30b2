#pragma once
// The kernel's per-namespace histograms (`histograms` map, bpf/histograms.bpf.h) as the daemon
// exports them: each namespace named once, from the cgroup of a process in it (the sender of
// its probes if still there, else any), and deleted from the map when it is gone, so its
// series leave the metrics. Counts are read from the map at each scrape, never kept here.
#include <array>
#include <cstdint>
#include <map>
#include <mutex>
#include <vector>

#include "correlator/cgroup_identity.h"
#include "correlator_abi.h"

namespace mtool::correlator {

struct LatencyDistribution {
  std::array<std::uint64_t, MTOOL_HISTOGRAM_BUCKETS> buckets{};  // the kernel's, not cumulative
  std::uint64_t sum_ns = 0;
};

struct NamespaceDistributions {
  std::uint64_t netns = 0;  // cookie
  WorkloadIdentity workload;
  std::array<LatencyDistribution, MTOOL_HISTOGRAM_KINDS> kind;
};

// A bucket of the exposition: cumulative count of samples up to `upper_s` seconds (inclusive).
struct CumulativeBucket {
  double upper_s = 0;  // +infinity for the last
  std::uint64_t count = 0;
};

// The kernel's buckets merged to `per_octave` (1, 2 or 4) per power of two, cumulative, ending
// with +Inf: every upper bound is one of the kernel's, so no count is split or guessed.
std::vector<CumulativeBucket> cumulative_buckets(const LatencyDistribution& d, unsigned per_octave);

class NamespaceHistograms {
 public:
  // `map_fd` is the `histograms` map; `sender_pids_are_ours`: the pids the programs record
  // (the initial pid namespace's) are the ones /proc shows us.
  NamespaceHistograms(int map_fd, bool sender_pids_are_ours)
      : fd_(map_fd), sender_pids_(sender_pids_are_ours) {}

  // Every second, from the daemon's loop: names the namespaces new in the map, and deletes
  // those no process or bind mount holds any more. Returns how many were deleted.
  std::size_t refresh();

  // From any thread: the named namespaces' distributions as the kernel holds them now.
  [[nodiscard]] std::vector<NamespaceDistributions> read() const;

  // Namespaces in the map at the last refresh.
  [[nodiscard]] std::size_t entries() const;

 private:
  struct Named {
    ino_t inum = 0;
    WorkloadIdentity workload;
  };

  int fd_;
  bool sender_pids_;
  mutable std::mutex mutex_;              // named_: written by refresh(), read by read()
  std::map<std::uint64_t, Named> named_;  // by cookie
  std::size_t entries_ = 0;
};

}  // namespace mtool::correlator
