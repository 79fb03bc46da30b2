#pragma once
// Which devices are the host's uplinks: those carrying the host namespace's default routes
// (IPv4 and IPv6, main table, multipath next hops included), or the names the operator gave
// with --uplink. Watches rtnetlink so route and link changes are followed as they happen.
#include <cstdint>
#include <string>
#include <vector>

#include "util/fd.h"

namespace mtool::correlator {

struct Uplink {
  std::uint32_t ifindex = 0;
  std::string name;
  bool operator==(const Uplink&) const = default;
};

class UplinkTracker {
 public:
  // `fixed` empty: follow the default routes; otherwise exactly these interface names (present
  // or not yet). Throws FatalError if netlink cannot be opened.
  explicit UplinkTracker(std::vector<std::string> fixed);

  // The notification socket: poll it, then call drain().
  [[nodiscard]] int fd() const { return events_.get(); }
  // Reads pending notifications. True if any may have changed the uplinks.
  bool drain();
  // The uplinks now (queries the kernel).
  [[nodiscard]] std::vector<Uplink> current() const;

 private:
  std::vector<Uplink> default_route_devices() const;

  std::vector<std::string> fixed_;
  UniqueFd events_;
};

}  // namespace mtool::correlator
