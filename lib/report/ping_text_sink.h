#pragma once
// iputils ping's text output, byte for byte.
#include <cstdio>
#include <string>

#include "report/ping_sink.h"

namespace mtool::report {

// iputils' time= precision: 3 decimals below 1 ms, 2 below 10 ms, 1 below 100 ms, then none,
// each with iputils' rounding.
std::string format_reply_time(std::int64_t rtt_us);
// "%ld.%03ld" of integer microseconds, as in the rtt summary line.
std::string format_us_as_ms(std::int64_t us);
// "[seconds.micros] " prefix of -D.
std::string format_print_timestamp(WallNs wall);
// Packet loss as iputils prints it: a float formatted with %g.
std::string format_loss_percent(long transmitted, long received);

struct TextSinkOptions {
  bool quiet = false;
  bool flood = false;
  bool print_timestamps = false;
  bool audible = false;
  bool breakdown = false;        // a line per direction naming each device crossed
  std::string program = "ping";  // prefix of stderr lines
};

class TextPingSink final : public PingSink {
 public:
  TextPingSink(std::FILE* out, std::FILE* err, TextSinkOptions options)
      : out_(out), err_(err), options_(std::move(options)) {}

  void header(const PingHeader& header) override;
  void flood_sent() override;
  void reply(const PingReply& reply) override;
  void icmp_error(const PingError& error) override;
  void notice(const PingNotice& notice) override;
  void local_error(const std::string& text) override;
  void no_answer_yet(WallNs print_time, std::uint64_t sequence) override;
  void status(const PingStatus& status) override;
  void summary(const PingSummary& summary) override;

 private:
  void timestamp_prefix(WallNs wall);
  void print_breakdown(const ReplyCorrection& correction);
  void print_percentiles(const char* label, const PercentileSummary& p);
  std::FILE* out_;
  std::FILE* err_;
  TextSinkOptions options_;
};

}  // namespace mtool::report
