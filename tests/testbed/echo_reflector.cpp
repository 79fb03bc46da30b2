#include "echo_reflector.h"

#include <algorithm>
#include <cstring>

#include "util/bytes.h"

namespace mtool::testbed {
namespace {

constexpr std::size_t kEthernet = 14;
constexpr std::size_t kIpv4 = 20;  // options are refused
constexpr std::size_t kIpv6 = 40;
constexpr std::size_t kEcho = 8;  // type, code, checksum, identifier, sequence
constexpr std::uint8_t kFreshTtl = 64;

std::uint32_t sum16(const std::uint8_t* p, std::size_t n, std::uint32_t sum = 0) {
  for (; n > 1; p += 2, n -= 2) sum += load16(p);
  if (n != 0) sum += static_cast<std::uint32_t>(p[0]) << 8;
  return sum;
}

std::uint16_t fold(std::uint32_t sum) {
  while (sum >> 16) sum = (sum & 0xffff) + (sum >> 16);
  return static_cast<std::uint16_t>(~sum);
}

// ICMPv6's checksum covers a pseudo-header: both addresses, the length, next header 58.
std::uint32_t icmp6_pseudo_sum(const std::uint8_t* ip6, std::size_t payload) {
  return sum16(ip6 + 8, 32, static_cast<std::uint32_t>(payload) + 58);
}

void swap_bytes(std::uint8_t* a, std::uint8_t* b, std::size_t n) { std::swap_ranges(a, a + n, b); }

std::size_t reflect_v4(std::uint8_t* ip, std::size_t room,
                       const std::array<std::uint8_t, 4>& ours) {
  if (room < kIpv4 + kEcho || ip[0] != 0x45) return 0;  // version 4, no options
  const std::size_t total = load16(ip + 2);
  if (total < kIpv4 + kEcho || total > room) return 0;
  if ((load16(ip + 6) & 0x3fff) != 0) return 0;  // a fragment (MF or an offset)
  if (ip[9] != 1 || std::memcmp(ip + 16, ours.data(), 4) != 0) return 0;
  if (fold(sum16(ip, kIpv4)) != 0) return 0;
  std::uint8_t* icmp = ip + kIpv4;
  const std::size_t icmp_length = total - kIpv4;
  if (icmp[0] != 8 || fold(sum16(icmp, icmp_length)) != 0) return 0;

  swap_bytes(ip + 12, ip + 16, 4);
  ip[8] = kFreshTtl;
  store16(ip + 10, 0);
  store16(ip + 10, fold(sum16(ip, kIpv4)));
  icmp[0] = 0;  // echo reply; the code is kept, as Linux does
  store16(icmp + 2, 0);
  store16(icmp + 2, fold(sum16(icmp, icmp_length)));
  return total;
}

std::size_t reflect_v6(std::uint8_t* ip, std::size_t room,
                       const std::array<std::uint8_t, 16>& ours) {
  if (room < kIpv6 + kEcho || (ip[0] >> 4) != 6) return 0;
  const std::size_t payload = load16(ip + 4);
  if (payload < kEcho || payload > room - kIpv6) return 0;
  if (ip[6] != 58 || std::memcmp(ip + 24, ours.data(), 16) != 0) return 0;  // ICMPv6, to us
  std::uint8_t* icmp = ip + kIpv6;
  if (icmp[0] != 128 || fold(sum16(icmp, payload, icmp6_pseudo_sum(ip, payload))) != 0) return 0;

  swap_bytes(ip + 8, ip + 24, 16);
  ip[7] = kFreshTtl;
  icmp[0] = 129;
  store16(icmp + 2, 0);
  store16(icmp + 2, fold(sum16(icmp, payload, icmp6_pseudo_sum(ip, payload))));
  return kIpv6 + payload;
}

}  // namespace

std::size_t reflect_echo(std::uint8_t* frame, std::size_t length, const EchoAddresses& ours) {
  // A multicast or broadcast destination (the group bit): not addressed to us alone, and our
  // reply's source would become that group address.
  if (length < kEthernet || (frame[0] & 1) != 0) return 0;
  std::uint8_t* ip = frame + kEthernet;
  const std::size_t room = length - kEthernet;
  std::size_t reply = 0;
  switch (load16(frame + 12)) {
    case 0x0800:
      if (ours.v4) reply = reflect_v4(ip, room, *ours.v4);
      break;
    case 0x86dd:
      if (ours.v6) reply = reflect_v6(ip, room, *ours.v6);
      break;
    default:
      break;
  }
  if (reply == 0) return 0;
  swap_bytes(frame, frame + 6, 6);
  return kEthernet + reply;
}

}  // namespace mtool::testbed
