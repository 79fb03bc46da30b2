#include "ping/ping_options.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>

#include <boost/program_options.hpp>
#include <cctype>
#include <cerrno>
#include <climits>
#include <cmath>
#include <cstdlib>
#include <string_view>

#include "correlator_abi.h"
#include "util/error.h"

namespace po = boost::program_options;

namespace mtool::ping {
namespace {

constexpr int kExitUsage = 2;
constexpr int kExitBadNumber = 1;  // iputils' strtol_or_err exits with EXIT_FAILURE
constexpr long kMaxDupCheck = 0x10000;
constexpr int kMaxUserPreload = 3;
constexpr int kMaxTos = 255;
// iputils' upper bound for -i and -W: (double)INT_MAX / 1000, so 2147483.647 is still accepted.
constexpr double kMaxSeconds = static_cast<double>(INT_MAX) / 1000;

// Short options that take a value, and the switches, exactly as iputils' getopt string.
constexpr std::string_view kValueOptions = "ceiIlmMpQsStwWFNT";
constexpr std::string_view kSwitchOptions = "46aAbBCdDfhLnOqrRUvV?";
// Options read by strtol_or_err / strtoul_or_err, which set errno to 0 before converting.
constexpr std::string_view kIntegerOptions = "celmsStw";

[[noreturn]] void fail(const std::string& message, int code = kExitUsage, bool usage = false) {
  throw FatalError(message, code, usage);
}

// iputils' strtol_or_err: whole string must be a decimal number within [min, max].
long long parse_integer(const std::string& text, long long min, long long max) {
  const std::string prefix = "invalid argument";
  if (text.empty()) fail(prefix + ": '" + text + "'", kExitBadNumber);
  errno = 0;
  char* end = nullptr;
  const long long value = std::strtoll(text.c_str(), &end, 10);
  if (errno != 0 || end == text.c_str() || *end != '\0') {
    fail(with_errno(prefix + ": '" + text + "'", errno), kExitBadNumber);
  }
  if (value < min || value > max) {
    fail(prefix + ": '" + text + "': out of range: " + std::to_string(min) +
             " <= value <= " + std::to_string(max),
         kExitBadNumber);
  }
  return value;
}

// iputils' strtoul_or_err (-e, -m): strtoul, so "-1" wraps to ULONG_MAX (out of range) and
// "-18446744073709551615" to 1 (accepted); only a magnitude beyond ULONG_MAX is ERANGE.
unsigned long parse_unsigned(const std::string& text, unsigned long max) {
  const std::string prefix = "invalid argument";
  if (text.empty()) fail(prefix + ": '" + text + "'", kExitBadNumber);
  errno = 0;
  char* end = nullptr;
  const unsigned long value = std::strtoul(text.c_str(), &end, 10);
  if (errno != 0 || end == text.c_str() || *end != '\0') {
    fail(with_errno(prefix + ": '" + text + "'", errno), kExitBadNumber);
  }
  if (value > max) {
    fail(prefix + ": '" + text + "': out of range: 0 <= value <= " + std::to_string(max),
         kExitBadNumber);
  }
  return value;
}

// iputils 20221126's ping_strtod() for -i and -W, quirks included:
//  - an empty value fails with the errno the previous strtod() left (ERANGE after an
//    underflow like 1e-400, else none);
//  - strtod's ERANGE, no number at all, or a remainder only warn ("garbage: " + the rest);
//  - then anything but a normal number or zero (NaN, inf, subnormal) fails with ERANGE.
// `errno_left` carries that errno from one option to the next (strtol_or_err clears it).
double parse_iputils_double(const std::string& text, const std::string& what, int& errno_left,
                            std::vector<std::string>& warnings) {
  if (text.empty()) fail(with_errno(what + ": " + text, errno_left));
  char* end = nullptr;
  errno = 0;
  const double value = std::strtod(text.c_str(), &end);
  errno_left = errno;
  if (errno_left != 0 || end == text.c_str() || *end != '\0') {
    warnings.emplace_back(std::string("option argument contains garbage: ") + end);
    warnings.emplace_back("this will become fatal error in the future");
  }
  switch (std::fpclassify(value)) {
    case FP_NORMAL:
    case FP_ZERO:
      return value;
    default:
      fail(with_errno(what + ": " + text, ERANGE));
  }
}

// (int)(x * 1000) as iputils computes it on x86-64, where a value below INT_MIN becomes INT_MIN
// (in C that conversion is undefined; here it is not). Callers have refused values too large.
int to_milliseconds(double seconds) {
  const double ms = seconds * 1000;
  return ms <= static_cast<double>(INT_MIN) ? INT_MIN : static_cast<int>(ms);
}

int parse_tos(const std::string& text) {
  const bool hex = text.size() > 1 && text[0] == '0' && (text[1] == 'x' || text[1] == 'X');
  char* end = nullptr;
  // iputils: tos = (int)strtol(...), so only the low 32 bits count.
  const int tos = static_cast<int>(std::strtol(text.c_str() + (hex ? 2 : 0), &end, hex ? 16 : 10));
  if (*end != '\0') fail("bad TOS value: " + text);
  if (tos > kMaxTos)
    fail("the decimal value of TOS bits must be in range 0-255: " + std::to_string(tos));
  return tos;
}

// -p: up to 16 bytes given as hex digit pairs, repeated through the payload.
std::vector<std::uint8_t> parse_pattern(const std::string& text) {
  for (std::size_t i = 0; i < text.size(); ++i) {
    if (std::isxdigit(static_cast<unsigned char>(text[i])) == 0) {
      fail("patterns must be specified as hex digits: " + text.substr(i));
    }
  }
  std::vector<std::uint8_t> bytes;
  for (std::size_t i = 0; i < text.size() && bytes.size() < 16; i += 2) {
    bytes.push_back(static_cast<std::uint8_t>(std::stoul(text.substr(i, 2), nullptr, 16)));
  }
  return bytes;
}

// -I: an address with ':' is IPv6 (its %scope names the device, even an empty one); then an
// IPv4 address; anything else is a device name, "" included.
void parse_interface(const std::string& value, PingOptions& o) {
  if (value.find(':') != std::string::npos) {
    std::string address = value;
    if (const auto pct = address.find('%'); pct != std::string::npos) {
      o.device = address.substr(pct + 1);
      address.resize(pct);
    }
    in6_addr a6{};
    if (inet_pton(AF_INET6, address.c_str(), &a6) <= 0) fail("invalid source address: " + value);
    o.source_v6 = address;
    o.strict_source = true;
    return;
  }
  in_addr a4{};
  if (inet_pton(AF_INET, value.c_str(), &a4) > 0) {
    o.source_v4 = value;
    o.strict_source = true;
  } else {
    o.device = value;
  }
}

[[noreturn]] void unsupported(char letter, const char* what) {
  fail(std::string("option -") + letter + " (" + what + ") is not supported by mtool ping");
}

void apply_short(char letter, const std::string& value, uid_t uid, ParseResult& result,
                 int& errno_left) {
  PingOptions& o = result.options;
  switch (letter) {
    case '4':
      if (o.family == AF_INET6) fail("only one -4 or -6 option may be specified");
      o.family = AF_INET;
      break;
    case '6':
      if (o.family == AF_INET) fail("only one -4 or -6 option may be specified");
      o.family = AF_INET6;
      break;
    case 'a':
      o.audible = true;
      break;
    case 'A':
      o.adaptive = true;
      break;
    case 'b':
      o.broadcast = true;
      break;
    case 'B':
      o.strict_source = true;
      break;
    case 'C':
      o.connect_socket = true;
      break;
    case 'd':
      o.so_debug = true;
      break;
    case 'D':
      o.print_timestamps = true;
      break;
    case 'f':
      o.flood = true;
      o.numeric = true;  // iputils: no reverse lookups during a flood
      break;
    case 'L':
      o.no_multicast_loop = true;
      break;
    case 'n':
      o.numeric = true;
      break;
    case 'O':
      o.outstanding = true;
      break;
    case 'q':
      o.quiet = true;
      break;
    case 'r':
      o.so_dontroute = true;
      break;
    case 'U':
      o.user_latency = true;
      break;
    case 'v':
      o.verbose = true;
      break;
    case 'V':
      result.outcome = ParseOutcome::kPrintVersion;
      break;
    case 'h':
    case '?':
      fail("", kExitUsage, true);
    case 'c':
      o.count = static_cast<long>(parse_integer(value, 1, LONG_MAX));
      break;
    case 'e':
      o.ident = static_cast<std::uint16_t>(parse_unsigned(value, 0xFFFF));
      break;
    case 'i': {
      const double seconds =
          parse_iputils_double(value, "bad timing interval", errno_left, result.warnings);
      if (seconds > kMaxSeconds) fail("bad timing interval: " + value);
      o.interval_ms = to_milliseconds(seconds);  // negative stays negative, as in iputils
      o.interval_given = true;
      break;
    }
    case 'I':
      parse_interface(value, o);
      break;
    case 'l':
      o.preload = static_cast<int>(parse_integer(value, 1, kMaxDupCheck));
      if (uid != 0 && o.preload > kMaxUserPreload) {
        fail("cannot set preload to value greater than 3: " + std::to_string(o.preload));
      }
      break;
    case 'm':
      o.mark = static_cast<std::uint32_t>(parse_unsigned(value, UINT32_MAX));
      break;
    case 'M':
      if (value == "do") {
        o.pmtu = PmtuDiscovery::kDo;
      } else if (value == "dont") {
        o.pmtu = PmtuDiscovery::kDont;
      } else if (value == "want") {
        o.pmtu = PmtuDiscovery::kWant;
      } else {
        fail("invalid -M argument: " + value);
      }
      break;
    case 'p':
      o.pattern = parse_pattern(value);
      break;
    case 'Q':
      o.tos = parse_tos(value);
      break;
    case 's':
      o.datalen = static_cast<std::size_t>(parse_integer(value, 0, INT_MAX));
      break;
    case 'S':
      o.sndbuf = static_cast<int>(parse_integer(value, 1, INT_MAX));
      break;
    case 't':
      o.ttl = static_cast<int>(parse_integer(value, 0, 255));
      break;
    case 'w':
      o.deadline_s = static_cast<int>(parse_integer(value, 0, INT_MAX));
      break;
    case 'W': {
      const double seconds =
          parse_iputils_double(value, "bad linger time", errno_left, result.warnings);
      if (seconds < 0 || seconds > kMaxSeconds) {
        fail("bad linger time: " + value);
      }
      o.linger_ms = to_milliseconds(seconds);
      break;
    }
    case 'R':
      unsupported(letter, "record route");
    case 'T':
      unsupported(letter, "IP timestamp option");
    case 'F':
      unsupported(letter, "IPv6 flow label");
    case 'N':
      unsupported(letter, "ICMPv6 node information query");
    default:
      fail(std::string("invalid option -- '") + letter + "'", kExitUsage, true);
  }
}

// Boost reports a bad token as a whole ("-nZ"); getopt names the first bad letter.
char first_bad_letter(const std::string& token) {
  for (std::size_t i = 1; i < token.size(); ++i) {
    const char c = token[i];
    if (kValueOptions.find(c) != std::string_view::npos) return '\0';
    if (kSwitchOptions.find(c) == std::string_view::npos) return c;
  }
  return token.size() > 1 ? token[1] : '?';
}

po::options_description make_description() {
  po::options_description d;
  for (const char c : kSwitchOptions) {
    if (c == '?') continue;
    d.add_options()((std::string(",") + c).c_str(), "");
  }
  for (const char c : kValueOptions) {
    d.add_options()((std::string(",") + c).c_str(), po::value<std::string>(), "");
  }
  d.add_options()("json", "")("percentiles", "")("breakdown", "")("no-correction", "")(
      "require-correction", "")("tx-timestamp", po::value<std::string>(), "")("help", "")(
      "destination", po::value<std::vector<std::string>>(), "");
  return d;
}

void apply_long(const std::string& name, const std::string& value, PingOptions& o) {
  if (name == "json") {
    o.json = true;
  } else if (name == "percentiles") {
    o.percentiles = true;
  } else if (name == "breakdown") {
    o.breakdown = true;
  } else if (name == "no-correction") {
    o.correction = false;
  } else if (name == "require-correction") {
    o.require_correction = true;
  } else if (name == "help") {
    throw FatalError("", 0, true);
  } else if (name == "tx-timestamp") {
    if (value == "kernel") {
      o.tx_timestamp = TxTimestampSource::kKernel;
    } else if (value == "user") {
      o.tx_timestamp = TxTimestampSource::kUser;
    } else {
      fail("invalid --tx-timestamp argument: " + value + " (kernel or user)");
    }
  }
}

// The options in their order, then the destination.
void finish_parse(const po::parsed_options& parsed, uid_t real_uid, ParseResult& result) {
  std::vector<std::string> destinations;
  int errno_left = 0;  // what iputils' errno holds between options (see parse_iputils_double)
  for (const po::option& opt : parsed.options) {
    const std::string value = opt.value.empty() ? std::string() : opt.value.front();
    if (opt.string_key == "destination") {
      destinations.insert(destinations.end(), opt.value.begin(), opt.value.end());
    } else if (opt.string_key.size() == 2 && opt.string_key[0] == '-') {
      if (kIntegerOptions.find(opt.string_key[1]) != std::string_view::npos) errno_left = 0;
      apply_short(opt.string_key[1], value, real_uid, result, errno_left);
    } else {
      apply_long(opt.string_key, value, result.options);
    }
  }
  // iputils' token bucket multiplies the interval by the preload; a negative interval that
  // large would overflow it (iputils then wraps). Keep the product within an int.
  PingOptions& o = result.options;
  o.interval_ms = std::max(o.interval_ms, -(INT_MAX / o.preload));
  if (result.outcome == ParseOutcome::kPrintVersion) return;
  if (destinations.empty()) fail(with_errno("usage error", EDESTADDRREQ), kExitBadNumber);
  if (destinations.size() > 1) {
    fail("several destinations (IPv4 source routing) are not supported by mtool ping");
  }
  o.destination = destinations.back();
}

}  // namespace

ParseResult parse_ping_options(const std::vector<std::string>& args, uid_t real_uid) {
  static const po::options_description description = make_description();
  po::positional_options_description positional;
  positional.add("destination", -1);

  std::vector<std::string> tokens(args.begin() + (args.empty() ? 0 : 1), args.end());
  po::parsed_options parsed(&description);
  try {
    const auto style = po::command_line_style::unix_style ^ po::command_line_style::allow_guessing;
    parsed = po::command_line_parser(tokens)
                 .options(description)
                 .positional(positional)
                 .style(style)
                 .run();
  } catch (const po::unknown_option& e) {
    const std::string token = e.get_option_name();
    if (token.rfind("--", 0) == 0) fail("unrecognized option '" + token + "'", kExitUsage, true);
    fail(std::string("invalid option -- '") + first_bad_letter(token) + "'", kExitUsage, true);
  } catch (const po::invalid_command_line_syntax& e) {
    std::string name = e.get_option_name();
    while (!name.empty() && name.front() == '-') name.erase(0, 1);
    if (name.size() == 1) fail("option requires an argument -- '" + name + "'", kExitUsage, true);
    fail("option '--" + name + "' requires an argument", kExitUsage, true);
  } catch (const po::error& e) {
    fail(e.what(), kExitUsage, true);
  }

  ParseResult result;
  try {
    finish_parse(parsed, real_uid, result);
  } catch (const FatalError&) {
    // iputils printed the warnings of earlier options as it met them, then died.
    const std::string program = args.empty() ? "ping" : args.front();
    for (const auto& w : result.warnings) print_diagnostic(stdout, stderr, program, w);
    throw;
  }
  return result;
}

const char* ping_usage_text() {
  return "\n"
         "Usage\n"
         "  ping [options] <destination>\n"
         "\n"
         "Options:\n"
         "  <destination>      dns name or ip address\n"
         "  -a                 use audible ping\n"
         "  -A                 use adaptive ping\n"
         "  -B                 sticky source address\n"
         "  -c <count>         stop after <count> replies\n"
         "  -C                 call connect() syscall on socket creation\n"
         "  -D                 print timestamps\n"
         "  -d                 use SO_DEBUG socket option\n"
         "  -e <identifier>    define identifier for ping session, default is random for\n"
         "                     SOCK_RAW and kernel defined for SOCK_DGRAM\n"
         "                     Imply using SOCK_RAW (for IPv4 only for identifier 0)\n"
         "  -f                 flood ping\n"
         "  -h                 print help and exit\n"
         "  -I <interface>     either interface name or address\n"
         "  -i <interval>      seconds between sending each packet\n"
         "  -L                 suppress loopback of multicast packets\n"
         "  -l <preload>       send <preload> number of packages while waiting replies\n"
         "  -m <mark>          tag the packets going out\n"
         "  -M <pmtud opt>     define mtu discovery, can be one of <do|dont|want>\n"
         "  -n                 no dns name resolution\n"
         "  -O                 report outstanding replies\n"
         "  -p <pattern>       contents of padding byte\n"
         "  -q                 quiet output\n"
         "  -Q <tclass>        use quality of service <tclass> bits\n"
         "  -s <size>          use <size> as number of data bytes to be sent\n"
         "  -S <size>          use <size> as SO_SNDBUF socket option value\n"
         "  -t <ttl>           define time to live\n"
         "  -U                 print user-to-user latency\n"
         "  -v                 verbose output\n"
         "  -V                 print version and exit\n"
         "  -w <deadline>      reply wait <deadline> in seconds\n"
         "  -W <timeout>       time to wait for response\n"
         "\n"
         "IPv4 options:\n"
         "  -4                 use IPv4\n"
         "  -b                 allow pinging broadcast\n"
         "  -R                 record route\n"
         "  -T <timestamp>     define timestamp, can be one of <tsonly|tsandaddr|tsprespec>\n"
         "\n"
         "IPv6 options:\n"
         "  -6                 use IPv6\n"
         "  -F <flowlabel>     define flow label, default is random\n"
         "  -N <nodeinfo opt>  use icmp6 node info query, try <help> as argument\n"
         "\n"
         "For more details see ping(8).\n";
}

const char* ping_extra_usage_text() {
  return "\n"
         "mtool options:\n"
         "  --json             one JSON object per reply and one for the summary\n"
         "  --percentiles      add p50/p90/p99/p99.9 to the summary\n"
         "  --breakdown        after each corrected reply, the devices it crossed in the host\n"
         "  --no-correction    do not ask the host correlator for corrections\n"
         "  --require-correction  exit 1 unless every reply was corrected (health checks)\n"
         "  --tx-timestamp <user|kernel>\n"
         "                     start each RTT at the send call (user, as iputils) or at\n"
         "                     the kernel's software transmit timestamp (kernel)\n"
         "\n"
         "Corrections come from `mtool correlator` on the host: through the pinned maps\n"
         "($MTOOL_BPF_PIN_DIR, default " MTOOL_PIN_DIR_DEFAULT
         ") when bpf() is allowed,\n"
         "otherwise through its socket ($MTOOL_CORRELATOR_SOCKET, default\n" MTOOL_SOCKET_DEFAULT
         "). MTOOL_CORRELATOR=off disables them.\n";
}

}  // namespace mtool::ping
