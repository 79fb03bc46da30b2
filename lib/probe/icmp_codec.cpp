#include "probe/icmp_codec.h"

#include <netinet/icmp6.h>
#include <netinet/in.h>
#include <netinet/ip.h>
#include <netinet/ip6.h>
#include <netinet/ip_icmp.h>

#include <cstring>

#include "util/bytes.h"

namespace mtool::probe {
namespace {

// Reads the echo request quoted after an ICMP error header: the offending IP header and at
// least 8 bytes of what followed it.
std::optional<QuotedEcho> parse_quoted_echo(std::span<const std::uint8_t> quote, int family) {
  if (family == AF_INET) {
    if (quote.size() < 20) return std::nullopt;
    const unsigned ihl = (quote[0] & 0x0F) * 4U;
    if ((quote[0] >> 4) != 4 || ihl < 20 || quote.size() < ihl + kIcmpHeaderLength) {
      return std::nullopt;
    }
    if (quote[9] != IPPROTO_ICMP || quote[ihl] != ICMP_ECHO) return std::nullopt;
    in_addr dst{};
    std::memcpy(&dst, quote.data() + 16, 4);
    return QuotedEcho{net::IpAddress::v4(dst), load16(quote.data() + ihl + 4),
                      load16(quote.data() + ihl + 6)};
  }
  constexpr std::size_t kIp6HeaderLength = 40;
  if (quote.size() < kIp6HeaderLength + kIcmpHeaderLength) return std::nullopt;
  if ((quote[0] >> 4) != 6 || quote[6] != IPPROTO_ICMPV6) return std::nullopt;
  if (quote[kIp6HeaderLength] != ICMP6_ECHO_REQUEST) return std::nullopt;
  in6_addr dst{};
  std::memcpy(&dst, quote.data() + 24, 16);
  return QuotedEcho{net::IpAddress::v6(dst), load16(quote.data() + kIp6HeaderLength + 4),
                    load16(quote.data() + kIp6HeaderLength + 6)};
}

IcmpKind classify_v4(std::uint8_t type) {
  switch (type) {
    case ICMP_ECHOREPLY:
      return IcmpKind::kEchoReply;
    case ICMP_DEST_UNREACH:
    case ICMP_TIME_EXCEEDED:
    case ICMP_PARAMETERPROB:
      return IcmpKind::kError;
    case ICMP_REDIRECT:
    case ICMP_SOURCE_QUENCH:
      return IcmpKind::kNotice;
    case ICMP_ECHO:
      return IcmpKind::kEchoRequest;
    default:
      return IcmpKind::kOther;
  }
}

IcmpKind classify_v6(std::uint8_t type) {
  switch (type) {
    case ICMP6_ECHO_REPLY:
      return IcmpKind::kEchoReply;
    case ICMP6_DST_UNREACH:
    case ICMP6_PACKET_TOO_BIG:
    case ICMP6_TIME_EXCEEDED:
    case ICMP6_PARAM_PROB:
      return IcmpKind::kError;
    case ICMP6_ECHO_REQUEST:
      return IcmpKind::kEchoRequest;
    default:
      return IcmpKind::kOther;
  }
}

}  // namespace

std::uint16_t internet_checksum(std::span<const std::uint8_t> bytes, std::uint32_t initial) {
  std::uint64_t sum = initial;
  std::size_t i = 0;
  for (; i + 1 < bytes.size(); i += 2)
    sum += static_cast<std::uint32_t>((bytes[i] << 8) | bytes[i + 1]);
  if (i < bytes.size()) sum += static_cast<std::uint32_t>(bytes[i] << 8);
  while ((sum >> 16) != 0) sum = (sum & 0xFFFF) + (sum >> 16);
  return static_cast<std::uint16_t>(~sum & 0xFFFF);
}

void write_echo_request(std::span<std::uint8_t> packet, int family, std::uint16_t ident,
                        std::uint16_t sequence) {
  packet[0] = family == AF_INET6 ? ICMP6_ECHO_REQUEST : ICMP_ECHO;
  packet[1] = 0;
  packet[2] = packet[3] = 0;
  packet[4] = static_cast<std::uint8_t>(ident >> 8);
  packet[5] = static_cast<std::uint8_t>(ident);
  packet[6] = static_cast<std::uint8_t>(sequence >> 8);
  packet[7] = static_cast<std::uint8_t>(sequence);
  if (family == AF_INET) {
    const std::uint16_t sum = internet_checksum(packet);
    packet[2] = static_cast<std::uint8_t>(sum >> 8);
    packet[3] = static_cast<std::uint8_t>(sum);
  }
}

std::optional<EchoHeader> parse_echo_header(std::span<const std::uint8_t> bytes) {
  if (bytes.size() < kIcmpHeaderLength) return std::nullopt;
  return EchoHeader{bytes[0], load16(bytes.data() + 4), load16(bytes.data() + 6)};
}

IcmpMessage parse_icmp(std::span<const std::uint8_t> datagram, int family, bool with_ip_header) {
  IcmpMessage m;
  std::span<const std::uint8_t> icmp = datagram;
  if (with_ip_header) {
    if (datagram.size() < 20) return m;
    const unsigned ihl = (datagram[0] & 0x0F) * 4U;
    if ((datagram[0] >> 4) != 4 || ihl < 20 || datagram.size() < ihl + kIcmpHeaderLength) return m;
    m.ttl = datagram[8];
    icmp = datagram.subspan(ihl);
  }
  if (icmp.size() < kIcmpHeaderLength) return m;
  m.icmp = icmp;
  m.type = icmp[0];
  m.code = icmp[1];
  m.ident = load16(icmp.data() + 4);
  m.sequence = load16(icmp.data() + 6);
  m.rest = load32(icmp.data() + 4);
  if (family == AF_INET) {
    m.checksum_ok = internet_checksum(icmp) == 0;
    m.kind = classify_v4(m.type);
  } else {
    m.kind = classify_v6(m.type);
  }
  if (m.kind == IcmpKind::kError || m.kind == IcmpKind::kNotice) {
    m.quoted = parse_quoted_echo(icmp.subspan(kIcmpHeaderLength), family);
  }
  return m;
}

}  // namespace mtool::probe
