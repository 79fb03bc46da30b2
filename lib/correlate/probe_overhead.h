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
  std::string device;        // interface name as the correlator saw it ("" if unknown)
  std::uint32_t ifindex = 0;
  std::uint32_t netns = 0;   // inode of the device's network namespace
  const char* hook = "";     // "xmit", "rx" or "receive"
  std::int64_t offset_ns = 0;  // since the direction's first crossing
};

struct ProbeOverhead {
  std::int64_t egress_ns = 0;
  std::int64_t ingress_ns = 0;
  std::int64_t wire_ns = 0;
  std::uint16_t wire_flow = 0;  // identifier on the uplink (differs when NAT rewrote it)
  std::vector<DeviceCrossing> egress;
  std::vector<DeviceCrossing> ingress;
};

// Builds the overhead from a kernel record; `names` holds up to 2 * MTOOL_MAX_CROSSINGS
// device names, egress first. Returns nullopt for a record that is not internally consistent
// (a stage ending before it starts), which no correct kernel run writes.
std::optional<ProbeOverhead> overhead_from_record(const mtool_record& record,
                                                  const mtool_device_name* names);

const char* hook_name(std::uint32_t hook);

}  // namespace mtool::correlate
