#include "correlator/correlator_daemon.h"

#include <bpf/bpf.h>
#include <signal.h>
#include <sys/epoll.h>
#include <sys/resource.h>
#include <sys/signalfd.h>
#include <sys/stat.h>
#include <sys/timerfd.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cinttypes>
#include <cstdio>
#include <fstream>
#include <mutex>
#include <sstream>

#include "correlator/correlator_metrics.h"
#include "correlator/daemon_figures.h"
#include "correlator/kernel_programs.h"
#include "correlator/namespace_histograms.h"
#include "correlator/namespace_listeners.h"
#include "correlator/query_server.h"
#include "correlator/uplink_tracker.h"
#include "net/capabilities.h"
#include "net/netns_cookie.h"
#include "util/clock.h"
#include "util/error.h"
#include "util/fd.h"

namespace mtool::correlator {
namespace {

constexpr int kExitFailure = 1;
constexpr Nanos kScanEvery = std::chrono::seconds{1};
constexpr Nanos kFastScanEvery = std::chrono::milliseconds{50};
constexpr Nanos kFastScanFor = std::chrono::seconds{3};

void log_line(const std::string& text) {
  std::fprintf(stderr, "mtool correlator: %s\n", text.c_str());
  std::fflush(stderr);
}

std::string describe(const std::vector<Uplink>& uplinks) {
  if (uplinks.empty()) return "none";
  std::string out;
  for (const auto& u : uplinks) {
    if (!out.empty()) out += ", ";
    out += (u.name.empty() ? "?" : u.name) + " (" + std::to_string(u.ifindex) + ")";
  }
  return out;
}

bool stats_sysctl_on() {
  std::ifstream f("/proc/sys/kernel/bpf_stats_enabled");
  int v = 0;
  return (f >> v) && v != 0;
}

const char* const kCounterNames[MTOOL_CTR_COUNT] = {
    "egress started",    "egress completed",    "replies matched",        "records written",
    "unmatched replies", "stale flights",       "crossings not recorded", "map full",
    "slot collisions",   "over namespace rate", "over namespace quota",   "foreign crossings",
    "histograms full"};

// The signals the loop reads from its signalfd. Blocked before any thread starts (the metrics'
// exposer has its own), so that none of them can take one and end the process.
sigset_t loop_signals() {
  sigset_t mask;
  sigemptyset(&mask);
  sigaddset(&mask, SIGTERM);
  sigaddset(&mask, SIGINT);
  sigaddset(&mask, SIGPIPE);
  return mask;
}

// The initial pid namespace has a fixed inode number (PROC_PID_INIT_INO). Only there are the
// pids the programs record (in that namespace) the ones our socket's peers show.
bool in_initial_pid_namespace() {
  struct stat st {};
  return stat("/proc/self/ns/pid", &st) == 0 && st.st_ino == 0xEFFFFFFCU;
}

// As many descriptors as the hard limit allows (systemd's soft default is 1,024), and the
// connection total to match, with room for the daemon's own descriptors.
std::size_t raise_descriptor_limit(std::size_t wanted) {
  constexpr rlim_t kOwnDescriptors = 64;
  rlimit limit{};
  if (getrlimit(RLIMIT_NOFILE, &limit) != 0) return 0;
  limit.rlim_cur = limit.rlim_max;
  setrlimit(RLIMIT_NOFILE, &limit);
  getrlimit(RLIMIT_NOFILE, &limit);
  if (limit.rlim_cur <= kOwnDescriptors) return 1;
  return std::min<std::size_t>(wanted, limit.rlim_cur - kOwnDescriptors);
}

class Daemon {
 public:
  explicit Daemon(const DaemonOptions& o)
      : options_(o),
        host_netns_(net::own_netns_cookie()),
        programs_(o.pin_dir, host_netns_, KernelPrograms::Purpose::kTrace,
                  ProgramTuning{o.namespace_probe_rate, o.follow_host_probes,
                                o.metrics_address.has_value()}),
        tracker_(o.uplinks),
        started_(SystemClock{}.mono_now()) {
    if (host_netns_ == 0)
      throw FatalError("cannot tell the host's network namespace", kExitFailure);
    if (o.enable_stats) {
      stats_fd_.reset(bpf_enable_stats(BPF_STATS_RUN_TIME));
      if (!stats_fd_) log_line(with_errno("cannot enable BPF run-time statistics", errno));
    }
    QueryServer::Setup setup;
    setup.path = o.socket_path;
    setup.records_fd = programs_.records_fd();
    setup.devices_fd = programs_.devices_fd();
    setup.host_netns = host_netns_;
    setup.match_sender_pid = in_initial_pid_namespace();
    setup.host_measured = o.follow_host_probes;
    setup.limits = o.limits;
    setup.limits.total = raise_descriptor_limit(o.limits.total);
    setup.limits.host_reserve = std::min(setup.limits.host_reserve, setup.limits.total / 2);
    server_ = std::make_unique<QueryServer>(
        std::move(setup), [this](bool full) { return status_text(full); },
        [this](std::uint64_t netns) { programs_.subscribe(netns, SystemClock{}.mono_now()); });
    // Loaded and attached: from here on only bpf() (CAP_BPF, or CAP_SYS_ADMIN where the runtime
    // knows no CAP_BPF) and, for the per-namespace listeners, setns (CAP_SYS_ADMIN) into the
    // namespaces of other users' processes (CAP_SYS_PTRACE to open /proc/PID/ns/net); the rest
    // goes.
    net::Capabilities::keep_only({CAP_BPF, CAP_SYS_ADMIN, CAP_SYS_PTRACE});
    if (o.namespace_listeners) {
      listeners_ = std::make_unique<NamespaceListeners>();
      if (!listeners_->disabled_reason().empty()) {
        log_line("no listeners in containers' namespaces: " + listeners_->disabled_reason() +
                 "; only tools that have " + o.socket_path + " mounted get corrections");
      }
    }
    refresh_uplinks(true);
    if (o.follow_host_probes) {
      log_line(
          "following the host's own probes too (--follow-host-probes: for tests and "
          "benchmarks; the host's traffic then costs more than the cost table says)");
    }
    if (o.metrics_address) start_metrics();
    for (const std::string& map : programs_.replaced_pins()) {
      log_line("replaced the pinned map " + map +
               ", left by another mtool version: its figures start from zero");
    }
    log_line(std::string("started: ") + hook_kind_name(programs_.hook_kind()) +
             " programs on net_dev_queue, netif_rx, netif_receive_skb; maps " +
             (programs_.reused_pins() ? "reused from " : "pinned in ") + o.pin_dir + "; socket " +
             o.socket_path + "; host netns " + std::to_string(host_netns_) +
             (metrics_ ? "; metrics on " + metrics_->url() : ""));
  }

