#pragma once
// What a ping run tells its output: plain data, filled by the ping loop, rendered by a sink.
#include <cstdint>
#include <optional>
#include <string>

#include "correlate/probe_overhead.h"
#include "util/clock.h"

namespace mtool::report {

struct PingHeader {
  std::string hostname;      // as iputils shows it: the canonical name or the literal
  std::string address_text;  // IPv4: numeric; IPv6: "name (addr)" unless numeric
  int family = 0;
  bool show_source = false;  // -I given
  std::string source_text;
  std::string device;
  std::size_t datalen = 0;
  std::size_t ip_packet_size = 0;  // IPv4 only: data + ICMP + IP header
  std::string socket_kind;         // "raw" or "dgram" (JSON only)
};

// A reply's correction (README, "Corrected RTT"): corrected = raw minus what the host's
// virtual network added, measured for this very probe by the correlator.
struct ReplyCorrection {
  std::int64_t corrected_us = 0;  // shown as corrected=, rounded as time=
  std::int64_t corrected_ns = 0;
  std::int64_t overhead_ns = 0;  // raw - corrected
  std::int64_t shared_ns = 0;    // given back for a target on this host (correction.h)
  correlate::ProbeOverhead overhead;
};

struct PingReply {
  WallNs print_time{};  // for -D: when the line is printed
  std::uint16_t sequence = 0;
  std::string from;
  std::size_t bytes = 0;  // ICMP bytes received
  int ttl = -1;
  std::optional<std::int64_t> rtt_us;  // the figure shown as time=, iputils rounding
  std::optional<std::int64_t> rtt_ns;  // the same, unrounded
  bool duplicate = false;
  bool bad_checksum = false;
  bool truncated = false;
  // Timestamp provenance (JSON): which transmit reference `rtt` uses, whether the kernel
  // stamped the reception, and the kernel-to-kernel RTT plus the send-call stretch when the
  // kernel transmit stamp is known.
  const char* tx_reference = "user";
  bool rx_from_kernel = false;
  std::optional<std::int64_t> kernel_rtt_ns;
  std::optional<std::int64_t> send_stack_ns;
  std::optional<ReplyCorrection> correction;
};

struct PingError {
  WallNs print_time{};
  std::uint16_t sequence = 0;
  std::string from;
  std::string text;  // "Destination Host Unreachable", ...
  int icmp_type = 0;
  int icmp_code = 0;
};

// A redirect or source quench that quoted one of our echoes.
struct PingNotice {
  WallNs print_time{};
  std::uint16_t sequence = 0;
  std::string from;
  std::string text;
  bool bad_checksum = false;
};

struct RttSummary {
  std::int64_t min_us = 0;
  std::int64_t avg_us = 0;
  std::int64_t max_us = 0;
  std::int64_t mdev_us = 0;
};

struct PercentileSummary {
  std::int64_t p50_ns = 0;
  std::int64_t p90_ns = 0;
  std::int64_t p99_ns = 0;
  std::int64_t p999_ns = 0;
};

// The corrected counterpart of the rtt line, over the replies that were corrected.
struct CorrectionSummary {
  long corrected = 0;  // replies with a correction
  long timed = 0;      // replies with an RTT
  std::optional<RttSummary> rtt;
  std::optional<PercentileSummary> percentiles;
  std::int64_t egress_p50_ns = 0;
  std::int64_t ingress_p50_ns = 0;
};

struct PingSummary {
  std::string hostname;
  long transmitted = 0;
  long received = 0;
  long duplicates = 0;
  long corrupted = 0;
  long errors = 0;
  std::int64_t elapsed_ms = 0;
  std::optional<RttSummary> rtt;  // when replies carried timing
  int pipe = 0;
  std::optional<std::int64_t> ipg_us;  // flood/adaptive/interval 0
  std::int64_t ewma_us_x8 = 0;         // iputils keeps the EWMA scaled by 8
  // mtool extensions, each printed on its own line after iputils' lines.
  std::optional<PercentileSummary> percentiles;
  std::optional<CorrectionSummary> correction;  // when a correlator was in use
};

// SIGQUIT's one-line status (stderr).
struct PingStatus {
  long transmitted = 0;
  long received = 0;
  std::optional<RttSummary> rtt;
  std::int64_t ewma_us_x8 = 0;
};

}  // namespace mtool::report
