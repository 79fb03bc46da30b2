#include "trace/trace_options.h"

#include <arpa/inet.h>
#include <netdb.h>

#include <algorithm>
#include <cerrno>
#include <cmath>
#include <cstdlib>
#include <cstring>
#include <functional>

namespace mtool::trace {
namespace {

// A wait mtool treats as Butskoy's endless one (about 31 years; 1e18 ns fits an int64 clock).
constexpr double kForeverSeconds = 1e9;
// The largest HERE / NEAR factor kept: a scaled wait (RTT + 1 ms) x factor stays below 2^63 ns
// for any RTT under 2.5 hours.
constexpr double kMaxWaitFactor = 1e6;

// How Butskoy's option table (its CLIF library) describes an option.
struct OptionSpec {
  const char* short_name;  // one character, or nullptr
  const char* long_name;   // nullptr: short only
  const char* arg_name;    // nullptr: a flag
  bool abbreviable;        // CLIF_ABBREV: a long name may be shortened (to 2+ characters)
  bool one_dash;           // CLIF_ONEDASH: spelled with one dash (-UL)
  // Applies the option; false means "Cannot handle" (a value that does not convert).
  std::function<bool(TraceOptions&, const char*)> apply;
  const char* unsupported = nullptr;  // accepted by Butskoy, refused by mtool: why
  bool value_optional = false;        // --name alone is allowed too (apply gets nullptr)
};

bool to_uint(const char* text, unsigned& out) {
  char* end = nullptr;
  out = static_cast<unsigned>(std::strtoul(text, &end, 0));
  return end != text && *end == '\0';
}

bool to_double(const char* text, double& out) {
  char* end = nullptr;
  out = std::strtod(text, &end);
  return end != text && *end == '\0';
}

// A port number, or a service name (/etc/services), as Butskoy's set_port().
bool to_port(const char* text, unsigned& out) {
  char* end = nullptr;
  out = static_cast<unsigned>(std::strtoul(text, &end, 0));
  if (end != text) return true;
  const servent* service = getservbyname(text, nullptr);
  if (service == nullptr) return false;
  out = ntohs(static_cast<std::uint16_t>(service->s_port));
  return true;
}

// -w MAX[,HERE[,NEAR]]: a value left out is 0 (Butskoy resets both factors first).
bool to_wait(TraceOptions& o, const char* text) {
  o.wait_here = o.wait_near = 0;
  char* end = nullptr;
  o.wait_max_s = std::strtod(text, &end);
  if (end == text) return false;
  if (*end == '\0') return true;
  const char* p = end + 1;
  o.wait_here = std::strtod(p, &end);
  if (end == p) return false;
  if (*end == '\0') return true;
  p = end + 1;
  o.wait_near = std::strtod(p, &end);
  return end != p && *end == '\0';
}

auto flag(bool TraceOptions::*member) {
  return [member](TraceOptions& o, const char*) {
    o.*member = true;
    return true;
  };
}
auto uint_value(unsigned TraceOptions::*member) {
  return [member](TraceOptions& o, const char* v) { return to_uint(v, o.*member); };
}
auto method(TraceMethod m) {
  return [m](TraceOptions& o, const char*) {
    o.method = m;
    return true;
  };
}

const std::vector<OptionSpec>& option_table() {
  static const std::vector<OptionSpec> table = {
      {"4", nullptr, nullptr, false, false,
       [](TraceOptions& o, const char*) {
         o.family = AF_INET;
         return true;
       }},
      {"6", nullptr, nullptr, false, false,
       [](TraceOptions& o, const char*) {
         o.family = AF_INET6;
         return true;
       }},
      {"d", "debug", nullptr, false, false, flag(&TraceOptions::debug)},
      {"F", "dont-fragment", nullptr, true, false, flag(&TraceOptions::dont_fragment)},
      {"f", "first", "first_ttl", false, false, uint_value(&TraceOptions::first_hop)},
      {"g", "gateway", "gate", false, false, nullptr, "-g (IP source routing)"},
      {"I", "icmp", nullptr, false, false, method(TraceMethod::kIcmp)},
      {"T", "tcp", nullptr, false, false, method(TraceMethod::kTcp)},
      {"i", "interface", "device", false, false,
       [](TraceOptions& o, const char* v) {
         o.device = v;
         return true;
       }},
      {"m", "max-hops", "max_ttl", false, false, uint_value(&TraceOptions::max_hops)},
      {"N", "sim-queries", "squeries", false, false, uint_value(&TraceOptions::sim_probes)},
      {"n", nullptr, nullptr, false, false, flag(&TraceOptions::numeric)},
      {"p", "port", "port", false, false,
       [](TraceOptions& o, const char* v) { return to_port(v, o.port); }},
      {"t", "tos", "tos", false, false, uint_value(&TraceOptions::tos)},
      {"l", "flowlabel", "flow_label", false, false, uint_value(&TraceOptions::flow_label)},
      {"w", "wait", "MAX,HERE,NEAR", false, false, to_wait},
      {"q", "queries", "nqueries", false, false, uint_value(&TraceOptions::probes_per_hop)},
      {"r", nullptr, nullptr, false, false, flag(&TraceOptions::dont_route)},
      {"s", "source", "src_addr", false, false,
       [](TraceOptions& o, const char* v) {
         o.source = v;
         return true;
       }},  // resolved later
      {"z", "sendwait", "sendwait", false, false,
       [](TraceOptions& o, const char* v) { return to_double(v, o.send_wait_s); }},
      {"e", "extensions", nullptr, true, false, flag(&TraceOptions::extensions)},
      {"A", "as-path-lookups", nullptr, false, false, nullptr,
       "-A (AS path lookups query remote whois servers)"},
      {"M", "module", "name", false, false,
       [](TraceOptions& o, const char* v) {
         const std::string name = v;
         if (name == "default")
           o.method = TraceMethod::kUdp;
         else if (name == "udp")
           o.method = TraceMethod::kUdpFixed;
         else if (name == "icmp")
           o.method = TraceMethod::kIcmp;
         else if (name == "tcp")
           o.method = TraceMethod::kTcp;
         else
           o.module = name;  // judged after parsing, as Butskoy does
         return true;
       }},
      {"O", "options", "OPTS", false, false, nullptr, "-O (module options)"},
      {nullptr, "sport", "num", false, false,
       [](TraceOptions& o, const char* v) { return to_port(v, o.source_port); }},
      {nullptr, "fwmark", "num", false, false, uint_value(&TraceOptions::fwmark)},
      {"U", "udp", nullptr, false, false, method(TraceMethod::kUdpFixed)},
      {nullptr, "UL", nullptr, false, true, nullptr, "-UL (UDPLITE)"},
      {"D", "dccp", nullptr, false, false, nullptr, "-D (DCCP)"},
      {"P", "protocol", "prot", false, false, nullptr, "-P (raw protocol probes)"},
      {nullptr, "mtu", nullptr, false, false, nullptr, "--mtu (path MTU discovery)"},
      {nullptr, "back", nullptr, false, false, flag(&TraceOptions::back)},
      {"V", "version", nullptr, false, false, nullptr},
      {nullptr, "help", nullptr, false, false, nullptr},
      {nullptr, "no-correction", nullptr, false, false,
       [](TraceOptions& o, const char*) {
         o.correction = false;
         return true;
       }},
      {nullptr, "breakdown", nullptr, false, false, flag(&TraceOptions::breakdown)},
      {nullptr, "paris", "ID", false, false,
       [](TraceOptions& o, const char* v) {
         unsigned id = 0;
         if (v != nullptr && (!to_uint(v, id) || id > kMaxFlowId)) return false;
         o.paris = id;
         return true;
       },
       nullptr, true},
      {nullptr, "mda", "CONFIDENCE", false, false,
       [](TraceOptions& o, const char* v) {
         double confidence = kDefaultMdaConfidence;
         if (v != nullptr && (!to_double(v, confidence) || !(confidence > 0 && confidence < 100)))
           return false;
         o.mda = confidence;
         return true;
       },
       nullptr, true},
      {nullptr, "mda-seed", "N", false, false,
       [](TraceOptions& o, const char* v) {
         char* end = nullptr;
         errno = 0;
         const unsigned long long seed = std::strtoull(v, &end, 0);
         if (end == v || *end != '\0' || errno != 0 || v[0] == '-') return false;
         o.mda_seed = seed;
         return true;
       }},
      {nullptr, "json", nullptr, false, false, flag(&TraceOptions::json)},
  };
  return table;
}

std::string show_short(const OptionSpec& o, bool with_arg) {
  std::string s = std::string("-") + o.short_name;
  if (with_arg && o.arg_name != nullptr) s += std::string(" ") + o.arg_name;
  return s;
}

std::string show_long(const OptionSpec& o, bool with_arg) {
  std::string s = std::string(o.one_dash ? "-" : "--") + o.long_name;
  if (with_arg && o.arg_name != nullptr) s += std::string("=") + o.arg_name;
  return s;
}

// Finds a long option: an exact name, or an unambiguous abbreviation of an abbreviable one.
const OptionSpec* find_long(const std::string& text, bool one_dash, std::string& value,
                            bool& has_value) {
  const std::size_t equals = text.find('=');
  const std::string name = text.substr(0, equals);
  const OptionSpec* abbreviated = nullptr;
  int abbreviations = 0;
  for (const auto& o : option_table()) {
    if (o.long_name == nullptr || o.one_dash != one_dash) continue;
    if (equals != std::string::npos && o.arg_name == nullptr) {
      if (name == o.long_name) continue;  // a flag given "=value": not this option
    }
    const std::string long_name = o.long_name;
    if (name == long_name || (o.abbreviable && name.size() >= 2 && long_name.starts_with(name))) {
      has_value = equals != std::string::npos;
      if (has_value) value = text.substr(equals + 1);
      if (name == long_name) return &o;
      abbreviated = &o;
      ++abbreviations;
    }
  }
  return abbreviations == 1 ? abbreviated : nullptr;
}

struct Parser {
  const std::vector<std::string>& args;
  ParseResult result;
  std::vector<std::size_t> positional;  // argv indexes

