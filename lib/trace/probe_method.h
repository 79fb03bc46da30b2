#pragma once
// What the traceroute scheduler needs from a probing method (UDP, ICMP echo, TCP SYN): send a
// probe with a TTL, report replies matched to probes, release a probe's resources. The
// scheduler never touches a socket, so tests drive it with a simulated network.
#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "net/address.h"
#include "report/hop_probe.h"
#include "util/clock.h"

namespace mtool::trace {

struct ProbeReply {
  std::size_t index = 0;  // the probe it answers
  WallNs rx = 0;          // arrival: kernel receive timestamp, or the clock when none came
  net::IpAddress from;    // who answered (for ICMP errors: the offender)
  int reply_ttl = 0;
  std::optional<report::IcmpReport>
      icmp;             // an ICMP error; nullopt: the destination itself answered
  int local_error = 0;  // a local send error instead (errno), e.g. EMSGSIZE
  std::uint32_t local_info = 0;
  std::string extension;  // -e: decoded ICMP extensions
  // Bytes of the reply after its ICMP (or transport) header, as Atlas' "size" counts them:
  // for an ICMP error, the quoted probe.
  std::size_t size = 0;
};

class ProbeMethod {
 public:
  virtual ~ProbeMethod() = default;
  // Sends probe `index` with `ttl`. On success fills probe.user_tx, mono_tx, identity and
  // sets probe.sent; returns 0. Returns ENOBUFS/EAGAIN when the send may succeed later, any
  // other errno when it cannot.
  virtual int send(std::size_t index, report::HopProbe& probe, int ttl) = 0;
  // Waits up to `timeout_ns` for replies, appending what arrived (matched to probes) to
  // `replies`. Returns early on the first batch.
  virtual void wait(std::int64_t timeout_ns, std::vector<ProbeReply>& replies) = 0;
  // Probe `index` is answered or given up: release what it holds and forget it, so a late
  // reply no longer matches it.
  virtual void release(std::size_t index) = 0;
  // The descriptors wait() polls, for a caller that polls many methods at once and then
  // calls wait(0, ...) on those with input.
  virtual void descriptors(std::vector<int>& fds) const = 0;
  // A probe's whole IP packet, as the header line counts it ("60 byte packets").
  [[nodiscard]] virtual std::size_t packet_length() const = 0;
};

}  // namespace mtool::trace
