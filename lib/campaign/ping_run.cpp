#include "campaign/ping_run.h"

#include <algorithm>
#include <utility>

namespace mtool::campaign {

using report::AtlasPingPacket;

PingRun::PingRun(const PingParameters& parameters, MonoNs start)
    : parameters_(parameters), start_(start), packets_(parameters.packets) {}

std::optional<unsigned> PingRun::due_packet(MonoNs now) const {
  if (next_to_send_ >= packets_.size()) return std::nullopt;
  // Spaced from the previous send, not from the start: a send the pacer held back does not
  // make the next one follow it closer than packet_interval.
  const MonoNs due =
      next_to_send_ == 0
          ? start_
          : last_sent_at_ + std::chrono::milliseconds{parameters_.packet_interval_ms};
  if (now < due) return std::nullopt;
  return next_to_send_;
}

MonoNs PingRun::next_wake() const {
  if (next_to_send_ < packets_.size()) {
    return next_to_send_ == 0
               ? start_
               : last_sent_at_ + std::chrono::milliseconds{parameters_.packet_interval_ms};
  }
  return last_sent_at_ + kReplyTimeout;
}

bool PingRun::finished(MonoNs now) const {
  if (next_to_send_ < packets_.size()) return false;
  return unanswered_ == 0 || now >= last_sent_at_ + kReplyTimeout;
}

void PingRun::sent(unsigned packet, MonoNs at) {
  if (packet != next_to_send_) return;
  Packet& p = packets_[packet];
  p.state = Packet::State::kWaiting;
  p.sent_at = at;
  last_sent_at_ = at;
  ++next_to_send_;
  ++sent_count_;
  ++unanswered_;
}

void PingRun::send_failed(unsigned packet, MonoNs at, const std::string& error) {
  if (packet != next_to_send_) return;
  Packet& p = packets_[packet];
  p.state = Packet::State::kFailed;
  p.answer.kind = AtlasPingPacket::Kind::kError;
  p.answer.error = error;
  last_sent_at_ = at;
  ++next_to_send_;
}

bool PingRun::awaiting(unsigned packet) const {
  return packet < packets_.size() && packets_[packet].state == Packet::State::kWaiting;
}

void PingRun::replied(unsigned packet, double rtt_ms, int ttl) {
  if (packet >= packets_.size()) return;
  Packet& p = packets_[packet];
  AtlasPingPacket answer;
  answer.rtt_ms = rtt_ms;
  answer.ttl = ttl;
  if (p.state == Packet::State::kWaiting) {
    answer.kind = AtlasPingPacket::Kind::kReply;
    p.answer = std::move(answer);
    p.state = Packet::State::kAnswered;
    --unanswered_;
  } else if (p.state == Packet::State::kAnswered) {
    answer.kind = AtlasPingPacket::Kind::kDuplicate;
    p.duplicates.push_back(std::move(answer));
  }
}

void PingRun::correct(unsigned packet, report::AtlasCorrection correction) {
  if (packet >= packets_.size()) return;
  Packet& p = packets_[packet];
  if (p.state == Packet::State::kAnswered && p.answer.kind == AtlasPingPacket::Kind::kReply) {
    p.answer.correction = std::move(correction);
  }
}

void PingRun::refused(unsigned packet, const std::string& error) {
  if (!awaiting(packet)) return;
  Packet& p = packets_[packet];
  p.answer.kind = AtlasPingPacket::Kind::kError;
  p.answer.error = error;
  p.answer.icmp_error = true;
  p.state = Packet::State::kAnswered;
  --unanswered_;
}

std::vector<AtlasPingPacket> PingRun::packets() const {
  std::vector<AtlasPingPacket> out;
  for (const Packet& p : packets_) {
    if (p.state == Packet::State::kUnsent) continue;  // stopped before it was due
    if (p.state == Packet::State::kWaiting) {
      out.push_back(AtlasPingPacket{});  // lost: {"x": "*"}
    } else {
      out.push_back(p.answer);
    }
    out.insert(out.end(), p.duplicates.begin(), p.duplicates.end());
  }
  return out;
}

report::AtlasPingResult PingRun::result(report::AtlasHeader header) const {
  report::AtlasPingResult r = ping_result(parameters_, std::move(header));
  r.sent = sent_count_;
  r.packets = packets();
  return r;
}

report::AtlasPingResult ping_result(const PingParameters& parameters, report::AtlasHeader header,
                                    std::string error) {
  report::AtlasPingResult r;
  r.header = std::move(header);
  r.size = parameters.size;
  r.resolution_error = std::move(error);
  return r;
}

}  // namespace mtool::campaign
