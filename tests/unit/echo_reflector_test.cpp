// The TAP responder's answer (tests/testbed/echo_reflector): echo requests to our addresses
// become correct replies; every other frame, however mangled, is dropped. Checksums are checked
// with mtool's own internet_checksum, independent of the reflector's.
#include "echo_reflector.h"

#include <arpa/inet.h>
#include <gtest/gtest.h>

#include <cstdint>
#include <span>
#include <vector>

#include "probe/icmp_codec.h"
#include "util/bytes.h"

namespace mtool::testbed {
namespace {

using Bytes = std::vector<std::uint8_t>;
using probe::internet_checksum;

constexpr const char* kOurs4 = "198.19.213.2";
constexpr const char* kPeer4 = "198.19.213.1";
constexpr const char* kOurs6 = "fd00:6d74:d21::2";
constexpr const char* kPeer6 = "fd00:6d74:d21::1";
const Bytes kOurMac{0x02, 0x6d, 0x74, 0x72, 0x74, 0x15};
const Bytes kPeerMac{0xee, 0x58, 0x16, 0x8f, 0x60, 0x3c};

EchoAddresses ours() {
  EchoAddresses a;
  inet_pton(AF_INET, kOurs4, a.v4.emplace().data());
  inet_pton(AF_INET6, kOurs6, a.v6.emplace().data());
  return a;
}

void put(Bytes& b, const Bytes& more) { b.insert(b.end(), more.begin(), more.end()); }
Bytes addr(int family, const char* text) {
  Bytes a(family == AF_INET ? 4 : 16);
  EXPECT_EQ(inet_pton(family, text, a.data()), 1);
  return a;
}

// The ICMPv6 pseudo-header's sum (both addresses, length, next header), as internet_checksum's
// initial value.
std::uint32_t pseudo6(const std::uint8_t* ip6, std::size_t payload) {
  std::uint32_t sum = static_cast<std::uint32_t>(payload) + 58;
  for (std::size_t i = 8; i < 40; i += 2) sum += load16(ip6 + i);
  return sum;
}

// An Ethernet frame with an echo request (`type`) of `data` payload bytes from the peer to
// `dst`; checksums correct.
Bytes echo_frame(int family, const char* dst, std::uint8_t type, std::size_t data = 56) {
  Bytes f = kOurMac;
  put(f, kPeerMac);
  Bytes icmp{type, 0, 0, 0, 0x12, 0x34, 0x00, 0x07};
  for (std::size_t i = 0; i < data; ++i) icmp.push_back(static_cast<std::uint8_t>(i * 7));
  if (family == AF_INET) {
    put(f, {0x08, 0x00, 0x45, 0, 0, 0, 0xbe, 0xef, 0x40, 0, 63, 1, 0, 0});
    store16(f.data() + 16, static_cast<std::uint16_t>(20 + icmp.size()));
    put(f, addr(AF_INET, kPeer4));
    put(f, addr(AF_INET, dst));
    store16(f.data() + 24, internet_checksum(std::span(f).subspan(14, 20)));
    store16(icmp.data() + 2, internet_checksum(icmp));
  } else {
    put(f, {0x86, 0xdd, 0x60, 0, 0, 0, 0, 0, 58, 63});
    store16(f.data() + 18, static_cast<std::uint16_t>(icmp.size()));
    put(f, addr(AF_INET6, kPeer6));
    put(f, addr(AF_INET6, dst));
    store16(icmp.data() + 2, internet_checksum(icmp, pseudo6(f.data() + 14, icmp.size())));
  }
  put(f, icmp);
  return f;
}

// After an edit of the IPv4 header: its checksum right again, so that only the edit is wrong.
Bytes refresh4(Bytes f) {
  store16(f.data() + 24, 0);
  store16(f.data() + 24, internet_checksum(std::span(f).subspan(14, 20)));
  return f;
}

std::size_t reflect(Bytes& frame) { return reflect_echo(frame.data(), frame.size(), ours()); }

TEST(EchoReflector, Ipv4EchoBecomesItsReply) {
  for (std::size_t data : {56U, 0U, 17U}) {  // odd: the checksum's last half-word
    const Bytes request = echo_frame(AF_INET, kOurs4, 8, data);
    Bytes frame = request;
    ASSERT_EQ(reflect(frame), request.size()) << data;
    EXPECT_EQ(Bytes(frame.begin(), frame.begin() + 6), kPeerMac);
    EXPECT_EQ(Bytes(frame.begin() + 6, frame.begin() + 12), kOurMac);
    EXPECT_EQ(Bytes(frame.begin() + 26, frame.begin() + 30), addr(AF_INET, kOurs4));
    EXPECT_EQ(Bytes(frame.begin() + 30, frame.begin() + 34), addr(AF_INET, kPeer4));
    EXPECT_EQ(frame[22], 64);  // a fresh TTL
    EXPECT_EQ(internet_checksum(std::span(frame).subspan(14, 20)), 0);
    EXPECT_EQ(frame[34], 0);  // echo reply
    EXPECT_EQ(internet_checksum(std::span(frame).subspan(34)), 0);
    // Identifier, sequence and data come back unchanged.
    EXPECT_EQ(Bytes(frame.begin() + 38, frame.end()), Bytes(request.begin() + 38, request.end()));
  }
}

TEST(EchoReflector, Ipv6EchoBecomesItsReply) {
  for (std::size_t data : {56U, 0U, 17U}) {
    const Bytes request = echo_frame(AF_INET6, kOurs6, 128, data);
    Bytes frame = request;
    ASSERT_EQ(reflect(frame), request.size()) << data;
    EXPECT_EQ(Bytes(frame.begin(), frame.begin() + 6), kPeerMac);
    EXPECT_EQ(Bytes(frame.begin() + 22, frame.begin() + 38), addr(AF_INET6, kOurs6));
    EXPECT_EQ(Bytes(frame.begin() + 38, frame.begin() + 54), addr(AF_INET6, kPeer6));
    EXPECT_EQ(frame[21], 64);  // a fresh hop limit
    EXPECT_EQ(frame[54], 129);
    EXPECT_EQ(internet_checksum(std::span(frame).subspan(54), pseudo6(frame.data() + 14, 8 + data)),
              0);
    EXPECT_EQ(Bytes(frame.begin() + 58, frame.end()), Bytes(request.begin() + 58, request.end()));
  }
}

TEST(EchoReflector, PaddingAfterThePacketIsNotSentBack) {
  Bytes frame = echo_frame(AF_INET, kOurs4, 8, 0);  // 42 bytes, padded to Ethernet's 60
  const std::size_t packet = frame.size();
  frame.resize(60, 0);
  EXPECT_EQ(reflect(frame), packet);
}

TEST(EchoReflector, EveryTruncationIsDropped) {
  for (int family : {AF_INET, AF_INET6}) {
    const Bytes request =
        echo_frame(family, family == AF_INET ? kOurs4 : kOurs6, family == AF_INET ? 8 : 128);
    for (std::size_t n = 0; n < request.size(); ++n) {
      Bytes frame(request.begin(), request.begin() + static_cast<std::ptrdiff_t>(n));
      EXPECT_EQ(reflect(frame), 0U) << family << " cut to " << n;
    }
  }
}

TEST(EchoReflector, OthersAreDropped) {
  struct Case {
    const char* why;
    Bytes frame;
  };
  std::vector<Case> cases;
  const auto v4 = [] { return echo_frame(AF_INET, kOurs4, 8); };
  const auto v6 = [] { return echo_frame(AF_INET6, kOurs6, 128); };
  cases.push_back({"v4 to another address", echo_frame(AF_INET, "198.19.213.3", 8)});
  cases.push_back({"v6 to another address", echo_frame(AF_INET6, "fd00:6d74:d21::3", 128)});
  cases.push_back({"v4 echo reply", echo_frame(AF_INET, kOurs4, 0)});
  cases.push_back({"v4 timestamp request", echo_frame(AF_INET, kOurs4, 13)});
  cases.push_back({"v6 echo reply", echo_frame(AF_INET6, kOurs6, 129)});
  cases.push_back({"v6 neighbour solicitation", echo_frame(AF_INET6, kOurs6, 135)});
  Bytes f = v4();
  f[23] = 17;  // UDP
  cases.push_back({"v4 not ICMP", refresh4(f)});
  f = v4();
  f[24] ^= 1;
  cases.push_back({"v4 bad header checksum", f});
  f = v4();
  f.back() ^= 1;
  cases.push_back({"v4 bad ICMP checksum", f});
  f = v6();
  f.back() ^= 1;
  cases.push_back({"v6 bad ICMPv6 checksum", f});
  f = v4();
  f[14] = 0x46;  // IHL 6: options
  cases.push_back({"v4 options", refresh4(f)});
  f = v4();
  f[20] = 0x20;  // more fragments
  cases.push_back({"v4 first fragment", refresh4(f)});
  f = v4();
  f[21] = 0x01;  // offset 8
  cases.push_back({"v4 later fragment", refresh4(f)});
  f = v4();
  store16(f.data() + 16, 20 + 4);  // shorter than an echo header
  cases.push_back({"v4 total length too small", refresh4(f)});
  f = v6();
  f[20] = 0;  // hop-by-hop options first
  cases.push_back({"v6 extension header", f});
  f = v6();
  store16(f.data() + 18, 4);
  cases.push_back({"v6 payload length too small", f});
  f = v4();
  f[0] = 0x01;  // a multicast destination MAC
  cases.push_back({"multicast destination", f});
  f = v4();
  f[12] = 0x08, f[13] = 0x06;
  cases.push_back({"ARP", f});
  f = v4();
  f[14] = 0x65;  // version 6 in an IPv4 frame
  cases.push_back({"v4 frame, version 6", refresh4(f)});
  for (Case& c : cases) EXPECT_EQ(reflect(c.frame), 0U) << c.why;
}

TEST(EchoReflector, AFamilyWithoutAddressIsDropped) {
  EchoAddresses only_v4 = ours();
  only_v4.v6.reset();
  Bytes frame = echo_frame(AF_INET6, kOurs6, 128);
  EXPECT_EQ(reflect_echo(frame.data(), frame.size(), only_v4), 0U);
  frame = echo_frame(AF_INET, kOurs4, 8);
  EXPECT_EQ(reflect_echo(frame.data(), frame.size(), only_v4), frame.size());
}

}  // namespace
}  // namespace mtool::testbed
