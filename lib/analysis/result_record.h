#pragma once
// One Atlas result as `mtool report` reads it (mtool's own or RIPE Atlas', firmware 4570 and
// later): the header fields a report groups by, and each packet or hop reply with mtool's
// corrections when present. Its strings view the parser's buffers: valid until the next line.
#include <cmath>
#include <cstdint>
#include <optional>
#include <string_view>
#include <vector>

namespace mtool::analysis {

enum class ResultType { kPing, kTraceroute };

// What one answer measured, in milliseconds; NaN where the result does not say.
struct ReplyFigures {
  double rtt_ms = NAN;
  double corrected_ms = NAN;  // mtool's rtt_corrected
  double overhead_ms = NAN;   // mtool's overhead: the host's virtual network, both ways
  double egress_ms = NAN;     // mtool's breakdown (--breakdown): the way out ...
  double ingress_ms = NAN;    // ... and the way back
  bool inside_host = false;   // answered inside the host's virtual network (a [virtual] hop)
};

struct PingPacket {
  // kLate: an answer after its time (Atlas' "late"), counted but not an RTT.
  enum class Kind { kReply, kDuplicate, kLost, kError, kLate } kind = Kind::kLost;
  ReplyFigures figures;
};

struct HopReply {
  enum class Kind { kReply, kDuplicate, kTimeout, kError, kLate } kind = Kind::kTimeout;
  std::string_view from;
  std::string_view err;  // Atlas' ICMP error code ("N", "H", "A", "P", "p", "h" or digits)
  ReplyFigures figures;
};

struct Hop {
  unsigned number = 0;
  std::size_t first_reply = 0;  // its replies: hop_replies[first_reply, first_reply + replies)
  std::size_t replies = 0;
  bool error = false;  // a hop-level {"error": ...}: nothing was sent
};

struct ResultRecord {
  ResultType type = ResultType::kPing;
  int fw = 0;
  std::uint64_t msm_id = 0;
  std::uint64_t prb_id = 0;
  std::int64_t timestamp = 0;
  std::string_view from;  // the vantage point's public address ("" when unknown)
  std::string_view dst_name;
  std::string_view dst_addr;
  std::optional<std::uint64_t> sent;  // ping's "sent"
  std::optional<unsigned> paris_id;   // a traceroute's; 0 is a classic traceroute
  bool failed = false;                // only an error (the target did not resolve, ...)
  std::vector<PingPacket> packets;
  std::vector<Hop> hops;
  std::vector<HopReply> hop_replies;

  // What the measurement aimed at: the name as given, else the address.
  [[nodiscard]] std::string_view target() const { return dst_name.empty() ? dst_addr : dst_name; }
  // Empties it, keeping the vectors' storage for the next line.
  void clear() {
    type = ResultType::kPing;
    fw = 0;
    msm_id = prb_id = 0;
    timestamp = 0;
    from = dst_name = dst_addr = {};
    sent.reset();
    paris_id.reset();
    failed = false;
    packets.clear();
    hops.clear();
    hop_replies.clear();
  }
};

}  // namespace mtool::analysis
