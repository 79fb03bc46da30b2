#pragma once
// ICMP extension objects (RFC 4884 / RFC 4950) that routers append to time-exceeded and
// unreachable messages, e.g. the MPLS label stack, rendered as traceroute -e prints them.
#include <cstddef>
#include <cstdint>
#include <optional>
#include <span>
#include <string>

namespace mtool::probe {

// `payload` is what the error queue returned: our datagram as quoted, starting `header_length`
// bytes into it (after the IP header, and the UDP header for UDP sockets); `data_length` is
// how much of it we sent. RFC 4884 pads the quote to 128 bytes, where the extension structure
// starts; older routers put it at the quote's end, found by scanning (Butskoy's way).
std::optional<std::string> decode_icmp_extensions(std::span<const std::uint8_t> payload,
                                                  std::size_t header_length,
                                                  std::size_t data_length, int family);

}  // namespace mtool::probe