  bool fail(std::string message) {
    result.outcome = ParseOutcome::kError;
    result.error = std::move(message);
    return false;
  }

  // What an option does once found; false stops the parse.
  bool apply(const OptionSpec& o, const char* value, std::size_t argc, bool as_short) {
    if (o.long_name != nullptr && std::strcmp(o.long_name, "help") == 0) {
      result.outcome = ParseOutcome::kHelp;
      return false;
    }
    if (o.short_name != nullptr && std::strcmp(o.short_name, "V") == 0) {
      result.outcome = ParseOutcome::kVersion;
      return false;
    }
    if (o.unsupported != nullptr) {
      return fail(std::string(o.unsupported) + " is not supported by mtool traceroute");
    }
    if (o.short_name != nullptr && std::strcmp(o.short_name, "s") == 0) {
      result.options.source_argc = argc;
      result.options.source_family = result.options.family;
    }
    if (!o.apply(result.options, value)) {
      const std::string shown = as_short ? show_short(o, false) : show_long(o, false);
      if (o.arg_name != nullptr) {
        return fail("Cannot handle `" + shown + "' option with arg `" + value + "' (argc " +
                    std::to_string(argc) + ")");
      }
      return fail("Cannot handle `" + shown + "' option (argc " + std::to_string(argc) + ")");
    }
    return true;
  }

