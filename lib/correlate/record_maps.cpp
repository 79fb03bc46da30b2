#include "correlate/record_maps.h"

#include <bpf/bpf.h>

#include <algorithm>
#include <cstddef>
#include <cstdint>

namespace mtool::correlate {
namespace {

void name_devices(int devices_fd, const mtool_crossing* list, std::uint8_t count, mtool_device_name* out) {
  for (std::size_t i = 0; i < count && i < std::size_t{MTOOL_MAX_CROSSINGS}; ++i) {
    const mtool_device_key key{list[i].netns, list[i].ifindex};
    bpf_map_lookup_elem(devices_fd, &key, &out[i]);
  }
}

}  // namespace

bool take_record(int records_fd, int devices_fd, const mtool_probe_key& key, mtool_record& record,
                 mtool_device_name* names) {
  if (bpf_map_lookup_and_delete_elem(records_fd, &key, &record) != 0) return false;
  name_devices(devices_fd, record.egress, record.egress_count, names);
  name_devices(devices_fd, record.ingress, record.ingress_count, names + MTOOL_MAX_CROSSINGS);
  name_devices(devices_fd, record.target, std::min<std::uint8_t>(record.target_count, MTOOL_MAX_TARGET_CROSSINGS),
               names + 2 * MTOOL_MAX_CROSSINGS);
  return true;
}

}  // namespace mtool::correlate
