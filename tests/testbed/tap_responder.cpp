// mtool_tap_responder: the testbed's remote-like target (testbed.sh up --remote). A target in
// another network namespace answers in the same kernel, in the softirq of the probe's own
// transmission, so its latency depends on the sender's context; a real remote host's does not.
// This process owns a persistent TAP device and answers echo requests from user space,
// busy-polling a non-blocking descriptor on a CPU of its own: every request waits the same for
// it, whoever sent it.
//
// usage: mtool_tap_responder --tap NAME --cpu N [--ipv4 ADDR] [--ipv6 ADDR]
// It never sleeps. It sets its nice value, and its autogroup's, to -20 and keeps the scheduling
// class it was started with (the testbed starts it as SCHED_OTHER; SCHED_FIFO spinning is
// throttled by sched_rt_runtime_us, a ~54 ms stall each second: see the README). SIGTERM/SIGINT end
// it with a summary on stderr: packets answered and dropped, the loop's stalls, the time per
// packet.
#include <arpa/inet.h>
#include <fcntl.h>
#include <linux/if_tun.h>
#include <net/if.h>
#include <sched.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/resource.h>
#include <unistd.h>

#include <cerrno>
#include <csignal>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <string>

#include "echo_reflector.h"
#include "responder_stats.h"

namespace {

using mtool::testbed::EchoAddresses;
using mtool::testbed::ResponderStats;

constexpr const char* kName = "mtool_tap_responder";
constexpr int kNice = -20;

volatile std::sig_atomic_t stop_requested = 0;
void request_stop(int) { stop_requested = 1; }

[[noreturn]] void fail(int code, const std::string& message) {
  std::fprintf(stderr, "%s: %s\n", kName, message.c_str());
  std::exit(code);
}
[[noreturn]] void usage_error(const std::string& message) {
  fail(2, message + " (usage: " + kName + " --tap NAME --cpu N [--ipv4 ADDR] [--ipv6 ADDR])");
}

struct Options {
  std::string tap;
  int cpu = -1;
  EchoAddresses ours;
};

Options parse_options(int argc, char** argv) {
  Options o;
  for (int i = 1; i < argc; i += 2) {
    const std::string option = argv[i];
    if (i + 1 >= argc) usage_error(option + ": needs a value");
    const std::string value = argv[i + 1];
    if (option == "--tap") {
      if (value.empty() || value.size() >= IFNAMSIZ)
        usage_error("--tap: not a device name: '" + value + "'");
      o.tap = value;
    } else if (option == "--cpu") {
      char* end = nullptr;
      const long cpu = std::strtol(value.c_str(), &end, 10);
      if (value.empty() || *end != '\0' || cpu < 0 || cpu >= CPU_SETSIZE)
        usage_error("--cpu: not a CPU number: '" + value + "'");
      o.cpu = static_cast<int>(cpu);
    } else if (option == "--ipv4") {
      if (inet_pton(AF_INET, value.c_str(), o.ours.v4.emplace().data()) != 1)
        usage_error("--ipv4: not an IPv4 address: '" + value + "'");
    } else if (option == "--ipv6") {
      if (inet_pton(AF_INET6, value.c_str(), o.ours.v6.emplace().data()) != 1)
        usage_error("--ipv6: not an IPv6 address: '" + value + "'");
    } else {
      usage_error("unknown option '" + option + "'");
    }
  }
  if (o.tap.empty()) usage_error("--tap is required");
  if (o.cpu < 0) usage_error("--cpu is required (a spinning responder needs a CPU of its own)");
  if (!o.ours.v4 && !o.ours.v6) usage_error("no address: give --ipv4 and/or --ipv6");
  return o;
}

// Attaches to the existing device only: TUNSETIFF on a missing name would create one.
int open_tap(const std::string& name) {
  if (if_nametoindex(name.c_str()) == 0) fail(1, "tap " + name + ": no such device");
  const int fd = open("/dev/net/tun", O_RDWR | O_NONBLOCK | O_CLOEXEC);
  if (fd < 0) fail(1, std::string("/dev/net/tun: ") + std::strerror(errno));
  ifreq request{};
  request.ifr_flags = IFF_TAP | IFF_NO_PI;
  std::strncpy(request.ifr_name, name.c_str(), IFNAMSIZ - 1);
  if (ioctl(fd, TUNSETIFF, &request) != 0) {
    const int e = errno;
    if (e == EINVAL) fail(1, "tap " + name + ": not a TAP device");
    if (e == EBUSY) fail(1, "tap " + name + ": busy (another responder attached?)");
    fail(1, "tap " + name + ": " + std::strerror(e));
  }
  return fd;
}

// With autogroups (kernel.sched_autogroup_enabled) a nice value weighs only within the task's
// session; the session's group competes with the others at the group's own nice value, and
// at 0 any busy process of another session would take half of our CPU.
void raise_autogroup() {
  FILE* group = std::fopen("/proc/self/autogroup", "w");
  if (group == nullptr && errno == ENOENT) return;  // a kernel without autogroups
  const bool ok = group != nullptr && std::fprintf(group, "%d", kNice) > 0;
  if (group == nullptr || std::fclose(group) != 0 || !ok)
    fail(1, std::string("autogroup nice -20: ") + std::strerror(errno));
}

// Pinned, at the highest SCHED_OTHER priority, with memory locked: a page fault or a migration
// in the loop would be a stall every probe in flight waits for.
void claim_cpu(int cpu) {
  cpu_set_t set;
  CPU_ZERO(&set);
  CPU_SET(cpu, &set);
  if (sched_setaffinity(0, sizeof set, &set) != 0)
    fail(1, "cpu " + std::to_string(cpu) + ": " +
                (errno == EINVAL ? "not one of ours" : std::strerror(errno)));
  if (setpriority(PRIO_PROCESS, 0, kNice) != 0)
    fail(1, std::string("nice -20: ") + std::strerror(errno));
  raise_autogroup();
  if (mlockall(MCL_CURRENT | MCL_FUTURE) != 0)
    fail(1, std::string("mlockall: ") + std::strerror(errno));
}

std::string policy_name() {
  switch (sched_getscheduler(0)) {
    case SCHED_OTHER:
      return "SCHED_OTHER nice " + std::to_string(getpriority(PRIO_PROCESS, 0));
    case SCHED_FIFO:
      return "SCHED_FIFO";
    case SCHED_RR:
      return "SCHED_RR";
    case SCHED_BATCH:
      return "SCHED_BATCH";
    default:
      return "policy " + std::to_string(sched_getscheduler(0));
  }
}

}  // namespace

