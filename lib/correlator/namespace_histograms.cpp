#include "correlator/namespace_histograms.h"

#include <bpf/bpf.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <limits>
#include <memory>
#include <set>
#include <string>

#include "correlator/namespace_scan.h"
#include "util/fd.h"

namespace mtool::correlator {
namespace {

// Dividing (1e9 is exact) gives the double nearest the decimal: 2048 ns is 2.048e-06 s.
constexpr double kNsPerSecond = 1e9;
// /proc/PID/cgroup is one line per hierarchy; what is past this is not a container's path.
constexpr std::size_t kCgroupFileLimit = std::size_t{64} * 1024;

std::string read_bounded(const std::string& path) {
  const UniqueFd fd(::open(path.c_str(), O_RDONLY | O_CLOEXEC));
  std::string text;
  if (!fd) return text;
  text.resize(kCgroupFileLimit);
  std::size_t got = 0;
  while (got < text.size()) {
    const ssize_t n = ::read(fd.get(), text.data() + got, text.size() - got);
    if (n <= 0) break;
    got += static_cast<std::size_t>(n);
  }
  text.resize(got);
  return text;
}

bool in_namespace(pid_t pid, ino_t inum) {
  const auto id = namespace_id("/proc/" + std::to_string(pid) + "/ns/net");
  return id && id->second == inum;
}

// A process of the namespace with inode number `inum`: its latest sender if that one is still
// there, else the first process the scan found in it; 0 if none.
pid_t process_in(ino_t inum, pid_t sender, const std::map<NamespaceId, NamespaceSeen>& in_use) {
  if (sender > 0 && in_namespace(sender, inum)) return sender;
  for (const auto& [id, seen] : in_use) {
    if (id.second == inum && seen.pid > 0) return seen.pid;
  }
  return 0;
}

std::vector<std::uint64_t> keys_of(int fd) {
  std::vector<std::uint64_t> keys;
  std::uint64_t key = 0;
  std::uint64_t next = 0;
  bool first = true;
  while (keys.size() < MTOOL_HISTOGRAM_NAMESPACES &&
         bpf_map_get_next_key(fd, first ? nullptr : &key, &next) == 0) {
    first = false;
    key = next;
    keys.push_back(key);
  }
  return keys;
}

}  // namespace

std::vector<CumulativeBucket> cumulative_buckets(const LatencyDistribution& d,
                                                 unsigned per_octave) {
  // Kernel bucket i > 0 ends at step (i - 1) % SUB of its octave; keep every SUB / per_octave-th.
  const unsigned every = MTOOL_HISTOGRAM_SUB_BUCKETS / std::max(1U, per_octave);
  std::vector<CumulativeBucket> out;
  std::uint64_t running = 0;
  for (std::uint32_t i = 0; i < MTOOL_HISTOGRAM_BUCKETS; ++i) {
    running += d.buckets[i];
    const bool last = i == MTOOL_HISTOGRAM_BUCKETS - 1;
    const bool kept =
        i == 0 || last || every == 0 || ((i - 1) % MTOOL_HISTOGRAM_SUB_BUCKETS + 1) % every == 0;
    if (!kept) continue;
    const double upper = last ? std::numeric_limits<double>::infinity()
                              : static_cast<double>(mtool_histogram_upper_ns(i)) / kNsPerSecond;
    out.push_back({upper, running});
  }
  return out;
}

std::size_t NamespaceHistograms::refresh() {
  const std::vector<std::uint64_t> keys = keys_of(fd_);
  std::map<std::uint64_t, Named> named;
  {
    const std::lock_guard<std::mutex> lock(mutex_);
    named = named_;
    entries_ = keys.size();
  }
  if (keys.empty() && named.empty()) return 0;
  // After the keys: a namespace whose first record came before the scan is in it.
  const auto in_use = namespaces_in_use(BindMounts::kDockerAndNamed);
  std::set<ino_t> alive;
  for (const auto& [id, seen] : in_use) alive.insert(id.second);

  auto value = std::make_unique<mtool_namespace_histograms>();
  std::size_t deleted = 0;
  std::map<std::uint64_t, Named> now;
  for (const std::uint64_t cookie : keys) {
    if (const auto known = named.find(cookie); known != named.end()) {
      now.insert(*known);
      continue;
    }
    // New: named once, for as long as it lasts (a series' labels never change). Its inode
    // number is written just after the entry is made; until then it waits for the next round.
    if (bpf_map_lookup_elem(fd_, &cookie, value.get()) != 0 || value->netns_inum == 0) continue;
    const ino_t inum = value->netns_inum;
    const pid_t sender = sender_pids_ ? static_cast<pid_t>(value->sender_pid) : 0;
    const pid_t pid = process_in(inum, sender, in_use);
    Named entry{inum, {}};
    if (pid > 0) {
      entry.workload =
          identity_from_proc_cgroup(read_bounded("/proc/" + std::to_string(pid) + "/cgroup"));
    }
    now.emplace(cookie, std::move(entry));
  }
  for (auto it = now.begin(); it != now.end();) {
    if (alive.count(it->second.inum) != 0) {
      ++it;
      continue;
    }
    if (bpf_map_delete_elem(fd_, &it->first) == 0) ++deleted;
    it = now.erase(it);
  }
  const std::lock_guard<std::mutex> lock(mutex_);
  named_ = std::move(now);
  entries_ = keys.size() - deleted;
  return deleted;
}

std::vector<NamespaceDistributions> NamespaceHistograms::read() const {
  std::map<std::uint64_t, Named> named;
  {
    const std::lock_guard<std::mutex> lock(mutex_);
    named = named_;
  }
  std::vector<NamespaceDistributions> out;
  out.reserve(named.size());
  auto value = std::make_unique<mtool_namespace_histograms>();
  for (const auto& [cookie, entry] : named) {
    if (bpf_map_lookup_elem(fd_, &cookie, value.get()) != 0) continue;
    NamespaceDistributions d;
    d.netns = cookie;
    d.workload = entry.workload;
    for (std::size_t k = 0; k < MTOOL_HISTOGRAM_KINDS; ++k) {
      std::copy(std::begin(value->kind[k].buckets), std::end(value->kind[k].buckets),
                d.kind[k].buckets.begin());
      d.kind[k].sum_ns = value->kind[k].sum_ns;
    }
    out.push_back(std::move(d));
  }
  return out;
}

std::size_t NamespaceHistograms::entries() const {
  const std::lock_guard<std::mutex> lock(mutex_);
  return entries_;
}

}  // namespace mtool::correlator
