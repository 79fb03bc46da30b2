#pragma once
// Building ICMP/ICMPv6 echo requests and parsing whatever comes back on an ICMP socket.
// Pure functions over byte spans: every length is checked before it is read, so mangled or
// hostile packets are classified as kMalformed instead of being trusted.
#include <cstdint>
#include <optional>
#include <span>

#include "net/address.h"

namespace mtool::probe {

inline constexpr std::size_t kIcmpHeaderLength = 8;
// iputils puts a struct timeval (16 bytes on 64-bit Linux) at the start of the echo data;
// smaller payloads carry no timestamp and their replies show no time.
inline constexpr std::size_t kEchoTimestampLength = 16;

// Type, identifier and sequence of an echo header at the start of `bytes` (e.g. the copy of
// our own request that the error queue returns); nullopt if shorter than a header.
struct EchoHeader {
  std::uint8_t type = 0;
  std::uint16_t ident = 0;
  std::uint16_t sequence = 0;
};
std::optional<EchoHeader> parse_echo_header(std::span<const std::uint8_t> bytes);

// RFC 1071 one's-complement sum over `bytes`, folded and inverted.
std::uint16_t internet_checksum(std::span<const std::uint8_t> bytes, std::uint32_t initial = 0);

// Writes type, code, identifier and sequence (network order on the wire) into the first 8
// bytes of `packet`, then the checksum over the whole packet for IPv4. ICMPv6 checksums are
// the kernel's job (they cover a pseudo-header the sender cannot see).
void write_echo_request(std::span<std::uint8_t> packet, int family, std::uint16_t ident,
                        std::uint16_t sequence);

enum class IcmpKind {
  kEchoReply,    // an answer to an echo request
  kError,        // unreachable, time exceeded, parameter problem, packet too big
  kNotice,       // redirect, source quench: informational
  kEchoRequest,  // someone's request (seen on raw sockets over loopback)
  kOther,        // any other ICMP type
  kMalformed,    // too short or inconsistent to use
};

// The echo request quoted inside an ICMP error.
struct QuotedEcho {
  net::IpAddress destination;
  std::uint16_t ident = 0;
  std::uint16_t sequence = 0;
};

struct IcmpMessage {
  IcmpKind kind = IcmpKind::kMalformed;
  std::uint8_t type = 0;
  std::uint8_t code = 0;
  std::uint16_t ident = 0;     // echo identifier (host order)
  std::uint16_t sequence = 0;  // echo sequence (host order)
  std::uint32_t rest = 0;      // bytes 4..7 of the header (gateway, MTU, pointer), host order
  int ttl = -1;                // from the IPv4 header when present
  bool checksum_ok = true;     // verified for IPv4 (the kernel verifies ICMPv6)
  std::span<const std::uint8_t> icmp;  // the ICMP message, header included
  std::optional<QuotedEcho> quoted;    // for kError/kNotice quoting one of our echoes
};

// Parses one datagram from an ICMP socket. `with_ip_header` is true for IPv4 raw sockets,
// which deliver the IP header too.
IcmpMessage parse_icmp(std::span<const std::uint8_t> datagram, int family, bool with_ip_header);

}  // namespace mtool::probe
