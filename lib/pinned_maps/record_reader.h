#pragma once
// Reading a record out of the correlator's pinned maps: the one place that knows how a record
// and its device names are laid out there. Both sides read them: a tool that may call bpf()
// directly (correlate/overhead_source), and the daemon's socket for every other tool
// (correlator/query_server), so it sits below both, over the ABI alone.
#include <cstdint>
#include <functional>
#include <unordered_map>

#include "correlator_abi.h"

namespace mtool::pinned_maps {

class RecordReader {
 public:
  RecordReader(int records_fd, int devices_fd) : records_fd_(records_fd), devices_fd_(devices_fd) {}

  // Takes the record of `key` out of the records map and fills `names` (MTOOL_NAMED_CROSSINGS;
  // unknown devices stay empty). False if there is no such record, or if `taker_pid` is given
  // and the record names another sending process (which then still finds it).
  bool take(const mtool_probe_key& key, mtool_record& record, mtool_device_name* names,
            std::uint32_t taker_pid = 0);

 private:
  void name_devices(const mtool_crossing* list, std::size_t count, mtool_device_name* out);

  int records_fd_;
  int devices_fd_;
  // Names seen before: one map lookup per reply instead of one per crossing. Bounded; an
  // interface renamed while cached shows its old name until the cache is cleared.
  struct DeviceId {
    std::uint64_t netns;
    std::uint32_t ifindex;
    bool operator==(const DeviceId&) const = default;
  };
  struct DeviceIdHash {
    std::size_t operator()(const DeviceId& d) const {
      return std::hash<std::uint64_t>{}(d.netns * 0x9E3779B97F4A7C15ULL ^ d.ifindex);
    }
  };
  std::unordered_map<DeviceId, mtool_device_name, DeviceIdHash> names_;
};

}  // namespace mtool::pinned_maps
