#include "commands/trace_command.h"

#include <netdb.h>
#include <netinet/in.h>
#include <unistd.h>

#include <cstdio>
#include <cstring>
#include <memory>
#include <new>

#include "commands/mda_trace.h"
#include "correlate/tool_connection.h"
#include "mtool/version.h"
#include "net/address.h"
#include "net/capabilities.h"
#include "report/trace_text.h"
#include "trace/method_factory.h"
#include "trace/trace_options.h"
#include "trace/trace_scheduler.h"
#include "util/error.h"

namespace mtool::commands {
namespace {

using report::TraceTextPrinter;
using trace::make_probe_method;
using trace::method_header_length;
using trace::MethodSetup;
using trace::parse_trace_options;
using trace::ParseOutcome;
using trace::ParseResult;
using trace::ProbeMethod;
using trace::ScheduleConfig;
using trace::trace_extra_usage_text;
using trace::trace_usage_text;
using trace::TraceOptions;
using trace::TraceScheduler;
using trace::validate_trace_options;

constexpr int kExitUsage = 2;
constexpr std::size_t kDefaultDataLength = 40;  // all but the IP header
constexpr const char* kButskoyVersion = "2.1.2";

// Butskoy's getaddr(): the family asked for, else IPv4 when offered, else whatever came first;
// an IPv4-mapped IPv6 address is IPv4. Prints getaddrinfo's complaint itself.
std::optional<net::IpAddress> resolve(const std::string& name, int family) {
  addrinfo hints{};
  hints.ai_family = family;
#ifdef AI_IDN
  hints.ai_flags = AI_IDN;
#endif
  addrinfo* result = nullptr;
  if (const int err = getaddrinfo(name.c_str(), nullptr, &hints, &result); err != 0) {
    std::fprintf(stderr, "%s: %s\n", name.c_str(), gai_strerror(err));
    return std::nullopt;
  }
  if (result == nullptr) {  // success with no address: nothing to trace to
    std::fprintf(stderr, "%s: %s\n", name.c_str(), gai_strerror(EAI_NONAME));
    return std::nullopt;
  }
  const addrinfo* chosen = result;
  for (const addrinfo* ai = result; ai != nullptr; ai = ai->ai_next) {
    if (ai->ai_family == family || (family == AF_UNSPEC && ai->ai_family == AF_INET)) {
      chosen = ai;
      break;
    }
  }
  net::IpAddress address = net::IpAddress::from_sockaddr(chosen->ai_addr, chosen->ai_addrlen);
  freeaddrinfo(result);
  if (address.is_v6() && IN6_IS_ADDR_V4MAPPED(&address.in6())) {
    if (family == AF_INET6) return std::nullopt;
    in_addr v4{};
    std::memcpy(&v4, &address.in6().s6_addr[12], sizeof v4);
    address = net::IpAddress::v4(v4);
  }
  address.set_port(0);
  return address;
}

[[noreturn]] void usage_error(const std::string& message) { throw FatalError(message, kExitUsage); }

int run(const std::vector<std::string>& args) {
  // The real user, NET_RAW/NET_ADMIN at most, and the correlator, in a safe order. Nothing is
  // sent or printed here.
  correlate::PendingCorrelator pending_correlator = correlate::settle_privileges_and_connect();

  ParseResult parsed = parse_trace_options(args);
  switch (parsed.outcome) {
    case ParseOutcome::kHelp:
      std::fputs(trace_usage_text(), stderr);
      std::fputs(trace_extra_usage_text(), stderr);
      return 0;
    case ParseOutcome::kVersion:
      std::fprintf(stderr, "traceroute from mtool %s (Butskoy traceroute %s compatible)\n",
                   kVersion, kButskoyVersion);
      return 0;
    case ParseOutcome::kError:
      usage_error(parsed.error);
    case ParseOutcome::kRun:
      break;
  }
  TraceOptions& o = parsed.options;

  // Names, in Butskoy's order: the source (-s) while options are read, then the host.
  std::optional<net::IpAddress> source;
  if (!o.source.empty()) {
    source = resolve(o.source, o.source_family);
    if (!source) {
      usage_error("Cannot handle `-s' option with arg `" + o.source + "' (argc " +
                  std::to_string(o.source_argc) + ")");
    }
  }
  const auto destination = resolve(o.host, o.family);
  if (!destination) {
    usage_error("Cannot handle \"host\" cmdline arg `" + o.host + "' on position 1 (argc " +
                std::to_string(o.host_argc) + ")");
  }
  if (o.family == AF_UNSPEC) o.family = destination->family();
  if (const auto problem = validate_trace_options(o)) usage_error(*problem);
  if (source && source->family() != o.family)
    usage_error("IP version mismatch in addresses specified");

  MethodSetup setup;
  setup.family = o.family;
  setup.destination = *destination;
  if (source) setup.source = *source;
  setup.source_port = o.source_port;
  setup.device = o.device;
  setup.port = o.port;
  setup.tos = o.tos;
  setup.flow_label = o.flow_label;
  setup.fwmark = o.fwmark;
  setup.dont_fragment = o.dont_fragment;
  setup.debug = o.debug;
  setup.dont_route = o.dont_route;
  setup.extensions = o.extensions;
  setup.hold_flows = o.paris.has_value() || o.mda.has_value();
  // Lengths as Butskoy counts them: the IP header plus the method's header, then data.
  setup.header_length = method_header_length(o.method, o.family);
  if (o.packet_length < 0) {
    const std::size_t ip_header = o.family == AF_INET6 ? 40 : 20;
    setup.data_length = kDefaultDataLength - (setup.header_length - ip_header);
  } else if (static_cast<std::size_t>(o.packet_length) >= setup.header_length) {
    setup.data_length = static_cast<std::size_t>(o.packet_length) - setup.header_length;
  }

  // The daemon has been answering the HELLO while we resolved names. The correlator found at
  // start, or (none found, none expected) one looked for while replies come in; until one
  // answers, the output is Butskoy's to the byte.
  const std::string program = args.empty() ? "traceroute" : args[0];
  const SystemClock clock;
  correlate::ToolCorrelator correlator(
      pending_correlator.finish(), o.correction, clock,
      [&program](const std::string& line) { print_diagnostic(stdout, stderr, program, line); });
  setup.identify = correlator.overheads() != nullptr;
  std::unique_ptr<ProbeMethod> method = make_probe_method(o.method, setup, clock);
  // Per-probe sockets may still need a capability (-i: SO_BINDTODEVICE, --fwmark: SO_MARK);
  // otherwise nothing is raised again.
  if (o.device.empty() && o.fwmark == 0) net::Capabilities::drop_all();

  correlator.say_if_unavailable();
  if (o.mda) return run_multipath_discovery({o, setup, *method, clock, correlator.overheads()});

  net::AddressNamer namer(o.numeric, true);
  TraceTextPrinter printer(stdout, namer, {o.probes_per_hop, o.back, o.breakdown});
  printer.header({o.host, destination->to_string(), o.max_hops, method->packet_length()});

  ScheduleConfig schedule;
  schedule.family = o.family;
  schedule.first_hop = o.first_hop;
  schedule.max_hops = o.max_hops;
  schedule.probes_per_hop = o.probes_per_hop;
  schedule.sim_probes = o.sim_probes;
  schedule.wait_max = Nanos{static_cast<std::int64_t>(o.wait_max_s * 1e9)};
  schedule.wait_here = o.wait_here;
  schedule.wait_near = o.wait_near;
  schedule.send_wait = Nanos{static_cast<std::int64_t>(o.send_wait_s * 1e9)};
  schedule.flow = static_cast<trace::FlowId>(o.paris.value_or(0));
  TraceScheduler scheduler(schedule, *method, printer, clock, correlator.overheads());
  scheduler.run();
  printer.end();
  return 0;
}

}  // namespace

int run_traceroute_command(const std::vector<std::string>& args) {
  try {
    return run(args);
  } catch (const std::bad_alloc&) {
    std::fflush(stdout);
    std::fputs("\nmalloc: Cannot allocate memory\n", stderr);
    return 1;
  } catch (const FatalError& e) {
    std::fflush(stdout);
    // Butskoy prints its messages bare (no program name), one per line.
    if (e.what()[0] != '\0') std::fprintf(stderr, "%s\n", e.what());
    return e.exit_code();
  }
}

}  // namespace mtool::commands