int main(int argc, char** argv) {
  const Options options = parse_options(argc, argv);
  const int fd = open_tap(options.tap);
  claim_cpu(options.cpu);
  struct sigaction action {};
  action.sa_handler = request_stop;
  sigaction(SIGTERM, &action, nullptr);
  sigaction(SIGINT, &action, nullptr);

  const std::string where =
      options.tap + ", cpu " + std::to_string(options.cpu) + ", " + policy_name();
  std::fprintf(stderr, "%s: answering on %s\n", kName, where.c_str());
  static std::uint8_t frame[65536 + 64];  // locked with the rest; one frame per read
  ResponderStats stats;
  int exit_code = 0;
  std::uint64_t previous = ResponderStats::now_ns();
  while (!stop_requested) {
    const std::uint64_t top = ResponderStats::now_ns();
    const ssize_t n = read(fd, frame, sizeof frame);
    if (n < 0) {
      if (errno == EAGAIN || errno == EINTR) {
        stats.poll(top - previous);
        previous = top;
        continue;
      }
      std::fprintf(stderr, "%s: tap %s: read: %s\n", kName, options.tap.c_str(),
                   std::strerror(errno));
      exit_code = 1;
      break;
    }
    stats.poll(top - previous);
    const std::size_t reply =
        mtool::testbed::reflect_echo(frame, static_cast<std::size_t>(n), options.ours);
    if (reply == 0) {
      stats.dropped();
    } else if (write(fd, frame, reply) != static_cast<ssize_t>(reply)) {
      stats.write_failed();
    } else {
      stats.answered(ResponderStats::now_ns() - top);
    }
    previous = ResponderStats::now_ns();
  }
  std::fprintf(stderr, "%s: %s; %s\n", kName, stats.summary().c_str(), where.c_str());
  return exit_code;
}
