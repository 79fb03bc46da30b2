#pragma once
// Command line of `mtool traceroute`: Butskoy's traceroute 2.1.2 (Debian's `traceroute`)
// option for option, with its parser's exact diagnostics and exit codes, plus mtool's own
// long options. Pure: no sockets, no name resolution (the host is resolved by the command).
#include <sys/socket.h>

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

namespace mtool::trace {

enum class TraceMethod {
  kUdp,       // default: UDP to port 33434 + n, one port per probe
  kUdpFixed,  // -U: UDP to one port (53)
  kIcmp,      // -I: ICMP echo
  kTcp,       // -T: TCP SYN (port 80)
};

// UDP's default ports: the first of traceroute's incrementing ones, and -U's fixed one.
inline constexpr std::uint16_t kUdpFirstPort = 33434;
inline constexpr std::uint16_t kUdpFixedPort = 53;

// A UDP trace's first destination port: -p (`port`, which may say more than 65535), else the
// method's default. Each probe (classic) or flow (Paris, MDA) counts up from it.
constexpr unsigned udp_first_port(TraceMethod method, unsigned port) {
  if (port != 0) return port;
  return method == TraceMethod::kUdpFixed ? kUdpFixedPort : kUdpFirstPort;
}

inline constexpr int kMaxHops = 255;
inline constexpr int kMaxProbesPerHop = 10;
inline constexpr int kMaxPacketLength = 65000;
inline constexpr unsigned kMaxFlowId = 65535;

struct TraceOptions {
  int family = AF_UNSPEC;  // -4 / -6, or from the program name (traceroute6)
  TraceMethod method = TraceMethod::kUdp;
  bool numeric = false;         // -n
  unsigned first_hop = 1;       // -f
  unsigned max_hops = 30;       // -m
  unsigned sim_probes = 16;     // -N: probes in flight at once
  unsigned probes_per_hop = 3;  // -q
  double wait_max_s = 5.0;      // -w MAX,HERE,NEAR
  double wait_here = 3.0;
  double wait_near = 10.0;
  double send_wait_s = 0;         // -z (seconds; values >= 10 were milliseconds)
  unsigned port = 0;              // -p, 0: the method's default
  unsigned source_port = 0;       // --sport (implies -N 1)
  unsigned tos = 0;               // -t
  unsigned flow_label = 0;        // -l
  unsigned fwmark = 0;            // --fwmark
  std::string device;             // -i
  std::string source;             // -s (resolved by the command)
  int source_family = AF_UNSPEC;  // the family in force when -s was read (Butskoy resolves it then)
  std::string module;             // -M NAME when it names no method mtool has
  bool dont_fragment = false;     // -F
  bool extensions = false;        // -e
  bool debug = false;             // -d (SO_DEBUG)
  bool dont_route = false;        // -r
  bool back = false;              // --back
  std::string host;
  std::size_t host_argc = 0;  // argv positions, for Butskoy's "Cannot handle" messages
  std::size_t source_argc = 0;
  int packet_length = -1;  // the optional second argument
  // mtool's own
  bool correction = true;         // --no-correction turns the corrected column off
  bool breakdown = false;         // --breakdown: the devices behind each overhead
  std::optional<unsigned> paris;  // --paris[=ID]: Paris traceroute on flow ID
  std::optional<double> mda;      // --mda[=CONFIDENCE]: multipath discovery, percent per node
  std::optional<std::uint64_t> mda_seed;  // --mda-seed=N: the flow ids' generator
  bool json = false;                      // --json: the multipath graph as JSON
};

inline constexpr double kDefaultMdaConfidence = 95;

enum class ParseOutcome { kRun, kHelp, kVersion, kError };

struct ParseResult {
  ParseOutcome outcome = ParseOutcome::kRun;
  TraceOptions options;
  std::string error;  // kError: the diagnostic, maybe several lines, without a final newline
};

// Parses argv (args[0] is the program name: traceroute6 / tcptraceroute / tracert choose the
// family or method as Butskoy does). Range checks that Butskoy makes after parsing are in
// validate_trace_options().
ParseResult parse_trace_options(const std::vector<std::string>& args);

// Butskoy's checks after parsing, in its order: the first failing one's message (exit 2).
std::optional<std::string> validate_trace_options(TraceOptions& options);

// The usage text, as `traceroute --help` prints it (to stderr), and mtool's additions.
const char* trace_usage_text();
const char* trace_extra_usage_text();

}  // namespace mtool::trace
