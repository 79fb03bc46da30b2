#pragma once
// The remote-like target's answer (tests/testbed/tap_responder.cpp), as a pure function of one
// Ethernet frame: an ICMP or ICMPv6 echo request to one of our addresses becomes its echo
// reply in place; anything else is dropped. Kept apart from the device loop so unit tests can
// feed it hostile frames.
#include <array>
#include <cstddef>
#include <cstdint>
#include <optional>

namespace mtool::testbed {

struct EchoAddresses {
  std::optional<std::array<std::uint8_t, 4>> v4;
  std::optional<std::array<std::uint8_t, 16>> v6;
};

// Rewrites `frame` into the reply (MACs and addresses swapped, type echo reply, TTL / hop limit
// 64, checksums recomputed) and returns its length; 0 means drop: not unicast to us, not an
// echo request to one of `ours`, truncated, a bad checksum, a fragment, IPv4 options or IPv6
// extension headers (our probes carry none; a real host would process them, we would get
// them wrong).
std::size_t reflect_echo(std::uint8_t* frame, std::size_t length, const EchoAddresses& ours);

}  // namespace mtool::testbed
