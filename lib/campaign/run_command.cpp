#include "campaign/run_command.h"

#include <sys/resource.h>
#include <unistd.h>

#include <boost/program_options.hpp>
#include <cerrno>
#include <csignal>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <iostream>
#include <iterator>
#include <sstream>

#include "campaign/campaign_runner.h"
#include "campaign/measurement_list.h"
#include "campaign/progress_line.h"
#include "campaign/run_schedule.h"
#include "correlate/tool_connection.h"
#include "ping/run_control.h"
#include "util/command_line.h"
#include "util/error.h"

namespace mtool::campaign {
namespace {

namespace po = boost::program_options;

constexpr int kExitUsage = 2;
constexpr std::size_t kMaxConcurrency = 4000;  // x 16 packets: within 65536 sequence numbers
constexpr std::size_t kFdsPerTrace = 20;       // up to 16 probe sockets, and some room

struct RunOptions {
  std::string list;
  std::string out;
  bool keep_going = false;
  bool validate_only = false;
  bool no_correction = false;
  RunnerOptions runner;
};

const char* kUsage =
    "usage: mtool run [options] LIST\n"
    "Runs RIPE Atlas measurement definitions (ping, traceroute) from this host and writes one\n"
    "Atlas result per line, with corrected RTTs when the correlator runs.\n"
    "LIST is an Atlas creation body ({\"definitions\": [...]}), a JSON array of definitions or\n"
    "JSON lines; '-' reads standard input.\n";

[[noreturn]] void usage_error(const std::string& text) { throw FatalError(text, kExitUsage); }

std::optional<RunOptions> parse(const std::vector<std::string>& args) {
  RunOptions o;
  std::uint32_t prb_id = 0;
  if (const char* env = std::getenv("MTOOL_PRB_ID")) {
    char* end = nullptr;
    const unsigned long value = std::strtoul(env, &end, 10);
    if (*env == '\0' || *end != '\0' || value > 0xFFFFFFFFUL) usage_error("MTOOL_PRB_ID is not a probe id: " + std::string(env));
    prb_id = static_cast<std::uint32_t>(value);
  }
  po::options_description described("Options");
  described.add_options()
      ("out,o", po::value<std::string>(&o.out), "write results to FILE (default: standard output)")
      ("keep-going", po::bool_switch(&o.keep_going), "run the valid definitions even if others are invalid")
      ("validate", po::bool_switch(&o.validate_only), "check the list, run nothing")
      ("pps", po::value<double>(&o.runner.probes_per_second)->default_value(100),
       "probes per second, campaign-wide")
      ("concurrency", po::value<std::size_t>(&o.runner.concurrency)->default_value(1000),
       "measurements in progress at once (1..4000)")
      ("prb-id", po::value<std::uint32_t>(&o.runner.prb_id)->default_value(prb_id),
       "this vantage point's probe id in results (default: $MTOOL_PRB_ID, else 0)")
      ("from", po::value<std::string>(&o.runner.from), "this vantage point's public address, for results' \"from\"")
      ("first-msm-id", po::value<std::uint32_t>(&o.runner.first_msm_id)->default_value(1000000),
       "msm_id of a definition without one: this plus its index in the list")
      ("breakdown", po::bool_switch(&o.runner.breakdown), "add the devices each reply crossed")
      ("no-correction", po::bool_switch(&o.no_correction), "do not ask the correlator")
      ("help,h", "show this help");
  SubcommandLine line;
  try {
    line = parse_subcommand_line(args, described);
  } catch (const po::error& e) {
    usage_error(e.what());
  }
  o.list = line.positional.value_or("");
  if (line.options.count("help") != 0) {
    std::cout << kUsage << '\n' << described;
    return std::nullopt;
  }
  if (o.list.empty()) usage_error("no measurement list given (see mtool run --help)");
  if (!(o.runner.probes_per_second >= 1 && o.runner.probes_per_second <= 1e6))
    usage_error("--pps must be between 1 and 1000000");
  if (o.runner.concurrency < 1 || o.runner.concurrency > kMaxConcurrency)
    usage_error("--concurrency must be between 1 and " + std::to_string(kMaxConcurrency));
  o.runner.burst = static_cast<unsigned>(std::clamp(o.runner.probes_per_second / 100, 1.0, 100.0));
  return o;
}

std::string read_list(const std::string& path) {
  if (path == "-") {
    return {std::istreambuf_iterator<char>(std::cin), std::istreambuf_iterator<char>()};
  }
  std::ifstream in(path, std::ios::binary);
  if (!in) usage_error("cannot read " + path + ": " + std::strerror(errno));
  std::ostringstream text;
  text << in.rdbuf();
  if (in.bad()) usage_error("cannot read " + path + ": " + std::strerror(errno));
  return text.str();
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
  // is connected in a safe order around that).
  correlate::PendingCorrelator pending = correlate::settle_privileges_and_connect();

  auto options = parse(args);
  if (!options) return 0;
  RunOptions& o = *options;

  const MeasurementList list = parse_measurement_list(read_list(o.list));
  for (const auto& problem : list.problems) std::fprintf(stderr, "mtool run: %s\n", problem.text.c_str());
  if (list.definitions.empty()) {
    if (list.problems.empty()) std::fprintf(stderr, "mtool run: %s has no definitions\n", o.list.c_str());
    return kExitUsage;
  }
  if (!list.problems.empty() && !o.keep_going) {
    std::fprintf(stderr, "mtool run: %zu of %zu definitions are invalid; nothing was run (--keep-going runs the rest)\n",
                 list.problems.size(), list.total);
    return kExitUsage;
  }
  if (o.validate_only) {
    std::fprintf(stderr, "mtool run: %zu definitions are valid\n", list.definitions.size());
    return list.problems.empty() ? 0 : 1;
  }

  // A periodic definition whose stop_time has passed has nothing left to run: say so.
  const std::int64_t now_s = SystemClock().wall_now() / kNsPerSec;
  for (const auto& d : list.definitions) {
    if (!first_run_at(d.schedule, now_s)) {
      std::fprintf(stderr, "mtool run: definition %zu: stop_time %lld has passed; it does not run\n",
                   d.index, static_cast<long long>(*d.schedule.stop_time));
    }
  }

  correlate::CorrelatorConnection correlator = pending.finish();
  if (!o.no_correction) o.runner.overheads = correlator.source.get();
  if (const auto notice = correlate::unavailable_notice(correlator); !o.no_correction && notice) {
    std::fprintf(stderr, "mtool run: %s\n", notice->c_str());
  }
  o.runner.trace_concurrency = std::min(o.runner.concurrency, trace_slots());

  ping::SignalRunControl control({SIGINT, SIGTERM});
  o.runner.wait_sigmask = control.wait_mask();
  o.runner.stop_requested = [&control] { return control.exit_requested(); };

  LineWriter writer(o.out);
  const SystemClock clock;
  CampaignRunner runner(list.definitions, o.runner,
                        [&writer](const nlohmann::json& result) { writer.write(result); }, clock);
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
    std::fprintf(stderr,
                 "mtool run: stopped by %s: %zu results written; %zu in progress and %zu not started "
                 "were not\n",
                 sigabbrev_np(signo) != nullptr ? (std::string("SIG") + sigabbrev_np(signo)).c_str() : "a signal",
                 totals.results, totals.abandoned, totals.not_started);
    return 128 + signo;
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

}  // namespace mtool::campaign
