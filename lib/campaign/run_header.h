#pragma once
// What every run's result begins with, ping or traceroute: Atlas' header (which measurement,
// from which probe, when), and where the run measures to (the target resolved in the
// definition's family, and our source address toward it). A target that does not resolve
// gives Atlas' error-only result instead of a run.
#include <cstdint>
#include <optional>
#include <string>

#include "campaign/measurement_list.h"
#include "net/address.h"
#include "report/atlas_results.h"
#include "util/clock.h"

namespace mtool::campaign {

struct HeaderDefaults {
  std::uint32_t prb_id = 0;
  std::string from;                      // the vantage point's public address, if known
  std::uint32_t first_msm_id = 1000000;  // msm_id of a definition without one: this + index
};

// The header of a run of `d` starting at `now` (dst_addr and src_addr still empty).
report::AtlasHeader atlas_header(const MeasurementDefinition& d, const HeaderDefaults& defaults,
                                 WallNs now);

// The target's address in `d`'s family, or why there is none (Atlas' resolution error).
std::optional<std::string> resolve_target(const MeasurementDefinition& d, net::IpAddress& address);

// dst_addr, and src_addr when the routing table has a route to `destination`.
void set_addresses(report::AtlasHeader& header, const net::IpAddress& destination);

}  // namespace mtool::campaign
