#pragma once
// Command-line options of `mtool ping`, with iputils ping 20221126's names, defaults, ranges
// and error messages (see ping_usage_text()).
#include <sys/types.h>

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

namespace mtool::ping {

enum class PmtuDiscovery { kDefault, kDo, kDont, kWant };
enum class TxTimestampSource { kUser, kKernel };

struct PingOptions {
  int family = 0;                      // AF_UNSPEC, AF_INET (-4) or AF_INET6 (-6)
  bool audible = false;                // -a
  bool adaptive = false;               // -A
  bool strict_source = false;          // -B, or -I with an address
  bool connect_socket = false;         // -C
  bool so_debug = false;               // -d
  bool print_timestamps = false;       // -D
  bool flood = false;                  // -f
  bool numeric = false;                // -n
  bool outstanding = false;            // -O
  bool quiet = false;                  // -q
  bool so_dontroute = false;           // -r
  bool user_latency = false;           // -U
  bool verbose = false;                // -v
  bool broadcast = false;              // -b
  bool no_multicast_loop = false;      // -L
  bool interval_given = false;         // -i seen
  std::optional<std::uint16_t> ident;  // -e
  long count = 0;                      // -c; 0 = unlimited
  int interval_ms = 1000;              // -i, in milliseconds as iputils keeps it (may be < 0)
  // -I NAME, or the scope of -I ADDRESS%NAME. Given empty (-I '') it still counts, as in
  // iputils: SO_BINDTODEVICE with "" and the checks that follow.
  std::optional<std::string> device;
  // -I ADDRESS: iputils keeps one source per family, so an IPv6 source leaves an IPv4
  // target's source to the routing table (and the other way round). 0.0.0.0 and :: do too.
  std::string source_v4;
  std::string source_v6;
  int preload = 1;                                   // -l
  std::optional<std::uint32_t> mark;                 // -m
  PmtuDiscovery pmtu = PmtuDiscovery::kDefault;      // -M
  std::optional<std::vector<std::uint8_t>> pattern;  // -p
  int tos = 0;                                       // -Q
  std::size_t datalen = 56;                          // -s
  int sndbuf = 0;                                    // -S; 0 = computed
  std::optional<int> ttl;                            // -t
  int deadline_s = 0;                                // -w; 0 = none
  int linger_ms = 10000;                             // -W

  // mtool's own options (long only, so no iputils short option changes meaning).
  bool json = false;                // --json: JSON lines instead of text
  bool percentiles = false;         // --percentiles: p50/p90/p99/p99.9 in the summary
  bool breakdown = false;           // --breakdown: each reply's path through the host, in text
  bool correction = true;           // --no-correction: do not ask the correlator
  bool require_correction = false;  // --require-correction: exit 1 unless all were corrected
  TxTimestampSource tx_timestamp = TxTimestampSource::kUser;  // --tx-timestamp

  std::string destination;
  bool destination_is_numeric = false;  // set by the caller after resolution
};

// What parsing asks the caller to do besides running.
enum class ParseOutcome { kRun, kPrintVersion };

struct ParseResult {
  ParseOutcome outcome = ParseOutcome::kRun;
  PingOptions options;
  // Non-fatal diagnostics iputils prints and then carries on with (one line each, no prefix).
  std::vector<std::string> warnings;
};

// Parses argv (argv[0] is the program name). `real_uid` decides the non-root limits.
// Throws FatalError with iputils' message and exit code on bad input.
ParseResult parse_ping_options(const std::vector<std::string>& args, uid_t real_uid);

// The usage text iputils prints on stderr for -h and for bad options.
const char* ping_usage_text();
// mtool's own options, appended to the usage for --help.
const char* ping_extra_usage_text();

}  // namespace mtool::ping
