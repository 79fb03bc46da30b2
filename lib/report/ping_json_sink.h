#pragma once
// JSON lines: one object per event ("header", "reply", "error", "notice", "no_answer",
// "summary"), every RTT in milliseconds with microsecond (or finer) precision.
#include <cstdio>
#include <string>

#include "report/ping_sink.h"

namespace mtool::report {

class JsonPingSink final : public PingSink {
 public:
  JsonPingSink(std::FILE* out, std::FILE* err, bool quiet, std::string program = "ping")
      : out_(out), err_(err), quiet_(quiet), program_(std::move(program)) {}

  void header(const PingHeader& header) override;
  void reply(const PingReply& reply) override;
  void icmp_error(const PingError& error) override;
  void notice(const PingNotice& notice) override;
  void local_error(const std::string& text) override;
  void no_answer_yet(WallNs print_time, std::uint64_t sequence) override;
  void status(const PingStatus& status) override;
  void summary(const PingSummary& summary) override;

 private:
  std::FILE* out_;
  std::FILE* err_;
  bool quiet_;
  std::string program_;
};

}  // namespace mtool::report
