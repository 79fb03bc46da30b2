#pragma once
// A probe as its sender knows it, the key of its record in the correlator (mtool_probe_key less
// the namespace, which the correlator or the tool's own lookup adds).
#include <netinet/in.h>
#include <sys/socket.h>

#include <cstdint>

namespace mtool::correlate {

struct ProbeIdentity {
  int family = 0;
  int protocol = 0;
  std::uint16_t flow = 0;      // ICMP identifier on the wire / source port
  std::uint16_t sequence = 0;  // ICMP sequence / destination port / TCP sequence
  // A UDP probe sent through a raw socket: its checksum as written (Paris names each probe of a
  // flow there); 0 for any other probe (mtool_probe_key in bpf/correlator_abi.h says why).
  std::uint16_t checksum = 0;
};

// An ICMP echo request: ping, mtool run's pings and traceroute -I all send them. `wire_ident`
// is the identifier the kernel puts on the wire (a datagram socket's local port, not the one
// the tool wrote), as the correlator sees it.
inline ProbeIdentity echo_probe(int family, std::uint16_t wire_ident, std::uint16_t sequence) {
  return {family, family == AF_INET6 ? int{IPPROTO_ICMPV6} : int{IPPROTO_ICMP}, wire_ident,
          sequence};
}

}  // namespace mtool::correlate
