#include "analysis/summary_accumulator.h"

#include <cmath>

namespace mtool::analysis {

std::int64_t to_ns(double ms) { return std::llround(ms * 1e6); }

void SummaryAccumulator::add(const ResultRecord& record) {
  ++counts_.results;
  if (record.type == ResultType::kPing) {
    add_ping(record);
  } else {
    add_traceroute(record);
  }
}

void SummaryAccumulator::add_reply(const ReplyFigures& f) {
  ++counts_.received;
  raw_.add(to_ns(f.rtt_ms));
  if (f.inside_host) {
    ++counts_.corrected;
    ++counts_.inside_host;
  } else if (!std::isnan(f.corrected_ms)) {
    ++counts_.corrected;
    corrected_.add(to_ns(f.corrected_ms));
  }
  if (!std::isnan(f.overhead_ms)) overhead_.add(to_ns(f.overhead_ms));
  if (!std::isnan(f.egress_ms)) egress_.add(to_ns(f.egress_ms));
  if (!std::isnan(f.ingress_ms)) ingress_.add(to_ns(f.ingress_ms));
}

void SummaryAccumulator::add_ping(const ResultRecord& record) {
  std::uint64_t probes = 0;  // what the packets list says was sent, when "sent" is absent
  for (const PingPacket& p : record.packets) {
    switch (p.kind) {
      case PingPacket::Kind::kReply:
        ++probes;
        add_reply(p.figures);
        break;
      case PingPacket::Kind::kDuplicate:
        ++counts_.duplicates;
        break;
      case PingPacket::Kind::kLost:
        ++probes;
        break;
      case PingPacket::Kind::kError:
        ++probes;
        ++counts_.errors;
        break;
      case PingPacket::Kind::kLate:
        ++counts_.late;
        break;
    }
  }
  // A result that failed before sending (its target did not resolve) sent nothing.
  counts_.sent += record.sent.value_or(record.failed ? 0 : probes);
}

void SummaryAccumulator::add_traceroute(const ResultRecord& record) {
  if (record.failed) {
    ++counts_.errors;
    return;
  }
  if (record.hops.empty()) return;
  const Hop& last = record.hops.back();
  if (last.error) {
    ++counts_.errors;
    return;
  }
  for (std::size_t i = 0; i < last.replies; ++i) {
    const HopReply& r = record.hop_replies[last.first_reply + i];
    switch (r.kind) {
      case HopReply::Kind::kReply:
        ++counts_.sent;
        if (r.from == record.dst_addr) add_reply(r.figures);
        break;
      case HopReply::Kind::kDuplicate:
        ++counts_.duplicates;
        break;
      case HopReply::Kind::kTimeout:
        ++counts_.sent;
        break;
      case HopReply::Kind::kError:
        ++counts_.sent;
        ++counts_.errors;
        break;
      case HopReply::Kind::kLate:
        ++counts_.late;
        break;
    }
  }
}

}  // namespace mtool::analysis