  bool long_option(std::size_t& i, const std::string& text, bool one_dash) {
    std::string value;
    bool has_value = false;
    const OptionSpec* o = find_long(text, one_dash, value, has_value);
    if (o == nullptr) return false;
    if (o->arg_name != nullptr && !has_value && !o->value_optional) {
      // Butskoy's long options take their value after '=' only.
      return fail("Option `" + show_long(*o, false) + "' (argc " + std::to_string(i) +
                  ") requires an argument: `" + show_long(*o, true) + "'");
    }
    return apply(*o, has_value ? value.c_str() : nullptr, i, false);
  }

  bool bad_option(const std::string& arg, std::size_t argc) {
    const std::size_t equals = arg.find('=');
    if (equals != std::string::npos) {
      return fail("Bad option `" + arg + "' (with arg `" + arg.substr(equals + 1) + "') (argc " +
                  std::to_string(argc) + ")");
    }
    return fail("Bad option `" + arg + "' (argc " + std::to_string(argc) + ")");
  }

  bool short_options(std::size_t& i) {
    const std::string& arg = args[i];
    for (std::size_t k = 1; k < arg.size(); ++k) {
      const OptionSpec* o = nullptr;
      for (const auto& candidate : option_table()) {
        if (candidate.short_name != nullptr && candidate.short_name[0] == arg[k]) {
          o = &candidate;
          break;
        }
      }
      if (o == nullptr) {
        return fail(std::string("Bad option `-") + arg[k] + "' (argc " + std::to_string(i) + ")");
      }
      if (o->arg_name == nullptr) {
        if (!apply(*o, nullptr, i, true)) return false;
        continue;
      }
      const auto missing = [&] {
        return fail("Option `" + show_short(*o, false) + "' (argc " + std::to_string(i) +
                    ") requires an argument: `" + show_short(*o, true) + "'");
      };
      if (k + 1 == arg.size()) {  // the value is the next word
        if (i + 1 >= args.size()) return missing();
        ++i;
        return apply(*o, args[i].c_str(), i, true);
      }
      if (k == 1) return apply(*o, arg.c_str() + 2, i, true);  // joined: -q1
      return missing();                                        // inside a group (-nq1): not allowed
    }
    return true;
  }