  int run() {
    const sigset_t mask = loop_signals();
    sigprocmask(SIG_BLOCK, &mask, nullptr);
    UniqueFd signals(signalfd(-1, &mask, SFD_CLOEXEC | SFD_NONBLOCK));
    UniqueFd timer(timerfd_create(CLOCK_MONOTONIC, TFD_CLOEXEC | TFD_NONBLOCK));
    const itimerspec every_second{{1, 0}, {1, 0}};
    timerfd_settime(timer.get(), 0, &every_second, nullptr);
    UniqueFd epoll(epoll_create1(EPOLL_CLOEXEC));
    if (!signals || !timer || !epoll)
      throw FatalError(with_errno("event loop setup", errno), kExitFailure);
    UniqueFd scan_timer(timerfd_create(CLOCK_MONOTONIC, TFD_CLOEXEC | TFD_NONBLOCK));
    if (!scan_timer) throw FatalError(with_errno("event loop setup", errno), kExitFailure);
    for (const int fd :
         {signals.get(), timer.get(), tracker_.fd(), server_->listen_fd(), scan_timer.get()})
      watch(epoll.get(), fd);
    epoll_fd_ = epoll.get();
    scan_timer_fd_ = scan_timer.get();
    scan_namespaces();

    for (;;) {
      epoll_event events[32];
      const int n = epoll_wait(epoll.get(), events, 32, -1);
      if (n < 0 && errno == EINTR) continue;
      if (n < 0) throw FatalError(with_errno("epoll_wait", errno), kExitFailure);
      for (int i = 0; i < n; ++i) {
        const int fd = events[i].data.fd;
        if (fd == signals.get()) {
          signalfd_siginfo info{};
          if (read(fd, &info, sizeof info) == sizeof info && info.ssi_signo != SIGPIPE) {
            log_line(std::string("stopping on ") + sigabbrev_np(static_cast<int>(info.ssi_signo)) +
                     "; maps stay pinned in " + options_.pin_dir);
            return 0;
          }
        } else if (fd == timer.get()) {
          std::uint64_t ticks = 0;
          [[maybe_unused]] const ssize_t got = read(fd, &ticks, sizeof ticks);  // however many
          on_tick();
        } else if (fd == tracker_.fd()) {
          if (tracker_.drain()) refresh_uplinks(false);
          // A device came or went: maybe a container starting, whose first process follows.
          scan_fast_until_ = SystemClock{}.mono_now() + kFastScanFor;
          arm_scan(kFastScanEvery);
        } else if (fd == scan_timer.get()) {
          std::uint64_t expirations = 0;
          [[maybe_unused]] const ssize_t got = read(fd, &expirations, sizeof expirations);
          scan_namespaces();
        } else if (fd == server_->listen_fd() || (listeners_ && listeners_->is_listener(fd))) {
          const MonoNs now = SystemClock{}.mono_now();
          for (int client; (client = server_->accept_one(fd, now)) >= 0;)
            watch(epoll.get(), client);
        } else {
          server_->serve(fd, SystemClock{}.mono_now());  // closes a departed client itself
        }
      }
    }
  }

