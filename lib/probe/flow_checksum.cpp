#include "probe/flow_checksum.h"

#include <netinet/in.h>

#include <vector>

#include "probe/icmp_codec.h"
#include "util/bytes.h"

namespace mtool::probe {
namespace {

std::uint16_t fold(std::uint32_t sum) {
  while ((sum >> 16) != 0) sum = (sum & 0xFFFF) + (sum >> 16);
  return static_cast<std::uint16_t>(sum);
}

}  // namespace

std::uint16_t pseudo_header_sum(const net::IpAddress& source, const net::IpAddress& destination,
                                std::size_t transport_length, std::uint8_t protocol) {
  const bool v6 = source.family() == AF_INET6;
  const auto* s = v6 ? reinterpret_cast<const std::uint8_t*>(&source.in6())
                     : reinterpret_cast<const std::uint8_t*>(&source.in4());
  const auto* d = v6 ? reinterpret_cast<const std::uint8_t*>(&destination.in6())
                     : reinterpret_cast<const std::uint8_t*>(&destination.in4());
  const std::size_t address_length = v6 ? 16 : 4;
  std::vector<std::uint8_t> pseudo(s, s + address_length);
  pseudo.insert(pseudo.end(), d, d + address_length);
  // IPv4: zero, protocol, 16-bit length; IPv6: 32-bit length, three zeros, next header. Both
  // sum to the same words.
  pseudo.insert(pseudo.end(), {static_cast<std::uint8_t>(transport_length >> 8),
                               static_cast<std::uint8_t>(transport_length), 0, protocol});
  return static_cast<std::uint16_t>(~internet_checksum(pseudo));
}

void steer_checksum(std::span<std::uint8_t> message, std::size_t checksum_offset,
                    std::size_t steer_offset, std::uint32_t initial, std::uint16_t wanted) {
  store16(&message[checksum_offset], 0);
  store16(&message[steer_offset], 0);
  // The sum without the steering word is ~c; with it, ~wanted: the word is ~wanted - ~c in
  // one's-complement arithmetic, i.e. ~wanted + c.
  const std::uint16_t without = internet_checksum(message, initial);
  store16(&message[steer_offset],
          fold(static_cast<std::uint32_t>(static_cast<std::uint16_t>(~wanted)) + without));
}

std::uint16_t icmp_flow_checksum(int family, std::uint16_t flow) {
  const unsigned atlas_offset = family == AF_INET6 ? 1 : 0;
  return static_cast<std::uint16_t>((flow + atlas_offset) % 0xFFFF);
}

void write_checksum(std::span<std::uint8_t> message, std::size_t checksum_offset,
                    std::uint32_t initial) {
  store16(&message[checksum_offset], 0);
  store16(&message[checksum_offset], internet_checksum(message, initial));
}

}  // namespace mtool::probe
