// What a raw socket hands the traceroute methods: IPv4's header is skipped by its own length
// field, and a datagram whose header is cut short or lies about its length is refused.
#include <gtest/gtest.h>
#include <sys/socket.h>

#include <array>
#include <cstdint>

#include "trace/method_common.h"

namespace mtool::trace {
namespace {

TEST(RawTransportSegment, IPv4SkipsTheHeaderByItsLengthField) {
  std::array<std::uint8_t, 32> packet{};
  packet[0] = 0x46;  // version 4, 24-byte header (one option word)
  packet[24] = 0xAB;
  const auto segment = raw_transport_segment(packet, AF_INET);
  ASSERT_TRUE(segment);
  EXPECT_EQ(segment->size(), 8U);
  EXPECT_EQ((*segment)[0], 0xAB);
}

TEST(RawTransportSegment, IPv4HeadersCutShortOrTooShortAreRefused) {
  std::array<std::uint8_t, 19> truncated{};
  truncated[0] = 0x45;
  EXPECT_FALSE(raw_transport_segment(truncated, AF_INET));
  std::array<std::uint8_t, 40> lies{};
  lies[0] = 0x44;  // a 16-byte header: below IPv4's minimum
  EXPECT_FALSE(raw_transport_segment(lies, AF_INET));
  lies[0] = 0x4F;  // 60 bytes claimed, 40 received
  EXPECT_FALSE(raw_transport_segment(lies, AF_INET));
}

TEST(RawTransportSegment, IPv6RawSocketsDeliverNoHeaderToSkip) {
  std::array<std::uint8_t, 8> segment{0x82, 0x9A};
  const auto same = raw_transport_segment(segment, AF_INET6);
  ASSERT_TRUE(same);
  EXPECT_EQ(same->data(), segment.data());
  EXPECT_EQ(same->size(), segment.size());
}

}  // namespace
}  // namespace mtool::trace
