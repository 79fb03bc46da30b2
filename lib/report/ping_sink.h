#pragma once
// Where a ping run's events go. TextPingSink reproduces iputils byte for byte; JsonPingSink
// writes one JSON object per line.
#include <cstdint>
#include <string>

#include "report/ping_events.h"

namespace mtool::report {

class PingSink {
 public:
  virtual ~PingSink() = default;
  virtual void header(const PingHeader& header) = 0;
  virtual void flood_sent() {}  // one probe left during a flood (the '.' iputils prints)
  virtual void reply(const PingReply& reply) = 0;
  virtual void icmp_error(const PingError& error) = 0;
  virtual void notice(const PingNotice& notice) = 0;
  // A local failure to send ("sendmsg: ..." or "local error: ..."); printed as "ping: text".
  virtual void local_error(const std::string& text) = 0;
  virtual void no_answer_yet(WallNs print_time, std::uint64_t sequence) = 0;
  virtual void status(const PingStatus& status) = 0;
  virtual void summary(const PingSummary& summary) = 0;
};

}  // namespace mtool::report
