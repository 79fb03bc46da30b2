#include "campaign/run_header.h"

#include <netinet/in.h>

#include "net/source_address.h"
#include "util/error.h"

namespace mtool::campaign {

report::AtlasHeader atlas_header(const MeasurementDefinition& d, const HeaderDefaults& defaults,
                                 WallNs now) {
  report::AtlasHeader h;
  h.msm_id = d.msm_id.value_or(defaults.first_msm_id + static_cast<std::uint32_t>(d.index));
  h.prb_id = defaults.prb_id;
  h.timestamp = unix_seconds(now);
  h.from = defaults.from;
  h.dst_name = d.target;
  h.af = d.af;
  return h;
}

std::optional<std::string> resolve_target(const MeasurementDefinition& d, net::IpAddress& address) {
  const int family = d.af == 6 ? AF_INET6 : AF_INET;
  if (auto numeric = net::IpAddress::parse(d.target)) {
    if (numeric->family() != family) {
      return "target " + d.target + " is not an IPv" + std::to_string(d.af) + " address";
    }
    address = *numeric;
    return std::nullopt;
  }
  try {
    const auto targets = net::resolve_host(d.target, family);
    if (targets.empty()) return "name resolution failed: no address for " + d.target;
    address = targets.front().address;
    address.set_port(0);
    return std::nullopt;
  } catch (const FatalError& e) {
    return std::string("name resolution failed: ") + e.what();
  }
}

void set_addresses(report::AtlasHeader& header, const net::IpAddress& destination) {
  header.dst_addr = destination.to_string();
  const auto source = net::select_source_address(destination, "", false);
  if (source.error == 0) header.src_addr = source.source.to_string();
}

}  // namespace mtool::campaign
