// Paris traceroute's steered checksums: the wanted value comes out of an independent RFC 1071
// sum over the whole message, for ICMP (no pseudo-header) and UDP (with one), whatever the
// rest of the message says.
#include "probe/flow_checksum.h"

#include <arpa/inet.h>
#include <gtest/gtest.h>
#include <netinet/in.h>

#include <array>
#include <cstdint>
#include <vector>

#include "util/bytes.h"

namespace mtool::probe {
namespace {

// RFC 1071 written out again, so that the test does not check the code with itself.
std::uint16_t reference_checksum(const std::vector<std::uint8_t>& prefix,
                                 const std::vector<std::uint8_t>& message) {
  std::vector<std::uint8_t> all = prefix;
  all.insert(all.end(), message.begin(), message.end());
  if (all.size() % 2 != 0) all.push_back(0);
  std::uint32_t sum = 0;
  for (std::size_t i = 0; i < all.size(); i += 2) sum += (all[i] << 8) | all[i + 1];
  while ((sum >> 16) != 0) sum = (sum & 0xFFFF) + (sum >> 16);
  return static_cast<std::uint16_t>(~sum);
}

net::IpAddress v4(const char* text) {
  in_addr a{};
  inet_pton(AF_INET, text, &a);
  return net::IpAddress::v4(a);
}

TEST(FlowChecksum, AnEchoHoldsItsChecksumWhateverItsSequence) {
  for (const std::uint16_t sequence : std::array<std::uint16_t, 4>{1, 2, 0x1234, 0xFFFF}) {
    std::vector<std::uint8_t> echo(40, 0x41);
    echo[0] = 8;
    store16(&echo[4], 0xBEEF);
    store16(&echo[6], sequence);
    steer_checksum(echo, 2, 8, 0, 0x0007);
    EXPECT_EQ(load16(&echo[2]), 0) << "the field is left for the sender";
    write_checksum(echo, 2, 0);
    EXPECT_EQ(load16(&echo[2]), 0x0007) << sequence;
    store16(&echo[2], 0);
    EXPECT_EQ(reference_checksum({}, echo), 0x0007) << sequence;
  }
}

TEST(FlowChecksum, AUdpProbeCarriesTheChecksumThatNamesIt) {
  const net::IpAddress source = v4("198.18.49.2");
  const net::IpAddress destination = v4("198.19.97.254");
  std::vector<std::uint8_t> udp(8 + 33, 0x40);  // odd length: the last byte is padded
  store16(&udp[0], 40000);
  store16(&udp[2], 33437);
  store16(&udp[4], static_cast<std::uint16_t>(udp.size()));
  const std::uint16_t pseudo = pseudo_header_sum(source, destination, udp.size(), IPPROTO_UDP);
  const std::vector<std::uint8_t> pseudo_bytes{198, 18, 49, 2, 198, 19, 97, 254, 0, 17, 0, 41};
  for (const std::uint16_t name : std::array<std::uint16_t, 4>{1, 2, 300, 0xFFFE}) {
    steer_checksum(udp, 6, 8, pseudo, name);
    EXPECT_EQ(reference_checksum(pseudo_bytes, udp), name);
  }
}

TEST(FlowChecksum, TheIpv6PseudoHeaderCoversBothAddresses) {
  in6_addr a{};
  in6_addr b{};
  inet_pton(AF_INET6, "fd00:6d74:b33::2", &a);
  inet_pton(AF_INET6, "fd00:6d74:c33:ff::1", &b);
  std::vector<std::uint8_t> pseudo_bytes(a.s6_addr, a.s6_addr + 16);
  pseudo_bytes.insert(pseudo_bytes.end(), b.s6_addr, b.s6_addr + 16);
  pseudo_bytes.insert(pseudo_bytes.end(), {0, 0, 0, 16, 0, 0, 0, 58});
  std::vector<std::uint8_t> echo(16, 0);
  echo[0] = 128;
  const std::uint16_t pseudo =
      pseudo_header_sum(net::IpAddress::v6(a), net::IpAddress::v6(b), echo.size(), 58);
  steer_checksum(echo, 2, 8, pseudo, 0x0102);
  EXPECT_EQ(reference_checksum(pseudo_bytes, echo), 0x0102);
}

// RIPE Atlas' probe code (eperd/traceroute.c) steers an ICMP Paris echo to checksum paris_id
// over IPv4 (paris_id 0 included) and paris_id + 1 over IPv6; so do we, for the same paths.
TEST(FlowChecksum, IcmpFlowsTakeAtlasChecksums) {
  EXPECT_EQ(icmp_flow_checksum(AF_INET, 0), 0);
  EXPECT_EQ(icmp_flow_checksum(AF_INET, 15), 15);
  EXPECT_EQ(icmp_flow_checksum(AF_INET6, 0), 1);
  EXPECT_EQ(icmp_flow_checksum(AF_INET6, 15), 16);
  EXPECT_EQ(icmp_flow_checksum(AF_INET6, 0xFFFE), 0) << "0xFFFF is no checksum: it wraps";
  EXPECT_EQ(icmp_flow_checksum(AF_INET, 0xFFFF), 0);
  std::vector<std::uint8_t> echo(40, 0x41);
  echo[0] = 8;
  store16(&echo[4], 0xBEEF);
  store16(&echo[6], 3);
  steer_checksum(echo, 2, 8, 0, icmp_flow_checksum(AF_INET, 0));
  EXPECT_EQ(reference_checksum({}, echo), 0) << "paris_id 0 over IPv4: a checksum of zero";
}

}  // namespace
}  // namespace mtool::probe
