#pragma once
// One run of an Atlas ping measurement, as pure state: `packets` echo requests spaced
// `packet_interval` apart, each answered, duplicated, refused (an ICMP error) or lost after
// its reply timeout. The campaign runner owns the sockets and feeds this what happened; the
// run says what to send when, and when it is over.
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "campaign/measurement_list.h"
#include "report/atlas_results.h"
#include "util/clock.h"

namespace mtool::campaign {

// The Atlas result of a ping of `parameters` before any packet: that of a run that could not
// start, `error` saying why (Atlas' error-only result), or the start of a run's own.
report::AtlasPingResult ping_result(const PingParameters& parameters, report::AtlasHeader header,
                                    std::string error = {});

class PingRun {
 public:
  // How long a request waits for its reply, as a probe's evping does by default.
  static constexpr Nanos kReplyTimeout = std::chrono::seconds{1};

  PingRun(const PingParameters& parameters, MonoNs start);

  // The packet due to be sent at `now`, if any.
  [[nodiscard]] std::optional<unsigned> due_packet(MonoNs now) const;
  // When something next happens: a send falls due or the last wait ends.
  [[nodiscard]] MonoNs next_wake() const;
  [[nodiscard]] bool finished(MonoNs now) const;

  void sent(unsigned packet, MonoNs at);
  // The send failed for good: Atlas' {"error": "sendto failed: ..."} for that packet.
  void send_failed(unsigned packet, MonoNs at, const std::string& error);
  // A reply to `packet` (a second one is a duplicate).
  void replied(unsigned packet, double rtt_ms, int ttl);
  // The correlator's correction of `packet`'s (first) reply, which comes after the reply: the
  // campaign asks for a whole burst of replies' overheads at once.
  void correct(unsigned packet, report::AtlasCorrection correction);
  // An ICMP error about `packet` ("Destination Host Unreachable from 198.18.0.1"). Counts as
  // its answer: the request will not be answered otherwise.
  void refused(unsigned packet, const std::string& error);
  // Whether `packet` still waits for its first answer.
  [[nodiscard]] bool awaiting(unsigned packet) const;

  [[nodiscard]] unsigned sent_count() const { return sent_count_; }
  // The packets in send order, each duplicate after its original; unanswered ones lost.
  [[nodiscard]] std::vector<report::AtlasPingPacket> packets() const;
  // The run's Atlas result, under `header`.
  [[nodiscard]] report::AtlasPingResult result(report::AtlasHeader header) const;

 private:
  struct Packet {
    enum class State { kUnsent, kWaiting, kAnswered, kFailed } state = State::kUnsent;
    MonoNs sent_at{};
    report::AtlasPingPacket answer;
    std::vector<report::AtlasPingPacket> duplicates;
  };
  PingParameters parameters_;
  MonoNs start_;
  unsigned next_to_send_ = 0;
  unsigned sent_count_ = 0;
  unsigned unanswered_ = 0;
  MonoNs last_sent_at_{};
  std::vector<Packet> packets_;
};

}  // namespace mtool::campaign
