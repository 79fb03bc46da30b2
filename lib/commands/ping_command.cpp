#include "commands/ping_command.h"

#include <arpa/inet.h>
#include <net/if.h>
#include <netinet/icmp6.h>
#include <netinet/in.h>
#include <sys/ioctl.h>
#include <unistd.h>

#include <cerrno>
#include <climits>
#include <cstdio>
#include <memory>
#include <new>
#include <optional>
#include <random>

#include "correlate/tool_connection.h"
#include "mtool/version.h"
#include "net/address.h"
#include "net/capabilities.h"
#include "net/icmp_socket.h"
#include "net/source_address.h"
#include "ping/ping_options.h"
#include "ping/ping_session.h"
#include "probe/echo_transport.h"
#include "probe/icmp_codec.h"
#include "report/ping_json_sink.h"
#include "report/ping_text_sink.h"
#include "util/error.h"
#include "util/run_control.h"

namespace mtool::commands {
namespace {

using ping::parse_ping_options;
using ping::ParseOutcome;
using ping::ParseResult;
using ping::ping_extra_usage_text;
using ping::ping_usage_text;
using ping::PingOptions;
using ping::PingSession;
using ping::PmtuDiscovery;
using ping::SessionConfig;
using ping::TxTimestampSource;

constexpr int kExitError = 2;
constexpr int kMinUserIntervalMs = PingSession::kMinUserIntervalMs;

// glibc's error() prefixes messages with argv[0] as invoked ("/usr/bin/ping: ..."); so do we.
std::string g_program = "ping";

void warn(const std::string& text) { print_diagnostic(stdout, stderr, g_program, text); }

[[noreturn]] void die(const std::string& text, int err = 0) {
  throw FatalError(with_errno(text, err), kExitError);
}

// The payload: iputils fills data byte i with i, or repeats the -p pattern.
std::vector<std::uint8_t> build_payload(const PingOptions& o) {
  std::vector<std::uint8_t> payload(o.datalen);
  if (o.pattern && !o.pattern->empty()) {
    for (std::size_t i = 0; i < payload.size(); ++i)
      payload[i] = (*o.pattern)[i % o.pattern->size()];
  } else {
    for (std::size_t i = 0; i < payload.size(); ++i) payload[i] = static_cast<std::uint8_t>(i);
  }
  return payload;
}

std::optional<net::IcmpSocket> open_socket(int family, bool prefer_datagram, bool requisite,
                                           bool verbose) {
  int error = 0;
  net::SocketKind tried = net::SocketKind::kRaw;
  auto socket = net::IcmpSocket::open(family, prefer_datagram, error, tried);
  if (!socket && (requisite || verbose)) {
    warn(std::string("socktype: ") + net::socket_kind_name(tried));
    warn(with_errno("socket", error));
    if (error == EPERM || error == EACCES) warn("=> missing cap_net_raw+p capability or setuid?");
  }
  if (!socket && requisite) throw FatalError("", kExitError);
  return socket;
}

int sndbuf_estimate(const PingOptions& o) {
  int hold = static_cast<int>(std::min<std::size_t>(o.datalen, INT_MAX / 2)) + 8;
  hold += ((hold + 511) / 512) * (20 + 16 + 64 + 160);
  return hold;
}

void configure_socket(net::IcmpSocket& socket, const PingOptions& o, const net::IpAddress& target,
                      const net::IpAddress& source, bool multicast) {
  const bool v6 = socket.family() == AF_INET6;
  if (o.device) {
    if (const int err = net::bind_to_device(socket.fd(), *o.device); err != 0 && !multicast) {
      die("SO_BINDTODEVICE " + *o.device, err);
    }
  }
  if (o.pmtu != PmtuDiscovery::kDefault || (multicast && !v6)) {
    int value = 0;
    // NOLINTBEGIN(bugprone-branch-clone): the IPv4 and IPv6 constants happen to be equal
    switch (o.pmtu) {
      case PmtuDiscovery::kDont:
        value = v6 ? IPV6_PMTUDISC_DONT : IP_PMTUDISC_DONT;
        break;
      case PmtuDiscovery::kWant:
        value = v6 ? IPV6_PMTUDISC_WANT : IP_PMTUDISC_WANT;
        break;
      default:
        value = v6 ? IPV6_PMTUDISC_DO : IP_PMTUDISC_DO;
        break;
    }
    // NOLINTEND(bugprone-branch-clone)
    if (const int err = socket.set_int_option(v6 ? IPPROTO_IPV6 : IPPROTO_IP,
                                              v6 ? IPV6_MTU_DISCOVER : IP_MTU_DISCOVER, value)) {
      die(v6 ? "IPV6_MTU_DISCOVER" : "IP_MTU_DISCOVER", err);
    }
  }
  if (o.strict_source) {
    // iputils' ping6 names the socket in its message.
    if (::bind(socket.fd(), source.sockaddr_ptr(), source.sockaddr_len()) != 0) {
      die(v6 ? "bind icmp socket" : "bind", errno);
    }
  } else if (socket.kind() == net::SocketKind::kDatagram && o.ident && *o.ident != 0) {
    // A ping socket's identifier is its local port.
    net::IpAddress any = v6 ? net::IpAddress::v6(in6addr_any) : net::IpAddress::v4({INADDR_ANY});
    any.set_port(*o.ident);
    if (::bind(socket.fd(), any.sockaddr_ptr(), any.sockaddr_len()) != 0) die("bind", errno);
  }
  if (v6) {
    socket.set_int_option(IPPROTO_IPV6, IPV6_RECVERR, 1);
    socket.set_int_option(IPPROTO_IPV6, IPV6_RECVHOPLIMIT, 1);
  } else {
    if (socket.set_int_option(SOL_IP, IP_RECVERR, 1) != 0) {
      warn("WARNING: your kernel is veeery old. No problems.");
    }
    if (!socket.is_raw() && socket.set_int_option(SOL_IP, IP_RECVTTL, 1) != 0) {
      warn(with_errno("WARNING: setsockopt(IP_RECVTTL)", errno));
    }
  }
  const int sndbuf = o.sndbuf != 0 ? o.sndbuf : sndbuf_estimate(o);
  socket.set_int_option(SOL_SOCKET, SO_SNDBUF, sndbuf);
  const int rcvbuf_wanted = sndbuf_estimate(o) * o.preload;
  socket.set_int_option(SOL_SOCKET, SO_RCVBUF, std::max(rcvbuf_wanted, 65536));
  int rcvbuf = 0;
  socklen_t len = sizeof rcvbuf;
  if (::getsockopt(socket.fd(), SOL_SOCKET, SO_RCVBUF, &rcvbuf, &len) == 0 &&
      rcvbuf < rcvbuf_wanted) {
    warn("WARNING: probably, rcvbuf is not enough to hold preload");
  }
  if (o.broadcast && socket.set_int_option(SOL_SOCKET, SO_BROADCAST, 1) != 0) {
    die("cannot set broadcasting", errno);
  }
  if (o.no_multicast_loop) {
    if (const int err = socket.set_int_option(v6 ? IPPROTO_IPV6 : IPPROTO_IP,
                                              v6 ? IPV6_MULTICAST_LOOP : IP_MULTICAST_LOOP, 0)) {
      die("cannot disable multicast loopback", err);
    }
  }
  if (o.ttl) {
    if (v6) {
      if (const int err = socket.set_int_option(IPPROTO_IPV6, IPV6_MULTICAST_HOPS, *o.ttl)) {
        die("can't set multicast hop limit", err);
      }
      if (const int err = socket.set_int_option(IPPROTO_IPV6, IPV6_UNICAST_HOPS, *o.ttl)) {
        die("can't set unicast hop limit", err);
      }
    } else {
      const unsigned char mttl = static_cast<unsigned char>(*o.ttl);
      if (const int err = socket.set_option(IPPROTO_IP, IP_MULTICAST_TTL, &mttl, sizeof mttl)) {
        die("cannot set multicast time-to-live", err);
      }
      if (const int err = socket.set_int_option(IPPROTO_IP, IP_TTL, *o.ttl)) {
        die("cannot set unicast time-to-live", err);
      }
    }
  }
  if (o.mark) {
    const net::ScopedCapability admin(CAP_NET_ADMIN);
    if (const int err = socket.set_option(SOL_SOCKET, SO_MARK, &*o.mark, sizeof *o.mark)) {
      warn(with_errno("WARNING: failed to set mark: " + std::to_string(*o.mark), err));
    }
  }
  // A stalled device must not block sendto() for ever (signals only arrive in ppoll()).
  const int send_timeout_ms = o.interval_ms < 1000 ? std::max(o.interval_ms, 10) : 1000;
  const timeval send_timeout{send_timeout_ms / 1000,
                             static_cast<suseconds_t>(send_timeout_ms % 1000) * 1000};
  socket.set_option(SOL_SOCKET, SO_SNDTIMEO, &send_timeout, sizeof send_timeout);
  if (o.so_debug) socket.set_int_option(SOL_SOCKET, SO_DEBUG, 1);
  if (o.so_dontroute) socket.set_int_option(SOL_SOCKET, SO_DONTROUTE, 1);
  if (o.connect_socket &&
      ::connect(socket.fd(), target.sockaddr_ptr(), target.sockaddr_len()) != 0) {
    die("connect", errno);
  }
}

int screen_width() {
  winsize w{};
  if (isatty(STDOUT_FILENO) != 0 && ioctl(STDOUT_FILENO, TIOCGWINSZ, &w) != -1 && w.ws_col > 0) {
    return w.ws_col;
  }
  return INT_MAX;
}

// 0.0.0.0 or ::, which iputils takes for "no source given".
bool is_unspecified(const net::IpAddress& a) {
  return a.is_v4() ? a.in4().s_addr == htonl(INADDR_ANY) : IN6_IS_ADDR_UNSPECIFIED(&a.in6());
}

int run_family(PingOptions& o, net::IcmpSocket& socket, const net::ResolvedTarget& resolved,
               correlate::CorrelatorConnection connection) {
  const bool v6 = socket.family() == AF_INET6;
  net::IpAddress target = resolved.address;
  target.set_port(0);
  const bool numeric_literal = net::IpAddress::parse(o.destination).has_value() ||
                               (!v6 && inet_aton(o.destination.c_str(), nullptr) != 0);
  const std::string hostname = numeric_literal ? o.destination : resolved.canonical_name;
  if (numeric_literal) o.numeric = true;
  net::AddressNamer namer(o.numeric);

  // ping6 first looks the device up by name (iputils' if_name2index()).
  const std::string device = o.device.value_or("");
  if (v6 && o.device && if_nametoindex(device.c_str()) == 0) die("unknown iface: " + device);
  // Source address: this family's -I ADDRESS binds it; else (also for 0.0.0.0 or ::) ask the
  // routing table, honouring -I DEVICE.
  net::IpAddress source;
  const std::string& given_source = v6 ? o.source_v6 : o.source_v4;
  if (const auto given = net::IpAddress::parse(given_source); given && !is_unspecified(*given)) {
    source = *given;
  } else {
    // As iputils: connect without SO_BROADCAST; refused (a broadcast address), -b allows it
    // with a warning on stderr (no "ping:" prefix) and a second connect.
    auto selection = net::select_source_address(target, device, false);
    if (selection.failed_at == "connect" && selection.error == EACCES) {
      if (!o.broadcast)
        die("Do you want to ping broadcast? Then -b. If not, check your local firewall rules");
      std::fflush(stdout);
      std::fputs("WARNING: pinging broadcast address\n", stderr);
      selection = net::select_source_address(target, device, true);
    }
    if (selection.error != 0) {
      if (selection.failed_at == "SO_BINDTODEVICE")
        die("SO_BINDTODEVICE " + device, selection.error);
      die(selection.failed_at, selection.error);
    }
    source = selection.source;
    if (o.device && !source.empty() && !net::address_on_device(source, device)) {
      warn("Warning: source address might be selected on device other than: " + device);
    }
  }
  const bool multicast = o.broadcast || target.is_multicast();
  const uid_t uid = getuid();
  if (multicast && uid != 0 && !v6) {
    if (o.interval_ms < 1000)
      die("broadcast ping with too short interval: " + std::to_string(o.interval_ms));
    if (o.pmtu != PmtuDiscovery::kDefault && o.pmtu != PmtuDiscovery::kDo)
      die("broadcast ping does not fragment");
  }

  configure_socket(socket, o, target, source, multicast);

  // Identifier: a raw socket chooses its own; a datagram socket's comes from the kernel.
  std::uint16_t ident = 0;
  if (socket.is_raw()) {
    ident = o.ident ? *o.ident : static_cast<std::uint16_t>(std::random_device{}() & 0xFFFF);
    socket.install_type_filter();
  }
  const bool want_tx_stamps = o.tx_timestamp == TxTimestampSource::kKernel || o.json;
  if (!o.user_latency && !socket.enable_timestamps(want_tx_stamps)) {
    warn("Warning: no SO_TIMESTAMP support, falling back to SIOCGSTAMP");
  }

  report::PingHeader header;
  header.hostname = hostname;
  header.family = socket.family();
  header.address_text = v6 ? namer.describe(target) : target.to_string();
  header.show_source = o.device.has_value() || o.strict_source;
  header.source_text = source.to_string();
  header.device = device;
  header.datalen = o.datalen;
  header.ip_packet_size = o.datalen + 8 + 20;
  header.socket_kind = socket.is_raw() ? "raw" : "dgram";

  // Corrections: from the correlator found at start, or (none found, none expected) one looked
  // for while replies come in; until one answers, ping is iputils' to the byte. Said once when
  // one was expected and is not there (on the host itself, or with no correlator anywhere,
  // nothing is said).
  const SystemClock clock;
  correlate::ToolCorrelator correlator(std::move(connection), o.correction, clock, warn);
  correlator.say_if_unavailable();
  if (o.require_correction && (!o.correction || !correlator.connected_at_start())) {
    die(!o.correction ? "--require-correction and --no-correction contradict each other"
        : correlator.host_namespace()
            ? "--require-correction: on the host itself there is nothing to correct"
            : "--require-correction: no correlator");
  }

  std::unique_ptr<report::PingSink> sink;
  if (o.json) {
    sink = std::make_unique<report::JsonPingSink>(stdout, stderr, o.quiet, g_program);
  } else {
    sink = std::make_unique<report::TextPingSink>(
        stdout, stderr,
        report::TextSinkOptions{o.quiet, o.flood, o.print_timestamps, o.audible, o.breakdown,
                                g_program});
  }
  sink->header(header);

  // iputils' setup(): checks that come after the header.
  if (o.flood && !o.interval_given) o.interval_ms = 0;
  if (uid != 0 && o.interval_ms < kMinUserIntervalMs) {
    die("cannot flood; minimal interval allowed for user is " + std::to_string(kMinUserIntervalMs) +
        "ms");
  }
  if (o.interval_ms >= INT_MAX / o.preload) {
    die("illegal preload and/or interval: " + std::to_string(o.interval_ms));
  }

  net::Capabilities::drop_all();

  SignalRunControl control;
  probe::EchoConfig echo;
  echo.destination = target;
  echo.ident = ident;
  echo.datalen = o.datalen;
  echo.payload = build_payload(o);
  echo.stamp_payload = o.datalen >= probe::kEchoTimestampLength;
  echo.user_latency = o.user_latency;
  echo.wait_sigmask = control.wait_mask();
  echo.max_in_flight = o.preload;
  probe::SocketEchoTransport transport(socket, std::move(echo), clock);

  SessionConfig config;
  config.hostname = hostname;
  config.count = o.count;
  config.interval_ms = o.interval_ms;
  config.preload = o.preload;
  config.linger_ms = o.linger_ms;
  config.deadline_s = o.deadline_s;
  config.flood = o.flood;
  config.adaptive = o.adaptive;
  config.outstanding = o.outstanding;
  config.quiet = o.quiet;
  config.multicast = multicast;
  config.verbose = o.verbose;
  config.timing = o.datalen >= probe::kEchoTimestampLength;
  config.datalen = o.datalen;
  config.percentiles = o.percentiles;
  config.tx_reference = o.tx_timestamp;
  config.non_root = uid != 0;
  config.screen_width = screen_width();
  config.overheads = correlator.overheads();
  if (const auto* overheads = correlator.overheads()) {
    config.correlator_connected = [overheads] { return overheads->connected_once(); };
  }
  PingSession session(config, transport, *sink, clock, namer, control);
  const int code = session.run();
  if (o.require_correction && code == 0 && session.corrected() < session.received()) {
    warn(std::to_string(session.received() - session.corrected()) + " of " +
         std::to_string(session.received()) + " replies were not corrected");
    return 1;
  }
  return code;
}

const char* family_name(int family) {
  return family == AF_INET ? "AF_INET" : family == AF_INET6 ? "AF_INET6" : "AF_UNSPEC";
}

int run(const std::vector<std::string>& args) {
  // The real user, NET_RAW/NET_ADMIN at most, and the correlator, in a safe order. Nothing is
  // sent or printed here.
  correlate::CorrelatorConnection correlator = correlate::settle_privileges_and_connect().finish();
  ParseResult parsed = parse_ping_options(args, getuid());
  for (const auto& w : parsed.warnings) warn(w);
  if (parsed.outcome == ParseOutcome::kPrintVersion) {
    std::printf("ping from mtool %s (iputils %s compatible)\n", kVersion, kIputilsCompat);
    return 0;
  }
  PingOptions& o = parsed.options;
  // Called as ping4 / ping6 (Debian ships both links): that family unless -4/-6 said otherwise.
  if (o.family == AF_UNSPEC && !args.empty() && (args[0].back() == '4' || args[0].back() == '6')) {
    o.family = args[0].back() == '4' ? AF_INET : AF_INET6;
  }
  if (o.pattern && !o.quiet && !o.json) {
    std::printf("PATTERN: 0x");
    for (const std::uint8_t byte : *o.pattern) std::printf("%02x", byte);
    std::printf("\n");
  }

  // Sockets first, while the capability to open them is still there, as iputils does.
  const bool force_raw_v4 = o.ident && *o.ident == 0;
  if (force_raw_v4 && o.family != AF_INET6 && o.verbose)
    warn("WARNING: ident 0 => forcing raw socket");
  std::optional<net::IcmpSocket> sock4;
  std::optional<net::IcmpSocket> sock6;
  if (o.family != AF_INET6)
    sock4 = open_socket(AF_INET, !force_raw_v4, o.family == AF_INET, o.verbose);
  if (o.family != AF_INET) sock6 = open_socket(AF_INET6, true, !sock4.has_value(), o.verbose);
  int family = o.family;
  if (family == AF_UNSPEC) {
    if (!sock4)
      family = AF_INET6;
    else if (!sock6)
      family = AF_INET;
  }
  if (o.verbose) {
    auto describe = [](const std::optional<net::IcmpSocket>& s) {
      return s ? std::to_string(s->fd()) + " (socktype: " + net::socket_kind_name(s->kind()) + ")"
               : std::string("-1 (socktype: 0)");
    };
    warn("sock4.fd: " + describe(sock4) + ", sock6.fd: " + describe(sock6) +
         ", hints.ai_family: " + family_name(family) + "\n");
  }
  if (o.tos != 0) {
    if (sock4) {
      if (const int err = sock4->set_int_option(IPPROTO_IP, IP_TOS, o.tos)) die("setsockopt", err);
    }
    if (sock6) {
      if (const int err = sock6->set_int_option(IPPROTO_IPV6, IPV6_TCLASS, o.tos))
        die("setsockopt", err);
    }
  }

  const auto targets = net::resolve_host(o.destination, family);
  for (const auto& target : targets) {
    if (o.verbose) {
      std::printf("ai->ai_family: %s, ai->ai_canonname: '%s'\n",
                  family_name(target.address.family()), target.canonical_name.c_str());
    }
    auto& socket = target.address.is_v4() ? sock4 : sock6;
    if (!socket) continue;
    return run_family(o, *socket, target, std::move(correlator));
  }
  die("unknown protocol family: " + std::to_string(family));
}

}  // namespace

int run_ping_command(const std::vector<std::string>& args) {
  if (!args.empty()) g_program = args.front();
  try {
    return run(args);
  } catch (const std::bad_alloc&) {
    warn("memory allocation failed");
    return kExitError;
  } catch (const FatalError& e) {
    std::fflush(stdout);
    if (e.what()[0] != '\0') warn(e.what());
    if (e.show_usage()) {
      // --help asks for it (exit 0, stdout, with mtool's options); errors get iputils' text.
      std::FILE* out = e.exit_code() == 0 ? stdout : stderr;
      std::fputs(ping_usage_text(), out);
      if (e.exit_code() == 0) std::fputs(ping_extra_usage_text(), out);
    }
    return e.exit_code();
  }
}

}  // namespace mtool::commands
