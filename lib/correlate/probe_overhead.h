#pragma once
// What the correlator measured for one probe, in the terms the tools print (README,
// "Corrected RTT"):
//   egress   = sender's device -> host uplink, for the request
//   ingress  = host uplink -> sender's device, for the reply
//   wire RTT = uplink transmission -> uplink reception
// and the device-by-device path behind them.
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "correlator_abi.h"

namespace mtool::correlate {

struct DeviceCrossing {
  std::string device;  // interface name as the correlator saw it ("" if unknown)
  std::uint32_t ifindex = 0;
  std::uint64_t netns = 0;     // cookie of the device's network namespace
  std::uint32_t hook = 0;      // enum mtool_hook; hook_name() for text
  std::int64_t offset_ns = 0;  // since the direction's first crossing (target: since uplink_tx)
};

struct ProbeOverhead {
  std::int64_t egress_ns = 0;
  std::int64_t ingress_ns = 0;
  std::int64_t wire_ns = 0;
  std::uint16_t wire_flow = 0;  // identifier on the uplink (differs when NAT rewrote it)
  // The reply came from inside the host (the container's gateway, a host address): the probe
  // never reached an uplink, and `wire_ns` is the host's turnaround. All of the RTT is
  // overhead.
  bool answered_inside_host = false;
  std::vector<DeviceCrossing> egress;
  std::vector<DeviceCrossing> ingress;
  std::vector<DeviceCrossing> target;  // a target on this host: its side of the exchange
};

// Builds the overhead from a kernel record; `names` holds MTOOL_NAMED_CROSSINGS device names
// (egress, ingress, target) or is null. Returns nullopt for a record that is not internally
// consistent (a stage ending before it starts), which no correct kernel run writes.
std::optional<ProbeOverhead> overhead_from_record(const mtool_record& record,
                                                  const mtool_device_name* names);

const char* hook_name(std::uint32_t hook);

}  // namespace mtool::correlate