  void run() {
    bool options_done = false;
    for (std::size_t i = 1; i < args.size(); ++i) {
      const std::string& arg = args[i];
      if (options_done || arg.size() < 2 || arg[0] != '-') {
        positional.push_back(i);
        continue;
      }
      if (arg[1] == '-') {
        if (arg.size() == 2) {
          options_done = true;
          continue;
        }
        if (arg[2] == '-') {
          positional.push_back(i);
          continue;
        }
        if (!long_option(i, arg.substr(2), false)) {
          if (result.outcome == ParseOutcome::kRun) bad_option(arg, i);
          return;
        }
        continue;
      }
      if (long_option(i, arg.substr(1), true)) continue;
      if (result.outcome != ParseOutcome::kRun) return;
      if (!short_options(i)) return;
    }
    arguments();
  }

  void arguments() {
    if (positional.empty()) {
      fail("Specify \"host\" missing argument.");
      return;
    }
    if (positional.size() > 2) {
      const std::size_t extra = positional[2];
      fail("Extra arg `" + args[extra] + "' (position 3, argc " + std::to_string(extra) + ")");
      return;
    }
    result.options.host = args[positional[0]];
    result.options.host_argc = positional[0];
    if (positional.size() == 2) {
      const std::string& text = args[positional[1]];
      char* end = nullptr;
      const long value = std::strtol(text.c_str(), &end, 0);
      if (end == text.c_str() || *end != '\0') {
        fail("Cannot handle \"packetlen\" cmdline arg `" + text + "' on position 2 (argc " +
             std::to_string(positional[1]) + ")");
        return;
      }
      result.options.packet_length = static_cast<int>(value);
    }
  }
};

// Butskoy keeps -w and -z as doubles and waits in poll() for `timeout * 1000` ms as an int: a
// wait past INT_MAX ms (or infinite) never times out, and NaN (every comparison false) makes
// the first poll after a send wait for ever too. The scheduler counts in 64-bit nanoseconds,
// so such waits become kForeverSeconds instead of an overflow. A HERE or NEAR factor that
// makes every scaled wait reach MAX (inf, NaN: Butskoy's `value < wait_secs ? value :
// wait_secs` then picks MAX) is the same as a factor of MAX in milliseconds, the precision
// added to every RTT; it is also held to kMaxWaitFactor so a scaled wait stays in range.
// -z NaN never delays a send (Butskoy's `next > now_time` is false).
void bound_waits(TraceOptions& o) {
  const auto forever_if_beyond = [](double& seconds) {
    if (std::isnan(seconds) || seconds > kForeverSeconds) seconds = kForeverSeconds;
  };
  forever_if_beyond(o.wait_max_s);
  const double factor_limit = std::min(o.wait_max_s * 1000, kMaxWaitFactor);
  for (double* factor : {&o.wait_here, &o.wait_near}) {
    if (std::isnan(*factor) || *factor > factor_limit) *factor = factor_limit;
  }
  if (std::isnan(o.send_wait_s)) o.send_wait_s = 0;
  forever_if_beyond(o.send_wait_s);
}

}  // namespace

ParseResult parse_trace_options(const std::vector<std::string>& args) {
  Parser parser{args, {}, {}};
  // The program name chooses defaults, as Butskoy's check_progname(): traceroute6 -> IPv6,
  // tcptraceroute -> TCP, tracert -> ICMP.
  if (!args.empty()) {
    std::string name = args[0];
    if (const auto slash = name.rfind('/'); slash != std::string::npos)
      name = name.substr(slash + 1);
    if (!name.empty() && name.back() == '6') parser.result.options.family = AF_INET6;
    if (!name.empty() && name.back() == '4') parser.result.options.family = AF_INET;
    if (name.starts_with("tcp")) parser.result.options.method = TraceMethod::kTcp;
    if (name.starts_with("tracert")) parser.result.options.method = TraceMethod::kIcmp;
  }
  if (args.size() <= 1) {
    parser.result.outcome = ParseOutcome::kHelp;  // CLIF_HELP_EMPTY
    return parser.result;
  }
  parser.run();
  return parser.result;
}

std::optional<std::string> validate_trace_options(TraceOptions& o) {
  if (!o.module.empty()) {
    for (const char* known : {"raw", "dccp", "udplite", "tcpconn"}) {
      if (o.module == known) return "-M " + o.module + " is not supported by mtool traceroute";
    }
    return "Unknown traceroute module " + o.module;
  }
  if (o.first_hop == 0 || o.first_hop > o.max_hops) return "first hop out of range";
  if (o.max_hops > kMaxHops) return "max hops cannot be more than 255";
  if (o.probes_per_hop == 0 || o.probes_per_hop > kMaxProbesPerHop) {
    return "no more than 10 probes per hop";
  }
  if (o.wait_max_s < 0 || o.wait_here < 0 || o.wait_near < 0) {
    char text[128];
    std::snprintf(text, sizeof text, "bad wait specifications `%g,%g,%g' used", o.wait_max_s,
                  o.wait_here, o.wait_near);
    return std::string(text);
  }
  if (o.packet_length > kMaxPacketLength) {
    return "too big packetlen " + std::to_string(o.packet_length) + " specified";
  }
  if (o.send_wait_s < 0) {
    char text[64];
    std::snprintf(text, sizeof text, "bad sendtime `%g' specified", o.send_wait_s);
    return std::string(text);
  }
  if (o.send_wait_s >= 10) o.send_wait_s /= 1000;  // it was milliseconds
  bound_waits(o);
  if (o.source_port != 0) {  // a fixed source port: one probe at a time
    o.sim_probes = 1;
    o.wait_here = o.wait_near = 0;
  }
  if (o.sim_probes == 0) o.sim_probes = 1;
  if (o.mda && o.paris) return "--mda and --paris exclude each other: --mda chooses its own flows";
  if (o.mda_seed && !o.mda) return "--mda-seed needs --mda";
  if (o.json && !o.mda) return "--json needs --mda (a plain trace prints Butskoy's text)";
  const bool udp = o.method == TraceMethod::kUdp || o.method == TraceMethod::kUdpFixed;
  if (o.mda && udp) {
    const unsigned first = udp_first_port(o.method, o.port);
    if (first >= 65535) return "--mda: port " + std::to_string(first) + " leaves no flow to use";
  }
  if (o.paris && udp) {
    const unsigned first = udp_first_port(o.method, o.port);
    if (first + *o.paris > 65535) {
      return "--paris=" + std::to_string(*o.paris) + ": port " + std::to_string(first) +
             " + ID is past 65535";
    }
  }
  return std::nullopt;
}

const char* trace_usage_text() {
  // Butskoy's help, word for word (CLIF prints it to stderr).
  return R"USAGE(Usage:
  traceroute [ -46dFITnreAUDV ] [ -f first_ttl ] [ -g gate,... ] [ -i device ] [ -m max_ttl ] [ -N squeries ] [ -p port ] [ -t tos ] [ -l flow_label ] [ -w MAX,HERE,NEAR ] [ -q nqueries ] [ -s src_addr ] [ -z sendwait ] [ --fwmark=num ] host [ packetlen ]
Options:
  -4                          Use IPv4
  -6                          Use IPv6
  -d  --debug                 Enable socket level debugging
  -F  --dont-fragment         Do not fragment packets
  -f first_ttl  --first=first_ttl
                              Start from the first_ttl hop (instead from 1)
  -g gate,...  --gateway=gate,...
                              Route packets through the specified gateway
                              (maximum 8 for IPv4 and 127 for IPv6)
  -I  --icmp                  Use ICMP ECHO for tracerouting
  -T  --tcp                   Use TCP SYN for tracerouting (default port is 80)
  -i device  --interface=device
                              Specify a network interface to operate with
  -m max_ttl  --max-hops=max_ttl
                              Set the max number of hops (max TTL to be
                              reached). Default is 30
  -N squeries  --sim-queries=squeries
                              Set the number of probes to be tried
                              simultaneously (default is 16)
  -n                          Do not resolve IP addresses to their domain names
  -p port  --port=port        Set the destination port to use. It is either
                              initial udp port value for "default" method
                              (incremented by each probe, default is 33434), or
                              initial seq for "icmp" (incremented as well,
                              default from 1), or some constant destination
                              port for other methods (with default of 80 for
                              "tcp", 53 for "udp", etc.)
  -t tos  --tos=tos           Set the TOS (IPv4 type of service) or TC (IPv6
                              traffic class) value for outgoing packets
  -l flow_label  --flowlabel=flow_label
                              Use specified flow_label for IPv6 packets
  -w MAX,HERE,NEAR  --wait=MAX,HERE,NEAR
                              Wait for a probe no more than HERE (default 3)
                              times longer than a response from the same hop,
                              or no more than NEAR (default 10) times than some
                              next hop, or MAX (default 5.0) seconds (float
                              point values allowed too)
  -q nqueries  --queries=nqueries
                              Set the number of probes per each hop. Default is
                              3
  -r                          Bypass the normal routing and send directly to a
                              host on an attached network
  -s src_addr  --source=src_addr
                              Use source src_addr for outgoing packets
  -z sendwait  --sendwait=sendwait
                              Minimal time interval between probes (default 0).
                              If the value is more than 10, then it specifies a
                              number in milliseconds, else it is a number of
                              seconds (float point values allowed too)
  -e  --extensions            Show ICMP extensions (if present), including MPLS
  -A  --as-path-lookups       Perform AS path lookups in routing registries and
                              print results directly after the corresponding
                              addresses
  -M name  --module=name      Use specified module (either builtin or external)
                              for traceroute operations. Most methods have
                              their shortcuts (`-I' means `-M icmp' etc.)
  -O OPTS,...  --options=OPTS,...
                              Use module-specific option OPTS for the
                              traceroute module. Several OPTS allowed,
                              separated by comma. If OPTS is "help", print info
                              about available options
  --sport=num                 Use source port num for outgoing packets. Implies
                              `-N 1'
  --fwmark=num                Set firewall mark for outgoing packets
  -U  --udp                   Use UDP to particular port for tracerouting
                              (instead of increasing the port per each probe),
                              default port is 53
  -UL                         Use UDPLITE for tracerouting (default dest port
                              is 53)
  -D  --dccp                  Use DCCP Request for tracerouting (default port
                              is 33434)
  -P prot  --protocol=prot    Use raw packet of protocol prot for tracerouting
  --mtu                       Discover MTU along the path being traced. Implies
                              `-F -N 1'
  --back                      Guess the number of hops in the backward path and
                              print if it differs
  -V  --version               Print version info and exit
  --help                      Read this help and exit

Arguments:
+     host          The host to traceroute to
      packetlen     The full packet length (default is the length of an IP
                    header plus 40). Can be ignored or increased to a minimal
                    allowed value
)USAGE";
}

const char* trace_extra_usage_text() {
  return R"USAGE(
mtool additions:
  --no-correction             Print raw times only, even when the correlator runs
  --breakdown                 After each hop, the devices behind each probe's
                              overhead (needs the correlator)
  --paris[=ID]                Paris traceroute: every probe of the trace keeps
                              the fields that load balancers hash (addresses,
                              protocol, ports; ICMP: type, code, checksum), so
                              all follow one path; ID (0..65535, default 0)
                              picks the flow (UDP: port + ID; ICMP: the
                              checksum; TCP: a source port per ID). UDP without
                              CAP_NET_RAW sends one probe at a time
  --mda[=CONFIDENCE]          Multipath discovery (the MDA, as scamper's
                              tracelb): every next hop at every TTL, found on
                              many flows (as --paris holds one) until, at each
                              node, no further next hop remains undiscovered
                              with CONFIDENCE percent (default 95; any value
                              between 0 and 100). Prints each TTL's nodes,
                              their median times (corrected) and next hops.
                              -N probes in flight, -z between sends, -w MAX
                              per probe (sent twice before it counts as "*")
  --mda-seed=N                The flow ids --mda picks, in order (default: a
                              random seed, printed in the header): the same N
                              sends the same flows again
  --json                      With --mda: the graph (nodes, links, probes sent)
                              as one JSON object
  With the host's correlator running, each answered probe's time is followed by
  "(corrected X)": the RTT the host itself would have measured. A hop answered
  from inside the host's virtual network is marked [virtual], and its time is
  "(overhead)", not path latency.
  Not supported: -g, -A, -O, -D, -P, -UL, --mtu.
)USAGE";
}

}  // namespace mtool::trace
