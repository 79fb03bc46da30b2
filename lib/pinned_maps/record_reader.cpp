#include "pinned_maps/record_reader.h"

#include <bpf/bpf.h>

#include <algorithm>
#include <cstddef>

namespace mtool::pinned_maps {
namespace {

constexpr std::size_t kMaxCachedNames = 4096;

}  // namespace

void RecordReader::name_devices(const mtool_crossing* list, std::size_t count,
                                mtool_device_name* out) {
  for (std::size_t i = 0; i < count; ++i) {
    const DeviceId id{list[i].netns, list[i].ifindex};
    if (const auto it = names_.find(id); it != names_.end()) {
      out[i] = it->second;
      continue;
    }
    const mtool_device_key key{list[i].netns, list[i].ifindex, 0};
    if (bpf_map_lookup_elem(devices_fd_, &key, &out[i]) != 0) continue;  // stays ""
    if (names_.size() >= kMaxCachedNames) names_.clear();
    names_.emplace(id, out[i]);
  }
}

bool RecordReader::take(const mtool_probe_key& key, mtool_record& record, mtool_device_name* names,
                        std::uint32_t taker_pid) {
  const auto someone_elses = [taker_pid](const mtool_record& r) {
    return taker_pid != 0 && r.sender_pid != 0 && r.sender_pid != taker_pid;
  };
  if (taker_pid != 0) {
    // Look before taking: another process's record stays where it is for its sender. (Taking
    // first and putting it back would leave a moment in which its sender finds nothing: a
    // neighbour asking in a loop could deny it its corrections.)
    if (bpf_map_lookup_elem(records_fd_, &key, &record) != 0 || someone_elses(record)) return false;
  }
  if (bpf_map_lookup_and_delete_elem(records_fd_, &key, &record) != 0) return false;
  if (someone_elses(record)) {  // replaced between the look and the take: put it back
    bpf_map_update_elem(records_fd_, &key, &record, BPF_NOEXIST);
    return false;
  }
  name_devices(record.egress, std::min<std::size_t>(record.egress_count, MTOOL_MAX_CROSSINGS),
               names);
  name_devices(record.ingress, std::min<std::size_t>(record.ingress_count, MTOOL_MAX_CROSSINGS),
               names + MTOOL_MAX_CROSSINGS);
  name_devices(record.target,
               std::min<std::size_t>(record.target_count, MTOOL_MAX_TARGET_CROSSINGS),
               names + std::ptrdiff_t{2} * MTOOL_MAX_CROSSINGS);
  return true;
}

}  // namespace mtool::pinned_maps
