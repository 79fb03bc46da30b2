// ICMP/ICMPv6 encoding and parsing over hand-built packets.
#include "probe/icmp_codec.h"

#include <arpa/inet.h>
#include <gtest/gtest.h>
#include <netinet/icmp6.h>
#include <netinet/in.h>
#include <netinet/ip_icmp.h>

#include <cstdint>
#include <initializer_list>
#include <string>
#include <vector>

namespace mtool::probe {
namespace {

using Bytes = std::vector<std::uint8_t>;

// Independent reference: RFC 1071 sum of big-endian 16-bit words, folded, inverted.
std::uint16_t reference_checksum(const Bytes& b) {
  std::uint32_t sum = 0;
  for (std::size_t i = 0; i < b.size(); i += 2) {
    sum += static_cast<std::uint32_t>(b[i]) << 8;
    if (i + 1 < b.size()) sum += b[i + 1];
  }
  while (sum > 0xFFFF) sum = (sum & 0xFFFF) + (sum >> 16);
  return static_cast<std::uint16_t>(~sum);
}

// Builds packets byte by byte.
class Packet {
 public:
  Packet& u8(std::uint8_t v) {
    bytes_.push_back(v);
    return *this;
  }
  Packet& u16(std::uint16_t v) {
    return u8(static_cast<std::uint8_t>(v >> 8)).u8(static_cast<std::uint8_t>(v));
  }
  Packet& u32(std::uint32_t v) {
    return u16(static_cast<std::uint16_t>(v >> 16)).u16(static_cast<std::uint16_t>(v));
  }
  Packet& append(const Bytes& b) {
    bytes_.insert(bytes_.end(), b.begin(), b.end());
    return *this;
  }
  Packet& addr4(const char* text) {
    in_addr a{};
    EXPECT_EQ(inet_pton(AF_INET, text, &a), 1);
    const auto* p = reinterpret_cast<const std::uint8_t*>(&a);
    bytes_.insert(bytes_.end(), p, p + 4);
    return *this;
  }
  Packet& addr6(const char* text) {
    in6_addr a{};
    EXPECT_EQ(inet_pton(AF_INET6, text, &a), 1);
    const auto* p = reinterpret_cast<const std::uint8_t*>(&a);
    bytes_.insert(bytes_.end(), p, p + 16);
    return *this;
  }
  // An IPv4 header of `ihl` 32-bit words (options zero-filled).
  Packet& ipv4(std::uint8_t protocol, std::uint8_t ttl, const char* src, const char* dst,
               std::uint16_t total_length, unsigned ihl = 5) {
    u8(static_cast<std::uint8_t>(0x40 | ihl)).u8(0).u16(total_length);
    u16(0x1234).u16(0x4000);
    u8(ttl).u8(protocol).u16(0);
    addr4(src).addr4(dst);
    for (unsigned i = 5; i < ihl; ++i) u32(0x01010101);  // NOP options
    return *this;
  }
  Packet& ipv6(std::uint8_t next_header, const char* src, const char* dst,
               std::uint16_t payload_length) {
    u32(0x60000000).u16(payload_length).u8(next_header).u8(64);
    return addr6(src).addr6(dst);
  }
  // ICMP header: type, code, checksum 0 (see with_checksum_at), then 4 bytes.
  Packet& icmp(std::uint8_t type, std::uint8_t code, std::uint32_t rest) {
    icmp_start_ = bytes_.size();
    return u8(type).u8(code).u16(0).u32(rest);
  }
  Packet& echo(std::uint8_t type, std::uint16_t ident, std::uint16_t sequence) {
    return icmp(type, 0, (std::uint32_t{ident} << 16) | sequence);
  }
  Packet& payload(std::size_t n) {
    for (std::size_t i = 0; i < n; ++i) u8(static_cast<std::uint8_t>(i));
    return *this;
  }
  // Fills in the ICMP checksum over everything from the last icmp() header to the end.
  Packet& checksum() {
    const Bytes icmp_part(bytes_.begin() + static_cast<std::ptrdiff_t>(icmp_start_), bytes_.end());
    const std::uint16_t sum = reference_checksum(icmp_part);
    bytes_[icmp_start_ + 2] = static_cast<std::uint8_t>(sum >> 8);
    bytes_[icmp_start_ + 3] = static_cast<std::uint8_t>(sum);
    return *this;
  }
  [[nodiscard]] const Bytes& bytes() const { return bytes_; }

