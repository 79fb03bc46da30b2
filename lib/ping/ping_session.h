#pragma once
// The ping loop: iputils' pacing (token bucket with preload, flood and adaptive modes), its
// wait rules (-W with no reply, 2 x max RTT or the interval once replies came, -w deadline),
// duplicate detection, error accounting and exit code, over the probe engine's EchoTransport.
// With a correlator, the replies of one wake-up have their overheads asked for together, and
// their lines wait for the answers (and for nothing else).
#include <climits>
#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <variant>
#include <vector>

#include "correlate/overhead_source.h"
#include "net/address.h"
#include "ping/ping_options.h"
#include "ping/reply_corrections.h"
#include "probe/echo_transport.h"
#include "report/ping_sink.h"
#include "stats/rtt_statistics.h"
#include "util/clock.h"
#include "util/run_control.h"

namespace mtool::ping {

struct SessionConfig {
  std::string hostname;  // for the summary
  long count = 0;
  int interval_ms = 1000;
  int preload = 1;
  int linger_ms = 10000;
  int deadline_s = 0;
  bool flood = false;
  bool adaptive = false;
  bool outstanding = false;
  bool quiet = false;
  bool multicast = false;
  bool verbose = false;
  bool timing = true;  // data is large enough to carry a timestamp
  std::size_t datalen = 56;
  bool percentiles = false;
  TxTimestampSource tx_reference = TxTimestampSource::kUser;
  bool non_root = false;       // the real uid is not 0: adaptive mode keeps >= 2 ms
  int screen_width = INT_MAX;  // flood dots stop when more are in flight than fit
  // The correlator (or one looked for while replies come in): replies are corrected. Null: none.
  correlate::OverheadSource* overheads = nullptr;
  // Whether a correlator was connected at any time of the run, asked when the summary is made:
  // only then does it carry the corrections ("k/N replies corrected" over the whole run).
  // Unset: whenever `overheads`.
  std::function<bool()> correlator_connected;
};

class PingSession {
 public:
  static constexpr int kMinUserIntervalMs = 2;  // iputils' MINUSERINTERVAL: non-root floor

  PingSession(SessionConfig config, probe::EchoTransport& transport, report::PingSink& sink,
              const Clock& clock, net::AddressNamer& namer, RunControl& control);

  // Runs to completion and returns iputils' exit code (0: a reply came; 1: none, or fewer
  // than -c before the -w deadline).
  int run();
  // After run(): replies received (duplicates not counted), and of those corrected.
  [[nodiscard]] long received() const { return received_; }
  [[nodiscard]] long corrected() const { return corrections_ ? corrections_->corrected() : 0; }

 private:
  static constexpr int kMinIntervalMs = 10;  // iputils' MININTERVAL
  static constexpr std::uint32_t kDupTableBits = 0x10000;

  int send_due_probes();
  int schedule_exit(int next_ms);
  [[nodiscard]] bool stop_due() const;
  // Counts an event at once (what is in flight depends on it) and keeps its line for
  // print_lines().
  void handle(const probe::EchoEvent& event);
  // Handles what is queued now; stops early once nothing is in flight; prints it. True if any.
  bool handle_pending_events();
  void on_reply(const probe::EchoReplyEvent& reply);
  void on_error(const probe::IcmpErrorEvent& error);
  void on_local_error(const probe::LocalErrorEvent& error);
  void on_notice(const probe::IcmpNoticeEvent& notice);
  // The lines handled since the last call, in order, their replies corrected first (one batch).
  void print_lines();
  void acknowledge(std::uint16_t sequence);
  void advance_transmitted();
  [[nodiscard]] int in_flight() const;
  void update_interval();
  void print_status();
  [[nodiscard]] report::PingSummary make_summary() const;
  [[nodiscard]] std::int64_t ms_since(MonoNs earlier, MonoNs later) const;
  bool test_received(std::uint64_t sequence) const;
  void set_received(std::uint64_t sequence, bool value);

  SessionConfig config_;
  probe::EchoTransport& transport_;
  report::PingSink& sink_;
  const Clock& clock_;
  net::AddressNamer& namer_;
  RunControl& control_;

  long transmitted_ = 0;
  long received_ = 0;
  long repeats_ = 0;
  long checksum_failures_ = 0;
  long errors_ = 0;
  int pipesize_ = 0;
  std::uint16_t acked_ = 0;
  int interval_ms_;
  int tokens_ = 0;
  int rtt_addend_ = 0;
  int oom_count_ = 0;
  std::int64_t ewma_x8_ = 0;  // iputils' rts->rtt: EWMA of the RTT, scaled by 8, in us
  MonoNs start_time_{};
  MonoNs cur_time_{};
  bool cur_time_set_ = false;
  std::optional<MonoNs> exit_at_;      // once scheduled: when waiting for late replies ends
  std::optional<MonoNs> deadline_at_;  // -w
  std::vector<std::uint64_t> received_bits_;
  stats::IputilsRttStatistics stats_;
  stats::LatencyHistogram histogram_;

  std::optional<ReplyCorrections> corrections_;  // with a correlator only

  // What the events handled in this wake-up print, waiting for their replies' corrections.
  struct ReplyLine {
    report::PingReply line;
    std::optional<std::size_t> asked;  // its place in the corrections' batch
    bool counted = false;              // a good reply: in the corrected statistics
  };
  struct LocalErrorLine {
    std::string text;
  };
  using Line = std::variant<ReplyLine, report::PingError, report::PingNotice, LocalErrorLine>;
  std::vector<Line> lines_;  // kept: no allocation per wake-up once grown
};

}  // namespace mtool::ping
