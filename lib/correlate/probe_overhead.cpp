#include "correlate/probe_overhead.h"

#include <algorithm>
#include <cstring>

namespace mtool::correlate {
namespace {

std::vector<DeviceCrossing> crossings(const mtool_crossing* list, std::uint8_t count,
                                      std::size_t capacity, std::uint64_t origin_ns,
                                      const mtool_device_name* names) {
  std::vector<DeviceCrossing> out;
  const std::size_t n = std::min<std::size_t>(count, capacity);
  out.reserve(n);
  for (std::size_t i = 0; i < n; ++i) {
    DeviceCrossing c;
    if (names != nullptr) c.device.assign(names[i].name, strnlen(names[i].name, MTOOL_IFNAMSIZ));
    c.ifindex = list[i].ifindex;
    c.netns = list[i].netns;
    c.hook = list[i].hook;
    c.offset_ns = static_cast<std::int64_t>(list[i].time_ns - origin_ns);
    out.push_back(std::move(c));
  }
  return out;
}

}  // namespace

const char* hook_name(std::uint32_t hook) {
  switch (hook) {
    case MTOOL_HOOK_DEV_QUEUE:
      return "xmit";
    case MTOOL_HOOK_NETIF_RX:
      return "rx";
    case MTOOL_HOOK_RECEIVE_SKB:
      return "receive";
    default:
      return "?";
  }
}

std::optional<ProbeOverhead> overhead_from_record(const mtool_record& r,
                                                  const mtool_device_name* names) {
  if (r.sender_tx_ns == 0 || r.uplink_tx_ns < r.sender_tx_ns || r.uplink_rx_ns < r.uplink_tx_ns ||
      r.sender_rx_ns < r.uplink_rx_ns) {
    return std::nullopt;
  }
  ProbeOverhead o;
  o.egress_ns = static_cast<std::int64_t>(r.uplink_tx_ns - r.sender_tx_ns);
  o.ingress_ns = static_cast<std::int64_t>(r.sender_rx_ns - r.uplink_rx_ns);
  o.wire_ns = static_cast<std::int64_t>(r.uplink_rx_ns - r.uplink_tx_ns);
  o.wire_flow = r.wire_flow;
  o.answered_inside_host = (r.flags & MTOOL_RECORD_ANSWERED_INSIDE) != 0;
  const auto at = [names](std::size_t offset) {
    return names != nullptr ? names + offset : nullptr;
  };
  o.egress = crossings(r.egress, r.egress_count, MTOOL_MAX_CROSSINGS, r.sender_tx_ns, at(0));
  o.ingress = crossings(r.ingress, r.ingress_count, MTOOL_MAX_CROSSINGS, r.uplink_rx_ns,
                        at(MTOOL_MAX_CROSSINGS));
  o.target = crossings(r.target, r.target_count, MTOOL_MAX_TARGET_CROSSINGS, r.uplink_tx_ns,
                       at(std::size_t{2} * MTOOL_MAX_CROSSINGS));
  return o;
}

}  // namespace mtool::correlate