 private:
  static void watch(int epoll_fd, int fd) {
    epoll_event ev{};
    ev.events = EPOLLIN;
    ev.data.fd = fd;
    epoll_ctl(epoll_fd, EPOLL_CTL_ADD, fd, &ev);
  }

  // New containers' namespaces get a listener, and those whose processes are gone lose theirs.
  // Every second; every 50 ms for a while after a device appears (a container starting).
  void scan_namespaces() {
    const MonoNs now = SystemClock{}.mono_now();
    if (listeners_) {
      const auto changes = listeners_->rescan(now);
      for (const int fd : changes.opened) watch(epoll_fd_, fd);
      for (const auto& note : changes.notes) log_line(note);
    }
    arm_scan(now < scan_fast_until_ ? kFastScanEvery : kScanEvery);
  }

  void arm_scan(Nanos after) const {
    const itimerspec once{{0, 0}, to_timespec(after)};
    timerfd_settime(scan_timer_fd_, 0, &once, nullptr);
  }

  void refresh_uplinks(bool first) {
    auto now = tracker_.current();
    if (!first && now == uplinks_) return;
    uplinks_ = std::move(now);
    std::vector<std::uint32_t> ifindexes;
    for (const auto& u : uplinks_) ifindexes.push_back(u.ifindex);
    programs_.set_uplinks(ifindexes);
    std::string missing;
    for (const auto& name : options_.uplinks) {
      const bool present = std::any_of(uplinks_.begin(), uplinks_.end(),
                                       [&](const Uplink& u) { return u.name == name; });
      if (!present) missing += (missing.empty() ? "" : ", ") + name;
    }
    log_line((first ? "uplinks: " : "uplinks changed: ") + describe(uplinks_) +
             (options_.uplinks.empty() ? " (default routes)" : " (--uplink)") +
             (missing.empty() ? "" : "; waiting for " + missing + " to appear"));
  }

