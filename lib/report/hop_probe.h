#pragma once
// One traceroute probe, from the moment it is scheduled to the moment it is printed: the
// state Butskoy's `probe` struct holds, on mtool's clocks, plus the correlator's overhead.
// The trace engine fills it; it lives here, with the port that prints it (probe_printer), so
// that output depends on no engine.
#include <cstdint>
#include <optional>
#include <string>

#include "correlate/probe_identity.h"
#include "correlate/probe_overhead.h"
#include "net/address.h"
#include "util/clock.h"

namespace mtool::report {

// Hops back to a replier, guessed from the TTL left in its reply: initial TTLs are 64, 128 or
// 255 (Butskoy's ttl2hops, after tracepath).
inline int hops_back(int reply_ttl) {
  return (reply_ttl <= 64 ? 65 : reply_ttl <= 128 ? 129 : 256) - reply_ttl;
}

// An ICMP error about one of our probes (time exceeded, unreachable, packet too big).
struct IcmpReport {
  std::uint8_t type = 0;
  std::uint8_t code = 0;
  std::uint32_t info = 0;  // next-hop MTU for "fragmentation needed" / "packet too big"
};

struct HopProbe {
  // Sending
  bool sent = false;
  WallNs user_tx = 0;                 // wall clock just before the send: the RTT's start
  MonoNs mono_tx = 0;                 // the same moment for timeouts and the correlator
  correlate::ProbeIdentity identity;  // how the correlator knows it (flow, sequence)
  // Outcome
  bool done = false;         // answered or given up: ready to print
  bool final = false;        // the reply came from the destination (or ended the trace: !H etc.)
  std::optional<WallNs> rx;  // when the reply arrived (kernel receive stamp when given)
  net::IpAddress from;       // who answered (empty: no answer, printed "*")
  int reply_ttl = 0;         // TTL of the reply as received (0: unknown)
  std::string annotation;    // "!H", "!N", "!X", "!P", "!S", "!F-1500", "!<code>"...
  std::optional<IcmpReport> icmp;  // the ICMP error that answered, if one did
  std::size_t reply_size = 0;      // ProbeReply::size
  std::string extension;           // -e: ICMP extensions (RFC 4884), e.g. "MPLS:L=16,E=0,S=1,T=1"
  // Correction
  std::optional<correlate::ProbeOverhead> overhead;
  // A probe answered without its reply leaving the host: its whole time is overhead.
  [[nodiscard]] bool answered_inside_host() const {
    return overhead.has_value() && overhead->answered_inside_host;
  }
  [[nodiscard]] std::int64_t rtt_ns() const { return rx ? *rx - user_tx : 0; }
};

}  // namespace mtool::report
