#include "commands/correlator_command.h"

#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include <boost/program_options.hpp>
#include <cerrno>
#include <cstdio>
#include <cstring>
#include <iostream>

#include "correlator/correlator_daemon.h"
#include "correlator/correlator_metrics.h"
#include "correlator_abi.h"
#include "metrics/exporter_module.h"
#include "metrics/listen_address.h"
#include "util/command_line.h"
#include "util/error.h"
#include "util/fd.h"

namespace po = boost::program_options;

namespace mtool::commands {
namespace {

using correlator::DaemonOptions;
using correlator::run_daemon;

constexpr int kExitFailure = 1;
constexpr int kExitUsage = 2;

const char* const kUsage =
    "Usage: mtool correlator [options]        run the host correlator (foreground)\n"
    "       mtool correlator status [options] print a running correlator's counters\n";

UniqueFd connect_to(const std::string& path, int& err) {
  UniqueFd fd(::socket(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0));
  sockaddr_un address{};
  address.sun_family = AF_UNIX;
  if (!fd || path.size() >= sizeof(address.sun_path)) {
    err = fd ? ENAMETOOLONG : errno;
    return {};
  }
  std::memcpy(address.sun_path, path.c_str(), path.size() + 1);
  if (::connect(fd.get(), reinterpret_cast<sockaddr*>(&address), sizeof address) != 0) {
    err = errno;
    return {};
  }
  const timeval timeout{2, 0};
  setsockopt(fd.get(), SOL_SOCKET, SO_RCVTIMEO, &timeout, sizeof timeout);
  return fd;
}

int status(const std::string& socket_path) {
  int err = 0;
  UniqueFd fd = connect_to(socket_path, err);
  mtool_query query{};
  query.version = MTOOL_ABI_VERSION;
  query.kind = MTOOL_QUERY_STATUS;
  mtool_answer answer{};
  if (!fd || ::send(fd.get(), &query, sizeof query, MSG_NOSIGNAL) != sizeof query ||
      ::recv(fd.get(), &answer, sizeof answer, 0) != sizeof answer) {
    if (err == 0) err = errno;
    std::fprintf(stderr, "mtool correlator: not running (%s: %s)\n", socket_path.c_str(),
                 std::strerror(err));
    return kExitFailure;
  }
  std::string text(std::size_t{64} * 1024, '\0');
  const ssize_t n = ::recv(fd.get(), text.data(), text.size(), 0);
  if (n <= 0) {
    std::fprintf(stderr, "mtool correlator: no status from %s\n", socket_path.c_str());
    return kExitFailure;
  }
  std::fwrite(text.data(), 1, static_cast<std::size_t>(n), stdout);
  return 0;
}

}  // namespace

int run_correlator_command(const std::vector<std::string>& args) {
  DaemonOptions options;
  unsigned idle_timeout_s = 300;
  bool no_listeners = false;
  std::string metrics;
  const std::string metrics_help =
      "serve Prometheus metrics on http://ADDR:PORT/metrics (an IP address of this host, e.g. "
      "127.0.0.1:9462, IPv4 only: Debian's civetweb has no IPv6; port 1024 or above; off by "
      "default): the counters, the "
      "maps' fill, and per measuring network namespace histograms of egress and ingress "
      "overhead and wire RTT, kept in the kernel (about 70 ns per record, nothing per other "
      "packet), labelled netns, container_id and pod_uid from the cgroup of a process in it "
      "(the sender of its probes first). Series are bounded: 3 histograms per namespace, at "
      "most " +
      std::to_string(MTOOL_HISTOGRAM_NAMESPACES) +
      " namespaces (more are counted in mtool_correlator_histograms_full_total), removed once "
      "the namespace is gone";
  po::options_description described("Options");
  described.add_options()("help,h", "print this help")(
      "uplink", po::value<std::vector<std::string>>(&options.uplinks)->composing(),
      "host uplink interface (repeatable; default: the devices of the default routes, followed as "
      "they change)")(
      "pin-dir", po::value<std::string>(&options.pin_dir)->default_value(MTOOL_PIN_DIR_DEFAULT),
      "bpffs directory for the shared maps")(
      "socket", po::value<std::string>(&options.socket_path)->default_value(MTOOL_SOCKET_DEFAULT),
      "Unix socket answering containers that cannot read the maps")(
      "stats", po::bool_switch(&options.enable_stats),
      "measure the programs' run time while running (what kernel.bpf_stats_enabled=1 does): "
      "shown by status and, with --metrics, as mtool_correlator_program_run_seconds_total and "
      "_runs_total; it adds about 80 ns to every run of every BPF program on the host (as much "
      "as the correlator's own, see bench/correlator_cost.sh), so --metrics does not turn it on")(
      "namespace-probe-rate",
      po::value<std::uint32_t>(&options.namespace_probe_rate)
          ->default_value(MTOOL_NAMESPACE_PROBE_RATE_DEFAULT),
      "probes per second followed for each network namespace (bursts of "
      "1000 allowed); more are not corrected, so one tenant cannot crowd out the others")(
      "max-connections-per-namespace",
      po::value<std::size_t>(&options.limits.per_namespace)
          ->default_value(options.limits.per_namespace),
      "socket connections one network namespace may hold")(
      "max-connections-per-process",
      po::value<std::size_t>(&options.limits.per_process)
          ->default_value(options.limits.per_process),
      "socket connections one process may hold")(
      "idle-timeout", po::value<unsigned>(&idle_timeout_s)->default_value(300),
      "close socket connections idle for this many seconds")(
      "no-namespace-listeners", po::bool_switch(&no_listeners),
      "do not listen inside containers' network namespaces (on the abstract "
      "name " MTOOL_SOCKET_ABSTRACT_NAME
      "); then only tools with the socket mounted get corrections")(
      "follow-host-probes", po::bool_switch(&options.follow_host_probes),
      "for tests and benchmarks: also follow the host's own probes (uplink to uplink), so a "
      "tool run on the host reports the wire time its container twin is compared with")(
      "metrics", po::value<std::string>(&metrics)->value_name("ADDR:PORT"), metrics_help.c_str())(
      "metrics-buckets-per-octave",
      po::value<unsigned>(&options.metrics_buckets_per_octave)->default_value(2),
      "histogram buckets per power of two: 1, 2 or 4 (27, 53 or 105 bounds from 256 ns to "
      "17.2 s, and +Inf)");
  SubcommandLine line;
  try {
    line = parse_subcommand_line(args, described);
  } catch (const po::error& e) {
    std::fprintf(stderr, "mtool correlator: %s\n%s", e.what(), kUsage);
    return kExitUsage;
  }
  if (line.options.count("help") != 0) {
    std::cout << kUsage << described;
    return 0;
  }
  if (options.namespace_probe_rate == 0 || options.limits.per_namespace == 0 ||
      options.limits.per_process == 0 || idle_timeout_s == 0) {
    std::fprintf(stderr, "mtool correlator: rates, limits and timeouts must be at least 1\n%s",
                 kUsage);
    return kExitUsage;
  }
  if (line.options.count("metrics") != 0) {
    std::string why;
    options.metrics_address = metrics::parse_listen_address(metrics, why);
    if (!options.metrics_address) {
      std::fprintf(stderr, "mtool correlator: --metrics %s: %s\n%s", metrics.c_str(), why.c_str(),
                   kUsage);
      return kExitUsage;
    }
  }
  const unsigned per_octave = options.metrics_buckets_per_octave;
  if (per_octave != 1 && per_octave != 2 && per_octave != 4) {
    std::fprintf(stderr, "mtool correlator: --metrics-buckets-per-octave must be 1, 2 or 4\n%s",
                 kUsage);
    return kExitUsage;
  }
  options.limits.idle_timeout = std::chrono::seconds{idle_timeout_s};
  options.namespace_listeners = !no_listeners;
  const std::string command = line.positional.value_or("run");
  try {
    if (command == "status") return status(options.socket_path);
    if (command != "run") {
      std::fprintf(stderr, "mtool correlator: unknown command '%s'\n%s", command.c_str(), kUsage);
      return kExitUsage;
    }
    // A missing or mismatched exporter module is said before anything is loaded.
    if (options.metrics_address) metrics::exporter_module();
    int err = 0;
    if (connect_to(options.socket_path, err)) {
      std::fprintf(stderr, "mtool correlator: already running (answering on %s)\n",
                   options.socket_path.c_str());
      return kExitFailure;
    }
    return run_daemon(options);
  } catch (const FatalError& e) {
    std::fprintf(stderr, "mtool correlator: %s\n", e.what());
    return e.exit_code();
  }
}

}  // namespace mtool::commands