  // After the capabilities are dropped and with the loop's signals blocked: the exposer's
  // threads inherit both from this one.
  void start_metrics() {
    const sigset_t mask = loop_signals();
    pthread_sigmask(SIG_BLOCK, &mask, nullptr);
    histograms_ = std::make_unique<NamespaceHistograms>(programs_.histograms_fd(),
                                                        in_initial_pid_namespace());
    publish_loop_figures(nullptr, false);
    metrics_ = std::make_unique<CorrelatorMetrics>(*options_.metrics_address,
                                                   options_.metrics_buckets_per_octave,
                                                   [this] { return figures(); });
  }

  void on_tick() {
    ++ticks_;
    programs_.publish_info();
    server_->close_idle(SystemClock{}.mono_now());
    if (ticks_ % MTOOL_SUBSCRIPTION_REFRESH_S == 0) server_->refresh();
    // Flights and unanswered probes every second; the larger records map every 10 s.
    const bool records = ticks_ % 10 == 0;
    const SweepResult r = programs_.sweep(SystemClock{}.mono_now(), records);
    swept_.waiting += r.waiting;
    swept_.records += r.records;
    swept_.subscriptions += r.subscriptions;
    if (histograms_) {
      swept_.histograms += histograms_->refresh();
      publish_loop_figures(&r, records);
    }
  }

  // The loop's own figures, for the exposer's threads to take; the maps' fill from `swept`
  // (records and subscribers only if `records` were swept too).
  void publish_loop_figures(const SweepResult* swept, bool records) {
    const std::lock_guard<std::mutex> lock(figures_mutex_);
    LoopFigures& f = loop_figures_;
    f.socket = server_->counters();
    f.listeners_on = listeners_ && listeners_->disabled_reason().empty();
    if (f.listeners_on) {
      f.listeners_open = listeners_->count();
      f.listeners = listeners_->counters();
    }
    f.evicted = swept_;
    const auto fill = [&f](const char* map, std::uint64_t entries, std::uint64_t capacity) {
      for (MapFill& m : f.maps) {
        if (m.map == map) {
          m.entries = entries;
          return;
        }
      }
      f.maps.push_back({map, entries, capacity});
    };
    fill("histograms", histograms_->entries(), MTOOL_HISTOGRAM_NAMESPACES);
    if (swept == nullptr) return;
    fill("waiting", swept->waiting_entries, MTOOL_WAITING_MAX);
    if (records) {
      fill("records", swept->record_entries, MTOOL_RECORDS_MAX);
      fill("subscribers", swept->subscription_entries, MTOOL_SUBSCRIBERS_MAX);
    }
  }

  // On the exposer's thread, at each scrape: the kernel's figures now, the loop's as published.
  DaemonFigures figures() const {
    DaemonFigures f;
    {
      const std::lock_guard<std::mutex> lock(figures_mutex_);
      f.loop = loop_figures_;
    }
    f.kernel = programs_.counters();
    f.program_stats = stats_fd_.valid() || stats_sysctl_on();
    if (f.program_stats) f.programs = programs_.costs();
    f.namespaces = histograms_->read();
    return f;
  }

