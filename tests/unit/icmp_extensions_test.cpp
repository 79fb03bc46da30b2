// ICMP extensions (RFC 4884/4950) as traceroute -e prints them.
#include "probe/icmp_extensions.h"

#include <gtest/gtest.h>
#include <sys/socket.h>

#include <vector>

#include "probe/icmp_codec.h"

namespace mtool::probe {
namespace {

// A quote as the UDP error queue returns it: our data after IP+UDP headers (28 bytes), padded
// to 128 bytes of original datagram, then an extension structure with one MPLS object.
std::vector<std::uint8_t> quote_with_mpls(std::uint32_t label, bool checksum) {
  std::vector<std::uint8_t> payload(128 - 28, 0x40);
  const std::size_t start = payload.size();
  payload.insert(payload.end(), {0x20, 0, 0, 0});  // version 2, checksum later
  payload.insert(payload.end(), {0, 8, 1, 1});     // length 8, class 1 (MPLS), type 1
  const std::uint32_t entry = (label << 12) | (0 << 9) | (1 << 8) | 1;  // S=1, TTL=1
  payload.insert(payload.end(),
                 {static_cast<std::uint8_t>(entry >> 24), static_cast<std::uint8_t>(entry >> 16),
                  static_cast<std::uint8_t>(entry >> 8), static_cast<std::uint8_t>(entry)});
  if (checksum) {
    const std::uint16_t sum = internet_checksum(std::span(payload).subspan(start));
    payload[start + 2] = static_cast<std::uint8_t>(sum >> 8);
    payload[start + 3] = static_cast<std::uint8_t>(sum);
  }
  return payload;
}

TEST(IcmpExtensions, MplsLabelStack) {
  const auto payload = quote_with_mpls(16, true);
  EXPECT_EQ(decode_icmp_extensions(payload, 28, 32, AF_INET), "MPLS:L=16,E=0,S=1,T=1");
}

TEST(IcmpExtensions, ZeroChecksumIsAccepted) {
  EXPECT_EQ(decode_icmp_extensions(quote_with_mpls(300, false), 28, 32, AF_INET),
            "MPLS:L=300,E=0,S=1,T=1");
}

TEST(IcmpExtensions, BadChecksumOrShortQuoteIsIgnored) {
  auto payload = quote_with_mpls(16, true);
  payload[payload.size() - 1] ^= 0xFF;
  EXPECT_EQ(decode_icmp_extensions(payload, 28, 32, AF_INET), std::nullopt);
  const std::vector<std::uint8_t> short_quote(40, 0x40);
  EXPECT_EQ(decode_icmp_extensions(short_quote, 28, 32, AF_INET), std::nullopt);
}

TEST(IcmpExtensions, OtherObjectsPrintTheirWords) {
  std::vector<std::uint8_t> payload(100, 0);
  payload.insert(payload.end(), {0x20, 0, 0, 0, 0, 8, 2, 3, 0xde, 0xad, 0xbe, 0xef});
  EXPECT_EQ(decode_icmp_extensions(payload, 28, 32, AF_INET), "2/3:deadbeef");
}

}  // namespace
}  // namespace mtool::probe