 private:
  Bytes bytes_;
  std::size_t icmp_start_ = 0;
};

IcmpMessage parse(const Bytes& b, int family, bool with_ip) {
  return parse_icmp(b, family, with_ip);
}

// ---------------------------------------------------------------------------------------------
// Checksum and echo requests.

TEST(InternetChecksum, Rfc1071Example) {
  // RFC 1071 section 3: the words 0001 f203 f4f5 f6f7 sum to 0xddf2 (folded).
  const Bytes b{0x00, 0x01, 0xf2, 0x03, 0xf4, 0xf5, 0xf6, 0xf7};
  EXPECT_EQ(internet_checksum(b), 0x220d);
  EXPECT_EQ(static_cast<std::uint16_t>(~internet_checksum(b)), 0xddf2);
}

TEST(InternetChecksum, OddLengthPadsWithZero) {
  EXPECT_EQ(internet_checksum(Bytes{0xab}), 0x54ff);
  EXPECT_EQ(internet_checksum(Bytes{0x00, 0x01, 0xf2}),
            static_cast<std::uint16_t>(~(0x0001 + 0xf200)));
}

TEST(InternetChecksum, EmptyAndInitialValue) {
  EXPECT_EQ(internet_checksum(Bytes{}), 0xffff);
  EXPECT_EQ(internet_checksum(Bytes{}, 0x1234), static_cast<std::uint16_t>(~0x1234));
  // The initial value is added like one more word (with carry folding).
  EXPECT_EQ(internet_checksum(Bytes{0xff, 0xff}, 0x0002), static_cast<std::uint16_t>(~0x0002));
}

TEST(InternetChecksum, AgreesWithReferenceOnLongInput) {
  Bytes b(1001);
  for (std::size_t i = 0; i < b.size(); ++i) b[i] = static_cast<std::uint8_t>(i * 37 + 11);
  EXPECT_EQ(internet_checksum(b), reference_checksum(b));
}

TEST(InternetChecksum, PacketIncludingItsChecksumSumsToZero) {
  const Bytes p = Packet().echo(ICMP_ECHOREPLY, 0x1234, 5).payload(56).checksum().bytes();
  EXPECT_EQ(internet_checksum(p), 0);
}

TEST(WriteEchoRequest, Ipv4HeaderAndChecksum) {
  Bytes packet(64);
  for (std::size_t i = 8; i < packet.size(); ++i) packet[i] = static_cast<std::uint8_t>(i);
  packet[2] = packet[3] = 0xEE;  // stale checksum must not leak into the new one
  write_echo_request(packet, AF_INET, 0x1234, 0xABCD);
  EXPECT_EQ(packet[0], ICMP_ECHO);
  EXPECT_EQ(packet[1], 0);
  EXPECT_EQ(packet[4], 0x12);
  EXPECT_EQ(packet[5], 0x34);
  EXPECT_EQ(packet[6], 0xAB);
  EXPECT_EQ(packet[7], 0xCD);
  EXPECT_EQ(internet_checksum(packet), 0);
  Bytes zeroed = packet;
  zeroed[2] = zeroed[3] = 0;
  const std::uint16_t expected = reference_checksum(zeroed);
  EXPECT_EQ(packet[2], expected >> 8);
  EXPECT_EQ(packet[3], expected & 0xFF);
  for (std::size_t i = 8; i < packet.size(); ++i) EXPECT_EQ(packet[i], i) << i;  // data untouched
}

TEST(WriteEchoRequest, Ipv6LeavesChecksumToKernel) {
  Bytes packet(16, 0x55);
  write_echo_request(packet, AF_INET6, 0x0102, 0x0304);
  EXPECT_EQ(packet[0], ICMP6_ECHO_REQUEST);
  EXPECT_EQ(packet[1], 0);
  EXPECT_EQ(packet[2], 0);
  EXPECT_EQ(packet[3], 0);
  EXPECT_EQ(packet[4], 0x01);
  EXPECT_EQ(packet[5], 0x02);
  EXPECT_EQ(packet[6], 0x03);
  EXPECT_EQ(packet[7], 0x04);
  EXPECT_EQ(packet[8], 0x55);
}

TEST(WriteEchoRequest, RoundTripsThroughParser) {
  Bytes packet(8 + 56);
  write_echo_request(packet, AF_INET, 777, 65535);
  const IcmpMessage m = parse(packet, AF_INET, false);
  EXPECT_EQ(m.kind, IcmpKind::kEchoRequest);
  EXPECT_EQ(m.ident, 777);
  EXPECT_EQ(m.sequence, 65535);
  EXPECT_TRUE(m.checksum_ok);
}

// ---------------------------------------------------------------------------------------------
// Echo replies.

Bytes v4_raw_reply(std::uint8_t ttl, std::uint16_t ident, std::uint16_t seq, std::size_t data,
                   unsigned ihl = 5) {
  return Packet()
      .ipv4(IPPROTO_ICMP, ttl, "198.18.0.2", "198.18.0.1",
            static_cast<std::uint16_t>(ihl * 4 + 8 + data), ihl)
      .echo(ICMP_ECHOREPLY, ident, seq)
      .payload(data)
      .checksum()
      .bytes();
}

TEST(ParseIcmp, Ipv4RawEchoReplyWithIpHeader) {
  const Bytes p = v4_raw_reply(57, 0xBEEF, 42, 56);
  const IcmpMessage m = parse(p, AF_INET, true);
  EXPECT_EQ(m.kind, IcmpKind::kEchoReply);
  EXPECT_EQ(m.type, ICMP_ECHOREPLY);
  EXPECT_EQ(m.code, 0);
  EXPECT_EQ(m.ttl, 57);  // from the IP header
  EXPECT_EQ(m.ident, 0xBEEF);
  EXPECT_EQ(m.sequence, 42);
  EXPECT_EQ(m.rest, 0xBEEF002AU);
  EXPECT_TRUE(m.checksum_ok);
  EXPECT_EQ(m.icmp.size(), 64U);
  EXPECT_EQ(m.icmp.data(), p.data() + 20);
  EXPECT_FALSE(m.quoted.has_value());
}

TEST(ParseIcmp, Ipv4HeaderWithOptions) {
  const Bytes p = v4_raw_reply(3, 1, 2, 16, /*ihl=*/7);
  const IcmpMessage m = parse(p, AF_INET, true);
  EXPECT_EQ(m.kind, IcmpKind::kEchoReply);
  EXPECT_EQ(m.ttl, 3);
  EXPECT_EQ(m.icmp.data(), p.data() + 28);
  EXPECT_EQ(m.icmp.size(), 24U);
  EXPECT_EQ(m.sequence, 2);
  EXPECT_TRUE(m.checksum_ok);
}

TEST(ParseIcmp, Ipv4DatagramSocketReplyHasNoHeader) {
  const Bytes p = Packet().echo(ICMP_ECHOREPLY, 0x0102, 7).payload(56).checksum().bytes();
  const IcmpMessage m = parse(p, AF_INET, false);
  EXPECT_EQ(m.kind, IcmpKind::kEchoReply);
  EXPECT_EQ(m.ttl, -1);
  EXPECT_EQ(m.ident, 0x0102);
  EXPECT_EQ(m.sequence, 7);
  EXPECT_TRUE(m.checksum_ok);
  EXPECT_EQ(m.icmp.data(), p.data());
  EXPECT_EQ(m.icmp.size(), p.size());
}

TEST(ParseIcmp, Ipv4BadChecksumIsFlaggedNotDropped) {
  Bytes p = Packet().echo(ICMP_ECHOREPLY, 1, 1).payload(56).checksum().bytes();
  p[30] ^= 0x01;
  const IcmpMessage m = parse(p, AF_INET, false);
  EXPECT_EQ(m.kind, IcmpKind::kEchoReply);
  EXPECT_FALSE(m.checksum_ok);
  EXPECT_EQ(m.sequence, 1);
}

TEST(ParseIcmp, Ipv4BadChecksumWithIpHeaderIgnoresIpBytes) {
  Bytes p = v4_raw_reply(64, 1, 1, 56);
  p[10] = 0xAA;  // IP header checksum field: not part of the ICMP checksum
  EXPECT_TRUE(parse(p, AF_INET, true).checksum_ok);
  p[20 + 8] ^= 0xFF;  // first data byte
  EXPECT_FALSE(parse(p, AF_INET, true).checksum_ok);
}

TEST(ParseIcmp, ShortPacketsWithIpHeaderAreMalformed) {
  const Bytes full = v4_raw_reply(64, 1, 1, 56);
  for (std::size_t n = 0; n < 28; ++n) {
    const Bytes cut(full.begin(), full.begin() + static_cast<std::ptrdiff_t>(n));
    const IcmpMessage m = parse(cut, AF_INET, true);
    EXPECT_EQ(m.kind, IcmpKind::kMalformed) << n << " bytes";
    EXPECT_TRUE(m.icmp.empty()) << n;
  }
  const Bytes header_only(full.begin(), full.begin() + 28);
  EXPECT_EQ(parse(header_only, AF_INET, true).kind, IcmpKind::kEchoReply);
}

TEST(ParseIcmp, ShortPacketsWithoutHeaderAreMalformed) {
  const Bytes full = Packet().echo(ICMP_ECHOREPLY, 1, 1).payload(8).checksum().bytes();
  for (std::size_t n = 0; n < 8; ++n) {
    const Bytes cut(full.begin(), full.begin() + static_cast<std::ptrdiff_t>(n));
    EXPECT_EQ(parse(cut, AF_INET, false).kind, IcmpKind::kMalformed) << n;
    EXPECT_EQ(parse(cut, AF_INET6, false).kind, IcmpKind::kMalformed) << n;
  }
}

TEST(ParseIcmp, IhlBelowFiveIsMalformed) {
  Bytes p = v4_raw_reply(64, 1, 1, 56);
  p[0] = 0x44;
  EXPECT_EQ(parse(p, AF_INET, true).kind, IcmpKind::kMalformed);
  p[0] = 0x40;
  EXPECT_EQ(parse(p, AF_INET, true).kind, IcmpKind::kMalformed);
}

TEST(ParseIcmp, IhlBeyondPacketIsMalformed) {
  Bytes p = v4_raw_reply(64, 1, 1, 12);  // 40 bytes
  ASSERT_EQ(p.size(), 40U);
  p[0] = 0x4F;  // 60-byte header claimed
  EXPECT_EQ(parse(p, AF_INET, true).kind, IcmpKind::kMalformed);
  p[0] = 0x48;  // 32-byte header + 8 = 40: just fits
  EXPECT_NE(parse(p, AF_INET, true).kind, IcmpKind::kMalformed);
  p[0] = 0x49;  // 36 + 8 > 40
  EXPECT_EQ(parse(p, AF_INET, true).kind, IcmpKind::kMalformed);
}

TEST(ParseIcmp, WrongIpVersionIsMalformed) {
  Bytes p = v4_raw_reply(64, 1, 1, 56);
  p[0] = 0x65;
  EXPECT_EQ(parse(p, AF_INET, true).kind, IcmpKind::kMalformed);
}

// ---------------------------------------------------------------------------------------------
// ICMP errors quoting our echo request.

// What a router sends back: its IP header, the error, our IP header, our first 8 ICMP bytes.
Bytes v4_error(std::uint8_t type, std::uint8_t code, std::uint32_t rest, std::uint16_t ident,
               std::uint16_t seq, const char* original_dst = "198.18.0.2", unsigned quoted_ihl = 5,
               std::uint8_t quoted_protocol = IPPROTO_ICMP, std::uint8_t quoted_type = ICMP_ECHO) {
  return Packet()
      .ipv4(IPPROTO_ICMP, 250, "198.18.200.1", "198.18.0.1",
            static_cast<std::uint16_t>(20 + 8 + quoted_ihl * 4 + 8))
      .icmp(type, code, rest)
      .ipv4(quoted_protocol, 1, "198.18.0.1", original_dst, 84, quoted_ihl)
      .u8(quoted_type)
      .u8(0)
      .u16(0xCAFE)
      .u16(ident)
      .u16(seq)
      .checksum()
      .bytes();
}

TEST(ParseIcmp, Ipv4DestinationUnreachableQuotesOurEcho) {
  const Bytes p = v4_error(ICMP_DEST_UNREACH, ICMP_HOST_UNREACH, 0, 0x1234, 9);
  const IcmpMessage m = parse(p, AF_INET, true);
  EXPECT_EQ(m.kind, IcmpKind::kError);
  EXPECT_EQ(m.type, ICMP_DEST_UNREACH);
  EXPECT_EQ(m.code, ICMP_HOST_UNREACH);
  EXPECT_EQ(m.ttl, 250);
  EXPECT_TRUE(m.checksum_ok);
  ASSERT_TRUE(m.quoted.has_value());
  EXPECT_EQ(m.quoted->destination.to_string(), "198.18.0.2");
  EXPECT_EQ(m.quoted->ident, 0x1234);
  EXPECT_EQ(m.quoted->sequence, 9);
}

TEST(ParseIcmp, Ipv4FragmentationNeededCarriesMtu) {
  const Bytes p = v4_error(ICMP_DEST_UNREACH, ICMP_FRAG_NEEDED, 1400, 1, 2);
  const IcmpMessage m = parse(p, AF_INET, true);
  EXPECT_EQ(m.kind, IcmpKind::kError);
  EXPECT_EQ(m.rest, 1400U);
  ASSERT_TRUE(m.quoted.has_value());
  EXPECT_EQ(m.quoted->sequence, 2);
}

TEST(ParseIcmp, Ipv4QuoteWithIpOptions) {
  const Bytes p =
      v4_error(ICMP_TIME_EXCEEDED, ICMP_EXC_TTL, 0, 0x4321, 300, "198.18.200.7", /*quoted_ihl=*/6);
  const IcmpMessage m = parse(p, AF_INET, true);
  EXPECT_EQ(m.kind, IcmpKind::kError);
  ASSERT_TRUE(m.quoted.has_value());
  EXPECT_EQ(m.quoted->destination.to_string(), "198.18.200.7");
  EXPECT_EQ(m.quoted->ident, 0x4321);
  EXPECT_EQ(m.quoted->sequence, 300);
}

TEST(ParseIcmp, Ipv4ErrorWithoutIpHeaderFromDatagramSocket) {
  Bytes p = v4_error(ICMP_TIME_EXCEEDED, ICMP_EXC_TTL, 0, 5, 6);
  p.erase(p.begin(), p.begin() + 20);
  const IcmpMessage m = parse(p, AF_INET, false);
  EXPECT_EQ(m.kind, IcmpKind::kError);
  EXPECT_EQ(m.ttl, -1);
  ASSERT_TRUE(m.quoted.has_value());
  EXPECT_EQ(m.quoted->sequence, 6);
}

TEST(ParseIcmp, Ipv4QuoteTooShortHasNoQuotedEcho) {
  const Bytes full = v4_error(ICMP_DEST_UNREACH, ICMP_PORT_UNREACH, 0, 1, 2);
  // Every cut that loses part of the quoted 8 ICMP bytes (or the quoted IP header).
  for (std::size_t n = 28; n < full.size(); ++n) {
    const Bytes cut(full.begin(), full.begin() + static_cast<std::ptrdiff_t>(n));
    const IcmpMessage m = parse(cut, AF_INET, true);
    EXPECT_EQ(m.kind, IcmpKind::kError) << n;
    EXPECT_FALSE(m.quoted.has_value()) << n;
  }
  EXPECT_TRUE(parse(full, AF_INET, true).quoted.has_value());
}

TEST(ParseIcmp, Ipv4QuoteOfSomethingElseIsIgnored) {
  // A quoted UDP datagram, or a quoted ICMP message that is not an echo request.
  EXPECT_FALSE(
      parse(v4_error(ICMP_DEST_UNREACH, 3, 0, 1, 2, "198.18.0.2", 5, IPPROTO_UDP), AF_INET, true)
          .quoted.has_value());
  EXPECT_FALSE(
      parse(v4_error(ICMP_DEST_UNREACH, 3, 0, 1, 2, "198.18.0.2", 5, IPPROTO_ICMP, ICMP_ECHOREPLY),
            AF_INET, true)
          .quoted.has_value());
  // A quoted header with a bad version or length.
  Bytes p = v4_error(ICMP_DEST_UNREACH, 3, 0, 1, 2);
  p[28] = 0x65;
  EXPECT_FALSE(parse(p, AF_INET, true).quoted.has_value());
  p[28] = 0x43;
  EXPECT_FALSE(parse(p, AF_INET, true).quoted.has_value());
  p[28] = 0x4F;  // 60-byte quoted header: longer than what is there
  EXPECT_FALSE(parse(p, AF_INET, true).quoted.has_value());
}

TEST(ParseIcmp, Ipv4ParameterProblemIsError) {
  const Bytes p = v4_error(ICMP_PARAMETERPROB, 0, 20U << 24, 1, 2);
  const IcmpMessage m = parse(p, AF_INET, true);
  EXPECT_EQ(m.kind, IcmpKind::kError);
  EXPECT_EQ(m.rest, 20U << 24);
  EXPECT_TRUE(m.quoted.has_value());
}

TEST(ParseIcmp, Ipv4RedirectAndSourceQuenchAreNotices) {
  const Bytes redirect = v4_error(ICMP_REDIRECT, ICMP_REDIR_HOST, 0xC612C8FE, 0x1111, 4);
  const IcmpMessage m = parse(redirect, AF_INET, true);
  EXPECT_EQ(m.kind, IcmpKind::kNotice);
  EXPECT_EQ(m.rest, 0xC612C8FEU);  // the new gateway, host order
  ASSERT_TRUE(m.quoted.has_value());
  EXPECT_EQ(m.quoted->sequence, 4);
  EXPECT_EQ(parse(v4_error(ICMP_SOURCE_QUENCH, 0, 0, 1, 2), AF_INET, true).kind, IcmpKind::kNotice);
}

TEST(ParseIcmp, Ipv4OtherTypes) {
  const Bytes request = Packet().echo(ICMP_ECHO, 1, 1).payload(8).checksum().bytes();
  EXPECT_EQ(parse(request, AF_INET, false).kind, IcmpKind::kEchoRequest);
  for (const std::uint8_t type :
       std::initializer_list<std::uint8_t>{ICMP_TIMESTAMP, ICMP_TIMESTAMPREPLY, ICMP_ADDRESS, 42}) {
    const Bytes p = Packet().icmp(type, 0, 0).payload(12).checksum().bytes();
    const IcmpMessage m = parse(p, AF_INET, false);
    EXPECT_EQ(m.kind, IcmpKind::kOther) << int{type};
    EXPECT_EQ(m.type, type);
    EXPECT_FALSE(m.quoted.has_value());
  }
}

// ---------------------------------------------------------------------------------------------
// ICMPv6 (no IP header on the socket; the kernel checks the checksum).

TEST(ParseIcmp, Ipv6EchoReply) {
  Bytes p = Packet().echo(ICMP6_ECHO_REPLY, 0xABCD, 65000).payload(56).bytes();
  p[2] = 0x12;  // whatever the checksum bytes are, they are not ours to verify
  p[3] = 0x34;
  const IcmpMessage m = parse(p, AF_INET6, false);
  EXPECT_EQ(m.kind, IcmpKind::kEchoReply);
  EXPECT_EQ(m.ident, 0xABCD);
  EXPECT_EQ(m.sequence, 65000);
  EXPECT_EQ(m.ttl, -1);
  EXPECT_TRUE(m.checksum_ok);
  EXPECT_EQ(m.icmp.size(), 64U);
}

Bytes v6_error(std::uint8_t type, std::uint8_t code, std::uint32_t rest, std::uint16_t ident,
               std::uint16_t seq, std::uint8_t quoted_next = IPPROTO_ICMPV6,
               std::uint8_t quoted_type = ICMP6_ECHO_REQUEST) {
  return Packet()
      .icmp(type, code, rest)
      .ipv6(quoted_next, "2001:db8::1", "2001:db8::2", 64)
      .u8(quoted_type)
      .u8(0)
      .u16(0)
      .u16(ident)
      .u16(seq)
      .payload(16)
      .bytes();
}

TEST(ParseIcmp, Ipv6DestinationUnreachableQuotesOurEcho) {
  const Bytes p = v6_error(ICMP6_DST_UNREACH, ICMP6_DST_UNREACH_ADDR, 0, 0x7777, 12);
  const IcmpMessage m = parse(p, AF_INET6, false);
  EXPECT_EQ(m.kind, IcmpKind::kError);
  EXPECT_EQ(m.type, ICMP6_DST_UNREACH);
  EXPECT_EQ(m.code, ICMP6_DST_UNREACH_ADDR);
  ASSERT_TRUE(m.quoted.has_value());
  EXPECT_TRUE(m.quoted->destination.is_v6());
  EXPECT_EQ(m.quoted->destination.to_string(), "2001:db8::2");
  EXPECT_EQ(m.quoted->ident, 0x7777);
  EXPECT_EQ(m.quoted->sequence, 12);
}

TEST(ParseIcmp, Ipv6ErrorTypes) {
  const IcmpMessage too_big = parse(v6_error(ICMP6_PACKET_TOO_BIG, 0, 1280, 1, 2), AF_INET6, false);
  EXPECT_EQ(too_big.kind, IcmpKind::kError);
  EXPECT_EQ(too_big.rest, 1280U);
  EXPECT_TRUE(too_big.quoted.has_value());
  const IcmpMessage exceeded = parse(v6_error(ICMP6_TIME_EXCEEDED, 0, 0, 1, 3), AF_INET6, false);
  EXPECT_EQ(exceeded.kind, IcmpKind::kError);
  ASSERT_TRUE(exceeded.quoted.has_value());
  EXPECT_EQ(exceeded.quoted->sequence, 3);
  EXPECT_EQ(parse(v6_error(ICMP6_PARAM_PROB, 1, 40, 1, 2), AF_INET6, false).kind, IcmpKind::kError);
}

TEST(ParseIcmp, Ipv6QuoteProblems) {
  // Not ICMPv6 inside, not an echo request, wrong IP version, too short.
  EXPECT_FALSE(parse(v6_error(ICMP6_DST_UNREACH, 4, 0, 1, 2, IPPROTO_UDP), AF_INET6, false)
                   .quoted.has_value());
  EXPECT_FALSE(parse(v6_error(ICMP6_DST_UNREACH, 4, 0, 1, 2, IPPROTO_ICMPV6, ICMP6_ECHO_REPLY),
                     AF_INET6, false)
                   .quoted.has_value());
  Bytes p = v6_error(ICMP6_DST_UNREACH, 4, 0, 1, 2);
  p[8] = 0x40;
  EXPECT_FALSE(parse(p, AF_INET6, false).quoted.has_value());
  const Bytes full = v6_error(ICMP6_DST_UNREACH, 4, 0, 1, 2);
  for (std::size_t n = 8; n < 8 + 40 + 8; ++n) {
    const Bytes cut(full.begin(), full.begin() + static_cast<std::ptrdiff_t>(n));
    const IcmpMessage m = parse(cut, AF_INET6, false);
    EXPECT_EQ(m.kind, IcmpKind::kError) << n;
    EXPECT_FALSE(m.quoted.has_value()) << n;
  }
  const Bytes exact(full.begin(), full.begin() + 8 + 40 + 8);
  EXPECT_TRUE(parse(exact, AF_INET6, false).quoted.has_value());
}

TEST(ParseIcmp, Ipv6OtherTypes) {
  EXPECT_EQ(parse(Packet().echo(ICMP6_ECHO_REQUEST, 1, 1).bytes(), AF_INET6, false).kind,
            IcmpKind::kEchoRequest);
  // Neighbour discovery, redirect (no "notice" kind in ICMPv6), an unassigned type.
  for (const std::uint8_t type : std::initializer_list<std::uint8_t>{135, 137, 200}) {
    const IcmpMessage m = parse(Packet().icmp(type, 0, 0).payload(16).bytes(), AF_INET6, false);
    EXPECT_EQ(m.kind, IcmpKind::kOther) << int{type};
    EXPECT_FALSE(m.quoted.has_value());
  }
  // An ICMPv4 echo reply type number means nothing in ICMPv6.
  EXPECT_EQ(parse(Packet().echo(ICMP_ECHOREPLY, 1, 1).bytes(), AF_INET6, false).kind,
            IcmpKind::kOther);
}

}  // namespace
}  // namespace mtool::probe