  std::string status_text(bool full) const {
    std::ostringstream out;
    if (!full) {
      // Containers share this daemon: they learn that it runs, not what others do.
      out << "correlator: running (details for root on the host only)\n";
      return out.str();
    }
    const auto up_s =
        std::chrono::duration_cast<std::chrono::seconds>(SystemClock{}.mono_now() - started_)
            .count();
    out << "correlator: running, pid " << getpid() << ", up " << up_s << " s, "
        << hook_kind_name(programs_.hook_kind()) << " programs, maps in " << options_.pin_dir
        << ", socket " << options_.socket_path << "\n";
    out << "uplinks: " << describe(uplinks_)
        << (options_.uplinks.empty() ? " (default routes)" : " (--uplink)") << "\n";
    const Counters c = programs_.counters();
    out << "probes:";
    for (int i = 0; i < MTOOL_CTR_COUNT; ++i)
      out << (i != 0 ? ", " : " ") << kCounterNames[i] << " " << c[i];
    out << "\n";
    out << "evicted by age: unanswered " << swept_.waiting << ", records " << swept_.records
        << ", subscriptions " << swept_.subscriptions << "\n";
    if (histograms_ && metrics_) {
      out << "metrics: " << metrics_->url() << "; histograms of " << histograms_->entries()
          << " namespaces (room for " << MTOOL_HISTOGRAM_NAMESPACES << "), " << swept_.histograms
          << " gone\n";
    }
    const auto& q = server_->counters();
    const auto& l = server_->limits();
    out << "socket: " << server_->clients() - 1 << " clients besides this status query, "
        << q.connections << " connections, " << q.queries << " queries, " << q.found
        << " records served\n";
    out << "socket refused: " << q.refused_per_process << " over " << l.per_process
        << " per process, " << q.refused_per_namespace << " over " << l.per_namespace
        << " per namespace, " << q.refused_total << " over " << l.total << " in all, "
        << q.refused_unknown_peer << " unknown peers; " << q.closed_idle << " closed idle after "
        << std::chrono::duration_cast<std::chrono::seconds>(l.idle_timeout).count() << " s\n";
    if (listeners_) {
      const auto& lc = listeners_->counters();
      out << "namespace listeners: ";
      if (!listeners_->disabled_reason().empty()) {
        out << "off (" << listeners_->disabled_reason() << ")\n";
      } else {
        out << listeners_->count() << " open, " << lc.opened << " opened, " << lc.closed
            << " closed, " << lc.failed << " failed, " << lc.taken << " names found taken";
        const auto taken = listeners_->taken_namespaces();
        for (std::size_t i = 0; i < taken.size(); ++i)
          out << (i == 0 ? " (taken now in netns " : ", ") << taken[i];
        out << (taken.empty() ? "\n" : ")\n");
      }
    } else {
      out << "namespace listeners: off (--no-namespace-listeners)\n";
    }
    const bool stats = stats_fd_.valid() || stats_sysctl_on();
    if (!stats) {
      out << "cost per event: not measured (run with --stats, or sysctl "
             "kernel.bpf_stats_enabled=1)\n";
      return out.str();
    }
    out << "cost per event:";
    bool first = true;
    for (const auto& p : programs_.costs()) {
      out << (first ? " " : ", ") << p.tracepoint << " ";
      first = false;
      if (p.events > 0) {
        char buffer[32];
        std::snprintf(buffer, sizeof buffer, "%.1f ns",
                      static_cast<double>(p.run_time_ns) / static_cast<double>(p.events));
        out << buffer;
      } else {
        out << "-";
      }
      out << " (" << p.events << " events)";
    }
    out << "\n";
    return out.str();
  }

  DaemonOptions options_;
  std::uint64_t host_netns_;
  KernelPrograms programs_;
  UplinkTracker tracker_;
  std::unique_ptr<QueryServer> server_;
  std::unique_ptr<NamespaceListeners> listeners_;
  int epoll_fd_ = -1;
  int scan_timer_fd_ = -1;
  MonoNs scan_fast_until_{};
  std::vector<Uplink> uplinks_;
  Evictions swept_;
  UniqueFd stats_fd_;
  MonoNs started_;
  std::uint64_t ticks_ = 0;
  // --metrics: the histograms' names, the loop's figures as last published, and the exposer
  // (last: its threads stop before anything they read goes).
  std::unique_ptr<NamespaceHistograms> histograms_;
  mutable std::mutex figures_mutex_;
  LoopFigures loop_figures_;
  std::unique_ptr<CorrelatorMetrics> metrics_;
};

}  // namespace

int run_daemon(const DaemonOptions& options) {
  Daemon daemon(options);
  return daemon.run();
}

}  // namespace mtool::correlator
