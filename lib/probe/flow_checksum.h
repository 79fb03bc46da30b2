#pragma once
// Checksums that Paris traceroute steers. Load balancers that hash the first four bytes after
// the IP header see an ICMP echo's type, code and checksum where a UDP or TCP segment has its
// ports, so an ICMP flow is held by holding its checksum; a UDP probe says who it is in its
// checksum, the one field of its header that no balancer hashes. Either way two bytes of the
// payload absorb what the rest of the message changes (Augustin et al., IMC 2006).
#include <cstddef>
#include <cstdint>
#include <span>

#include "net/address.h"

namespace mtool::probe {

// The one's-complement sum (folded, not inverted) of the IPv4 or IPv6 pseudo-header that UDP,
// TCP and ICMPv6 checksums cover: both addresses, the transport length and the protocol.
std::uint16_t pseudo_header_sum(const net::IpAddress& source, const net::IpAddress& destination,
                                std::size_t transport_length, std::uint8_t protocol);

// Writes the 16-bit word at `steer_offset` of `message` so that the message's checksum, summed
// from `initial` (a pseudo-header sum, or 0) with the checksum field at `checksum_offset` taken
// as zero, comes out `wanted`; leaves the checksum field zero (the caller or the kernel fills
// it). `wanted` must not be 0xFFFF (a checksum of all ones needs a sum of zero).
void steer_checksum(std::span<std::uint8_t> message, std::size_t checksum_offset,
                    std::size_t steer_offset, std::uint32_t initial, std::uint16_t wanted);

// The checksum every echo request of ICMP flow `flow` carries, as RIPE Atlas' probe code
// (eperd/traceroute.c) sets it for paris_id `flow`: the id itself over IPv4, the id + 1 over
// IPv6. The same id thus takes Atlas' path where balancers hash the checksum. Ids wrap past
// 0xFFFE (0xFFFF is a checksum no sum gives).
std::uint16_t icmp_flow_checksum(int family, std::uint16_t flow);

// The checksum field of `message` (at `checksum_offset`) computed from `initial` and written.
void write_checksum(std::span<std::uint8_t> message, std::size_t checksum_offset,
                    std::uint32_t initial);

}  // namespace mtool::probe
