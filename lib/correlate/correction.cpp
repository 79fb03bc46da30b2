#include "correlate/correction.h"

#include <algorithm>
#include <optional>

namespace mtool::correlate {
namespace {

// A stage of a probe's trip through one host lasts less than a second (records of longer
// trips are not this probe's, and arithmetic on them must not overflow).
bool plausible(std::int64_t offset_ns) { return offset_ns >= 0 && offset_ns < 1'000'000'000; }

// Time from crossing `from` to crossing `to` of `path` when they are the expected hooks (and,
// for the backlog, the same device); nullopt when the path is not shaped that way.
std::optional<std::int64_t> stage(const std::vector<DeviceCrossing>& path, std::size_t from,
                                  std::size_t to, std::uint32_t from_hook, std::uint32_t to_hook,
                                  bool same_device) {
  if (to >= path.size()) return std::nullopt;
  const auto& a = path[from];
  const auto& b = path[to];
  if (a.hook != from_hook || b.hook != to_hook) return std::nullopt;
  if (same_device && (a.ifindex != b.ifindex || a.netns != b.netns)) return std::nullopt;
  if (!plausible(a.offset_ns) || !plausible(b.offset_ns) || b.offset_ns < a.offset_ns)
    return std::nullopt;
  return b.offset_ns - a.offset_ns;
}

std::int64_t excess(std::optional<std::int64_t> cold, std::optional<std::int64_t> warm) {
  return cold && warm ? std::max<std::int64_t>(0, *cold - *warm) : 0;
}

}  // namespace

std::int64_t shared_with_local_target(const ProbeOverhead& o) {
  if (o.target.empty() || o.egress.size() < 2) return 0;
  // Hand-off: the sender's device to its peer, and the uplink to the target's device (the
  // target's offsets count from the uplink transmission).
  const auto egress_handoff =
      stage(o.egress, 0, 1, MTOOL_HOOK_DEV_QUEUE, MTOOL_HOOK_NETIF_RX, false);
  std::optional<std::int64_t> target_handoff;
  if (o.target[0].hook == MTOOL_HOOK_NETIF_RX && plausible(o.target[0].offset_ns)) {
    target_handoff = o.target[0].offset_ns;
  }
  // Backlog: a device's receive to the stack taking the packet, on both sides.
  const auto egress_backlog =
      stage(o.egress, 1, 2, MTOOL_HOOK_NETIF_RX, MTOOL_HOOK_RECEIVE_SKB, true);
  const auto target_backlog =
      stage(o.target, 0, 1, MTOOL_HOOK_NETIF_RX, MTOOL_HOOK_RECEIVE_SKB, true);
  return excess(egress_handoff, target_handoff) + excess(egress_backlog, target_backlog);
}

std::optional<CorrectedRtt> correct_rtt(std::int64_t raw_ns, const ProbeOverhead& overhead) {
  const auto within = [raw_ns](std::int64_t part) { return part >= 0 && part <= raw_ns; };
  // Subtracted one by one: each part is within [0, raw], so no step overflows (their sum can).
  if (!within(overhead.egress_ns) || !within(overhead.ingress_ns) || !within(overhead.wire_ns) ||
      raw_ns - overhead.egress_ns - overhead.wire_ns < overhead.ingress_ns) {
    return std::nullopt;
  }
  const std::int64_t shared = std::min(shared_with_local_target(overhead), overhead.egress_ns);
  const std::int64_t taken = overhead.egress_ns + overhead.ingress_ns - shared;
  return CorrectedRtt{raw_ns - taken, taken, shared};
}

}  // namespace mtool::correlate
