#pragma once
// Results in RIPE Atlas' format (../shared/conventions/atlas_formats.md, "Published
// results"), so Atlas tooling (sagan, ripe-atlas-tools, BigQuery loaders) reads mtool's
// campaigns: ping and traceroute objects with Atlas' fields and meanings, and mtool's own
// fields beside them (corrected RTT and overhead per reply, an `mtool` object), which Atlas
// parsers ignore. Pure: plain structs in, JSON out.
#include <cstdint>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <vector>

#include "correlate/probe_overhead.h"

namespace mtool::report {

// What every result carries.
struct AtlasHeader {
  std::uint32_t msm_id = 0;
  std::uint32_t prb_id = 0;    // the vantage point's id (configurable)
  std::int64_t timestamp = 0;  // Unix seconds when the measurement started
  std::string from;      // the vantage point's public address, as Atlas' `from` ("" if unknown)
  std::string dst_name;  // the target as given
  std::string dst_addr;  // what it resolved to ("" when resolution failed)
  std::string src_addr;  // our source address toward it
  int af = 4;
  std::string msm_name;  // "Ping" / "Traceroute" by default
};

// What the correlator says about one reply, in milliseconds.
struct AtlasCorrection {
  double corrected_ms = 0;
  double overhead_ms = 0;
  bool inside_host = false;  // answered from inside the host's virtual network
  nlohmann::json breakdown;  // null, or the devices crossed (on request)
};

// The correction of one reply measured `raw_ns`, from the correlator's overhead; nullopt when
// the overhead does not fit the RTT (no correction is better than a wrong one).
std::optional<AtlasCorrection> atlas_correction(std::int64_t raw_ns,
                                                const correlate::ProbeOverhead& overhead,
                                                bool with_breakdown);

struct AtlasPingPacket {
  enum class Kind { kReply, kDuplicate, kLost, kError } kind = Kind::kLost;
  double rtt_ms = 0;
  int ttl = -1;             // of the reply, when known
  std::string error;        // kError: "sendto failed: ...", or the ICMP error that answered it
  bool icmp_error = false;  // kError: an ICMP error answered it (else its send failed)
  std::optional<AtlasCorrection> correction;
};

struct AtlasPingResult {
  AtlasHeader header;
  unsigned size = 48;  // ICMP data bytes
  unsigned sent = 0;
  std::vector<AtlasPingPacket> packets;  // in send order, duplicates after their original
  std::string resolution_error;          // the name did not resolve: Atlas' error-only result
};

struct AtlasHopReply {
  enum class Kind { kReply, kTimeout, kError } kind = Kind::kTimeout;
  std::string from;
  double rtt_ms = 0;
  int ttl = -1;        // of the reply, when known
  unsigned size = 0;   // ICMP payload bytes received
  nlohmann::json err;  // null, or Atlas' code: "N" "H" "A" "P" "p" "h" or an integer
  std::string error;   // kError: "sendto failed: ..."
  std::optional<AtlasCorrection> correction;
};

struct AtlasHop {
  unsigned hop = 0;
  std::vector<AtlasHopReply> replies;
};

struct AtlasTracerouteResult {
  AtlasHeader header;
  std::string proto = "ICMP";  // "ICMP", "UDP", "TCP"
  unsigned size = 48;
  std::optional<unsigned> paris_id;  // Paris traces only: Atlas leaves it out of classic ones
  std::int64_t endtime = 0;
  std::vector<AtlasHop> hops;
  std::string resolution_error;
};

// Atlas' `fw` for results written by mtool: the modern (>= 5000) format.
inline constexpr int kAtlasFirmware = 5120;

nlohmann::json atlas_ping_json(const AtlasPingResult& result);
nlohmann::json atlas_traceroute_json(const AtlasTracerouteResult& result);

// Atlas' `err` for an ICMP error (family AF_INET/AF_INET6): "N" network, "H" host, "A"
// administratively prohibited, "P" protocol, "p" port unreachable (none when the destination
// itself says so: that is how a UDP trace ends), "h" beyond scope; other codes as integers;
// null for time exceeded in transit.
nlohmann::json atlas_error_code(int family, std::uint8_t type, std::uint8_t code,
                                bool from_destination);

}  // namespace mtool::report
