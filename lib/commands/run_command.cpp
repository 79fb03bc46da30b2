#include "commands/run_command.h"

#include <fcntl.h>
#include <poll.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <unistd.h>

#include <boost/program_options.hpp>
#include <cerrno>
#include <csignal>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <iostream>
#include <vector>

#include "campaign/campaign_runner.h"
#include "campaign/measurement_list.h"
#include "campaign/progress_line.h"
#include "campaign/run_metrics.h"
#include "campaign/run_schedule.h"
#include "correlate/tool_connection.h"
#include "metrics/bucket_layout.h"
#include "metrics/exporter_module.h"
#include "metrics/labels.h"
#include "metrics/listen_address.h"
#include "metrics/metrics_server.h"
#include "net/capabilities.h"
#include "util/command_line.h"
#include "util/error.h"
#include "util/fd.h"
#include "util/printable.h"
#include "util/run_control.h"

namespace mtool::commands {
namespace {

using campaign::CampaignRunner;
using campaign::MeasurementDefinition;
using campaign::MeasurementList;
using campaign::MeasurementType;
using campaign::parse_measurement_list;
using campaign::RunMetrics;
using campaign::RunMetricsOptions;
using campaign::RunnerOptions;
using campaign::RunnerProgress;
using campaign::RunnerTotals;
using campaign::TraceProtocol;

namespace po = boost::program_options;

constexpr int kExitUsage = 2;
constexpr std::size_t kMaxConcurrency = 4000;  // x 16 packets: within 65536 sequence numbers
constexpr std::size_t kFdsPerTrace = 20;       // up to 16 probe sockets, and some room
// The largest list read, in MiB: about 100,000 definitions; parsing takes up to ~15 times as
// much memory. --max-list-size changes it.
constexpr std::size_t kDefaultMaxListMiB = 16;
constexpr std::size_t kMaxMaxListMiB = 4096;

// --metrics and what shapes its series.
struct MetricsOptions {
  std::optional<metrics::ListenAddress> listen;  // none: no metrics
  RunMetricsOptions series;
};

struct RunOptions {
  std::string list;
  std::string out;
  std::size_t max_list_mib = kDefaultMaxListMiB;
  bool keep_going = false;
  bool validate_only = false;
  bool no_correction = false;
  RunnerOptions runner;
  MetricsOptions metrics;
};

const char* kUsage =
    "usage: mtool run [options] LIST\n"
    "Runs RIPE Atlas measurement definitions (ping, traceroute) from this host and writes one\n"
    "Atlas result per line, with corrected RTTs when the correlator runs.\n"
    "LIST is an Atlas creation body ({\"definitions\": [...]}), a JSON array of definitions or\n"
    "JSON lines; '-' reads standard input.\n";

const char* kMetricsHelp =
    "\nWith --metrics, every measurement is also a set of Prometheus series "
    "(mtool_probe_rtt_seconds\n"
    "and mtool_probe_corrected_rtt_seconds histograms, mtool_results_total,\n"
    "mtool_probes_sent_total, mtool_probe_replies_total, mtool_probe_duplicates_total,\n"
    "mtool_probe_errors_total{kind}, mtool_probe_success, mtool_traceroute_hops,\n"
    "mtool_traceroute_hop_replies_total{hop}), labelled\n"
    "msm_id, type, target, af and the --label labels, served at http://ADDR:PORT/metrics for as\n"
    "long as mtool run runs: after the last measurement it keeps serving until SIGTERM or SIGINT\n"
    "(then exits 0), so the last results are scraped. A periodic list runs until stopped.\n"
    "Series are bounded: each measurement reserves the most it can make (2 x (buckets + 3) + 8;\n"
    "a traceroute 1 more and one per hop from first_hop to max_hops), in list order, up to\n"
    "--metrics-max-series; measurements past the bound get no series (said at start and in\n"
    "mtool_metrics_unexported_measurements) and still have their results written.\n";

[[noreturn]] void usage_error(const std::string& text) { throw FatalError(text, kExitUsage); }

// A decimal 32-bit unsigned id: digits only (no sign, no space), at most 4294967295.
std::optional<std::uint32_t> parse_id(const std::string& text) {
  if (text.empty() || text.size() > 10 ||
      text.find_first_not_of("0123456789") != std::string::npos) {
    return std::nullopt;
  }
  const unsigned long long value = std::stoull(text);
  if (value > 0xFFFFFFFFULL) return std::nullopt;
  return static_cast<std::uint32_t>(value);
}

// --metrics and its companions, checked; each of those without --metrics is refused, not ignored.
void parse_metrics_options(const po::variables_map& given, const std::string& listen,
                           const std::vector<std::string>& labels, const std::string& buckets,
                           MetricsOptions& out) {
  std::string error;
  if (given.count("metrics") == 0) {
    for (const char* companion : {"label", "metrics-buckets", "metrics-max-series"}) {
      if (given.count(companion) != 0 && !given[companion].defaulted())
        usage_error(std::string("--") + companion + " needs --metrics");
    }
    return;
  }
  out.listen = metrics::parse_listen_address(listen, error);
  if (!out.listen) usage_error("--metrics " + printable(listen) + ": " + error);
  metrics::exporter_module();  // missing or mismatched: said now, before anything is measured
  for (const std::string& label : labels) {
    if (!metrics::add_label(label, RunMetrics::kOwnLabels, out.series.vantage, error))
      usage_error("--label " + printable(label) + ": " + error);
  }
  auto bounds = metrics::parse_buckets(buckets, error);
  if (!bounds) usage_error("--metrics-buckets " + error);
  out.series.buckets = std::move(*bounds);
  if (out.series.max_series < 1) usage_error("--metrics-max-series must be at least 1");
}

std::optional<RunOptions> parse(const std::vector<std::string>& args) {
  RunOptions o;
  std::uint32_t prb_id = 0;
  if (const char* env = std::getenv("MTOOL_PRB_ID")) {
    const auto value = parse_id(env);
    if (!value) usage_error("MTOOL_PRB_ID is not a probe id: " + printable(env));
    prb_id = *value;
  }
  std::string prb_id_text;
  std::string first_msm_id_text;
  po::options_description described("Options");
  described.add_options()("out,o", po::value<std::string>(&o.out),
                          "write results to FILE (default: standard output)")(
      "keep-going", po::bool_switch(&o.keep_going),
      "run the valid definitions even if others are invalid")(
      "validate", po::bool_switch(&o.validate_only), "check the list, run nothing")(
      "pps", po::value<double>(&o.runner.probes_per_second)->default_value(100),
      "probes per second, campaign-wide")(
      "concurrency", po::value<std::size_t>(&o.runner.concurrency)->default_value(1000),
      "measurements in progress at once (1..4000)")(
      "prb-id", po::value<std::string>(&prb_id_text),
      "this vantage point's probe id in results (default: $MTOOL_PRB_ID, else 0)")(
      "from", po::value<std::string>(&o.runner.from),
      "this vantage point's public address, for results' \"from\"")(
      "first-msm-id", po::value<std::string>(&first_msm_id_text)->default_value("1000000"),
      "msm_id of a definition without one: this plus its index in the list")(
      "max-list-size", po::value<std::size_t>(&o.max_list_mib)->default_value(kDefaultMaxListMiB),
      "refuse a list larger than this many MiB (1..4096)")(
      "breakdown", po::bool_switch(&o.runner.breakdown), "add the devices each reply crossed")(
      "no-correction", po::bool_switch(&o.no_correction), "do not ask the correlator")(
      "help,h", "show this help");
  std::string metrics_listen;
  std::vector<std::string> labels;
  std::string buckets;
  po::options_description metrics_described("Prometheus metrics (off by default)");
  metrics_described.add_options()(
      "metrics", po::value<std::string>(&metrics_listen)->value_name("ADDR:PORT"),
      "serve metrics on this IPv4 address and port only (port 0: any free one, said on stderr)")(
      "label", po::value<std::vector<std::string>>(&labels)->value_name("NAME=VALUE"),
      "add this label to every series (repeatable; this vantage point's, e.g. node=a1)")(
      "metrics-buckets",
      po::value<std::string>(&buckets)->value_name("SPEC")->default_value(metrics::kDefaultBuckets),
      "RTT histogram bounds: LOW:HIGH:N (N per decade, log scale) or B1,B2,... (50us,1ms,1s)")(
      "metrics-max-series",
      po::value<std::size_t>(&o.metrics.series.max_series)
          ->value_name("N")
          ->default_value(o.metrics.series.max_series),
      "export measurements, in list order, while their series fit in N");
  described.add(metrics_described);
  SubcommandLine line;
  try {
    line = parse_subcommand_line(args, described);
  } catch (const po::error& e) {
    usage_error(e.what());
  }
  o.list = line.positional.value_or("");
  if (line.options.count("help") != 0) {
    std::cout << kUsage << '\n' << described << kMetricsHelp;
    return std::nullopt;
  }
  if (o.list.empty()) usage_error("no measurement list given (see mtool run --help)");
  if (line.options.count("prb-id") != 0) {
    const auto value = parse_id(prb_id_text);
    if (!value) usage_error("--prb-id is not a probe id: " + printable(prb_id_text));
    prb_id = *value;
  }
  o.runner.prb_id = prb_id;
  const auto first_msm_id = parse_id(first_msm_id_text);
  if (!first_msm_id)
    usage_error("--first-msm-id is not a measurement id: " + printable(first_msm_id_text));
  o.runner.first_msm_id = *first_msm_id;
  if (o.max_list_mib < 1 || o.max_list_mib > kMaxMaxListMiB)
    usage_error("--max-list-size must be between 1 and " + std::to_string(kMaxMaxListMiB) +
                " (MiB)");
  if (!(o.runner.probes_per_second >= 1 && o.runner.probes_per_second <= 1e6))
    usage_error("--pps must be between 1 and 1000000");
  if (o.runner.concurrency < 1 || o.runner.concurrency > kMaxConcurrency)
    usage_error("--concurrency must be between 1 and " + std::to_string(kMaxConcurrency));
  o.runner.burst = static_cast<unsigned>(std::clamp(o.runner.probes_per_second / 100, 1.0, 100.0));
  parse_metrics_options(line.options, metrics_listen, labels, buckets, o.metrics);
  o.metrics.series.first_msm_id = o.runner.first_msm_id;
  return o;
}

// The whole list, read piece by piece and refused as soon as it passes `max_mib` MiB (an endless
// or huge input must not take all memory).
std::string read_list(const std::string& path, std::size_t max_mib) {
  const std::string name = path == "-" ? "standard input" : printable(path);
  UniqueFd opened;
  int fd = STDIN_FILENO;
  if (path != "-") {
    opened = UniqueFd(::open(path.c_str(), O_RDONLY | O_CLOEXEC));
    if (!opened) usage_error("cannot read " + name + ": " + std::strerror(errno));
    fd = opened.get();
  }
  struct stat st {};
  if (::fstat(fd, &st) == 0 && S_ISDIR(st.st_mode))
    usage_error(name + " is a directory, not a measurement list");
  const std::size_t max_bytes = max_mib << 20;
  std::string text;
  std::vector<char> buffer(1 << 16);
  for (;;) {
    const ssize_t n = ::read(fd, buffer.data(), buffer.size());
    if (n < 0) {
      if (errno == EINTR) continue;
      usage_error("cannot read " + name + ": " + std::strerror(errno));
    }
    if (n == 0) break;
    if (static_cast<std::size_t>(n) > max_bytes - text.size()) {
      usage_error(name + " is larger than " + std::to_string(max_mib) + " MiB (--max-list-size)");
    }
    text.append(buffer.data(), static_cast<std::size_t>(n));
  }
  return text;
}

// Traceroutes hold sockets: fit their number to the descriptors this process may open.
std::size_t trace_slots() {
  rlimit limit{};
  if (getrlimit(RLIMIT_NOFILE, &limit) == 0 && limit.rlim_cur < limit.rlim_max) {
    limit.rlim_cur = std::min<rlim_t>(limit.rlim_max, 65536);
    setrlimit(RLIMIT_NOFILE, &limit);
    getrlimit(RLIMIT_NOFILE, &limit);
  }
  const rlim_t usable = limit.rlim_cur > 64 ? limit.rlim_cur - 64 : 0;
  return std::clamp<std::size_t>(static_cast<std::size_t>(usable / kFdsPerTrace), 1, 64);
}

// Writes each result as one line and flushes it: a result on disk is never lost to a later
// crash or signal.
class LineWriter {
 public:
  explicit LineWriter(const std::string& path) {
    if (path.empty() || path == "-") {
      out_ = stdout;
    } else {
      out_ = std::fopen(path.c_str(), "w");
      if (out_ == nullptr) usage_error("cannot write " + path + ": " + std::strerror(errno));
      owned_ = true;
    }
  }
  ~LineWriter() {
    if (owned_) std::fclose(out_);
  }
  LineWriter(const LineWriter&) = delete;
  LineWriter& operator=(const LineWriter&) = delete;

  void write(const nlohmann::json& result) {
    const std::string line = result.dump() + "\n";
    if (std::fwrite(line.data(), 1, line.size(), out_) != line.size() || std::fflush(out_) != 0) {
      throw FatalError(std::string("cannot write results: ") + std::strerror(errno), 1);
    }
  }

 private:
  std::FILE* out_ = nullptr;
  bool owned_ = false;
};

int run(const std::vector<std::string>& args) {
  // Sockets for pings and traces may need CAP_NET_RAW; nothing else is kept (the correlator
  // is connected in a safe order around that, and the runner drops what later runs do not
  // need once the shared sockets are open).
  correlate::PendingCorrelator pending = correlate::settle_privileges_and_connect();

  auto options = parse(args);
  if (!options) return 0;
  RunOptions& o = *options;

  MeasurementList list = parse_measurement_list(read_list(o.list, o.max_list_mib));
  // Assigned msm_ids (the first plus the index) must not wrap around.
  for (const auto& d : list.definitions) {
    if (!d.msm_id && d.index > 0xFFFFFFFFULL - o.runner.first_msm_id) {
      usage_error("--first-msm-id " + std::to_string(o.runner.first_msm_id) +
                  " leaves no room for definition " + std::to_string(d.index) +
                  " (msm_ids end at 4294967295)");
    }
  }
  // A TCP traceroute sends through a raw socket: without CAP_NET_RAW it could only fail, so it
  // is refused up front like any other definition mtool cannot run.
  if (!o.validate_only && !net::Capabilities::permitted(CAP_NET_RAW)) {
    std::erase_if(list.definitions, [&list](const MeasurementDefinition& d) {
      if (d.type != MeasurementType::kTraceroute || d.traceroute.protocol != TraceProtocol::kTcp)
        return false;
      list.problems.push_back(
          {"definition " + std::to_string(d.index) +
           ": field 'protocol': TCP needs a raw socket (CAP_NET_RAW), which mtool run does "
           "not have"});
      return true;
    });
  }
  for (const auto& problem : list.problems)
    std::fprintf(stderr, "mtool run: %s\n", problem.text.c_str());
  if (list.definitions.empty()) {
    if (list.problems.empty())
      std::fprintf(stderr, "mtool run: %s has no definitions\n", printable(o.list).c_str());
    return kExitUsage;
  }
  if (!list.problems.empty() && !o.keep_going) {
    std::fprintf(stderr,
                 "mtool run: %zu of %zu definitions are invalid; nothing was run (--keep-going "
                 "runs the rest)\n",
                 list.problems.size(), list.total);
    return kExitUsage;
  }
  if (o.validate_only) {
    std::fprintf(stderr, "mtool run: %zu definitions are valid\n", list.definitions.size());
    return list.problems.empty() ? 0 : 1;
  }

  // A periodic definition whose stop_time has passed has nothing left to run: say so.
  const std::int64_t now_s = unix_seconds(SystemClock().wall_now());
  for (const auto& d : list.definitions) {
    if (!first_run_at(d.schedule, now_s)) {
      std::fprintf(stderr,
                   "mtool run: definition %zu: stop_time %lld has passed; it does not run\n",
                   d.index, static_cast<long long>(*d.schedule.stop_time));
    }
  }

  // The correlator found at start, or (none found, none expected) one looked for while replies
  // come in.
  const SystemClock clock;
  const auto say = [](const std::string& line) {
    std::fprintf(stderr, "mtool run: %s\n", line.c_str());
  };
  correlate::ToolCorrelator correlator(pending.finish(), !o.no_correction, clock, say);
  correlator.say_if_unavailable();
  o.runner.overheads = correlator.overheads();
  o.runner.trace_concurrency = std::min(o.runner.concurrency, trace_slots());
  o.runner.drop_capabilities = true;

  SignalRunControl control({SIGINT, SIGTERM});
  o.runner.wait_sigmask = control.wait_mask();
  o.runner.stop_requested = [&control] { return control.exit_requested(); };

  LineWriter writer(o.out);
  // --metrics: the series of every measurement, recorded as results are written; the server
  // starts once the runner has dropped its privileges (its threads begin with none).
  std::shared_ptr<RunMetrics> run_metrics;
  std::unique_ptr<metrics::MetricsServer> server;
  if (o.metrics.listen) {
    run_metrics = std::make_shared<RunMetrics>(list.definitions, o.metrics.series);
    if (run_metrics->unexported() != 0) {
      std::fprintf(stderr,
                   "mtool run: --metrics: %zu of %zu measurements have series (%zu of "
                   "--metrics-max-series %zu); the other %zu only results\n",
                   run_metrics->exported(), list.definitions.size(), run_metrics->reserved_series(),
                   o.metrics.series.max_series, run_metrics->unexported());
    }
    o.runner.observer = run_metrics.get();
    o.runner.on_start = [&] {
      server = std::make_unique<metrics::MetricsServer>(*o.metrics.listen, run_metrics);
      std::fprintf(stderr, "mtool run: serving metrics on %s\n", server->url().c_str());
    };
  }
  CampaignRunner runner(
      list.definitions, o.runner, [&writer](const nlohmann::json& result) { writer.write(result); },
      clock);
  const bool terminal = isatty(STDERR_FILENO) != 0;
  if (terminal) {
    runner.observe([](const RunnerProgress& p) {
      std::fprintf(stderr, "\rmtool run: %s\033[K", progress_line(p).c_str());
    });
  }
  const RunnerTotals totals = runner.run();
  if (terminal) std::fputc('\n', stderr);

  if (totals.stopped) {
    const int signo = control.exit_signal();
    std::fprintf(
        stderr,
        "mtool run: stopped by %s: %zu results written; %zu in progress and %zu not started "
        "were not\n",
        sigabbrev_np(signo) != nullptr ? (std::string("SIG") + sigabbrev_np(signo)).c_str()
                                       : "a signal",
        totals.results, totals.abandoned, totals.not_started);
    return 128 + signo;
  }
  if (server) {
    // The last results stay scrapeable until the orchestrator stops us.
    std::fprintf(stderr, "mtool run: all measurements done; serving metrics until SIGTERM\n");
    while (!control.exit_requested()) ::ppoll(nullptr, 0, nullptr, control.wait_mask());
  }
  return list.problems.empty() ? 0 : 1;
}

}  // namespace

int run_campaign_command(const std::vector<std::string>& args) {
  try {
    return run(args);
  } catch (const FatalError& e) {
    std::fflush(stdout);
    std::fprintf(stderr, "mtool run: %s\n", e.what());
    return e.exit_code();
  } catch (const std::bad_alloc&) {
    std::fputs("mtool run: out of memory\n", stderr);
    return 1;
  }
}

}  // namespace mtool::commands
