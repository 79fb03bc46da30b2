// The correlator end to end: the Docker-like testbed (tests/testbed/testbed.sh, two load
// containers), `mtool correlator` on the host with its own pin directory and socket, and
// `mtool ping` in the container, as root (pinned maps) and as nobody (the socket). Root only.
// Every test builds its own testbed and correlator and removes them (namespaces, NAT rules,
// background processes, pins, socket) in TearDown, also when it fails.
#include <bpf/bpf.h>
#include <fcntl.h>
#include <grp.h>
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <sched.h>
#include <signal.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cstddef>
#include <cstring>
#include <fstream>
#include <functional>
#include <iostream>
#include <iterator>
#include <map>
#include <memory>
#include <nlohmann/json.hpp>
#include <optional>
#include <regex>
#include <set>
#include <sstream>
#include <string>
#include <vector>

#include "correlator_abi.h"
#include "harness.h"
#include "ping_json.h"
#include "processes.h"
#include "util/fd.h"

namespace mtool::testing {
namespace {

using nlohmann::json;
using Clock = std::chrono::steady_clock;
using std::chrono::milliseconds;

// Instance 9 of the testbed: clear of the demo and benchmarks (0) and of other suites (7).
constexpr int kTestbedIndex = 9;
constexpr const char* kPinDir = "/sys/fs/bpf/mtool-test";
constexpr const char* kSocketDir = "/run/mtool-test";
constexpr const char* kSocket = "/run/mtool-test/correlator.sock";
constexpr const char* kIputils = "/usr/bin/ping";
constexpr uid_t kNobody = 65534;
constexpr auto kStartTimeout = milliseconds(5000);

std::string testbed_command() { return testbed_script(kTestbedIndex); }

// The environment through which tools find this suite's correlator.
std::string correlator_env() { return mtool::testing::correlator_env(kPinDir, kSocket); }

std::string as_nobody() {
  return "setpriv --reuid=" + std::to_string(kNobody) + " --regid=" + std::to_string(kNobody) +
         " --clear-groups ";
}

std::size_t count_replies(const std::string& json_text) {
  std::size_t n = 0;
  for (const std::string& line : lines_of(json_text))
    n += line.find(R"("type":"reply")") != std::string::npos;
  return n;
}

// Every reply corrected, with both stages measured and a corrected RTT below the raw one, and
// the summary saying so too.
void expect_every_reply_corrected(const PingJson& p, const std::string& who) {
  ASSERT_TRUE(p.summary.is_object()) << who << ": no summary";
  const auto received = p.summary["received"].get<std::size_t>();
  ASSERT_GT(received, 0U) << who;
  EXPECT_EQ(p.replies.size(), received) << who;
  for (const json& r : p.replies) {
    ASSERT_TRUE(r.contains("correction")) << who << ": uncorrected reply " << r.dump();
    const json& c = r["correction"];
    EXPECT_GT(c["egress_us"].get<double>(), 0.0) << who << ": " << r.dump();
    EXPECT_GT(c["ingress_us"].get<double>(), 0.0) << who << ": " << r.dump();
    EXPECT_GT(c["corrected_rtt_ms"].get<double>(), 0.0) << who << ": " << r.dump();
    EXPECT_LT(c["corrected_rtt_ms"].get<double>(), r["rtt_ms"].get<double>())
        << who << ": " << r.dump();
  }
  ASSERT_TRUE(p.summary.contains("correction")) << who << ": " << p.summary.dump();
  EXPECT_EQ(p.summary["correction"]["corrected"].get<std::size_t>(), received)
      << who << ": " << p.summary.dump();
}

// The namespace of the sender's own device, as the correlator recorded it, for every reply.
std::set<std::uint64_t> sender_namespaces(const PingJson& p) {
  std::set<std::uint64_t> out;
  for (const json& r : p.replies) {
    if (r.contains("correction") && !r["correction"]["egress_path"].empty()) {
      out.insert(r["correction"]["egress_path"][0]["netns"].get<std::uint64_t>());
    }
  }
  return out;
}

std::set<std::uint32_t> wire_idents(const PingJson& p) {
  std::set<std::uint32_t> out;
  for (const json& r : p.replies) {
    if (r.contains("correction")) out.insert(r["correction"]["wire_ident"].get<std::uint32_t>());
  }
  return out;
}

// A breakdown path "eth0/xmit 0.0 > mtb9c0/rx 8.0 > ..." as its "device/hook" steps.
std::vector<std::string> path_steps(const std::string& path) {
  std::vector<std::string> steps;
  static const std::regex step(R"(([^ >]+/[a-z]+) -?[0-9]+\.[0-9])");
  for (auto it = std::sregex_iterator(path.begin(), path.end(), step); it != std::sregex_iterator();
       ++it) {
    steps.push_back((*it)[1]);
  }
  return steps;
}

std::uint64_t status_counter(const std::string& status, const std::string& name) {
  std::smatch m;
  if (!std::regex_search(status, m, std::regex(name + " ([0-9]+)"))) return 0;
  return std::stoull(m[1]);
}

// What the correlator's socket answered to one RECORD query.
struct QueryOutcome {
  std::string error;  // empty: `answers` holds one answer per sequence
  std::vector<mtool_answer> answers;
};

// Asks the correlator's socket for the records of ICMP probes (identifier `flow`, each of
// `sequences`) from inside network namespace `ns`, as uid/gid 65534: what an unprivileged
// process in that container can get. One connection, one query per sequence.
QueryOutcome query_records_from(const std::string& ns, std::uint16_t flow,
                                const std::vector<std::uint16_t>& sequences,
                                bool abstract_name = false) {
  QueryOutcome outcome;
  int pipe_fds[2];
  if (pipe2(pipe_fds, O_CLOEXEC) != 0) return {"pipe: " + std::string(std::strerror(errno)), {}};
  const std::string ns_path = ns.empty() ? "/proc/self/ns/net" : "/run/netns/" + ns;  // "": host
  const pid_t child = fork();
  if (child < 0) return {"fork: " + std::string(std::strerror(errno)), {}};
  if (child == 0) {
    // Exit codes name the step that failed; answers go through the pipe.
    close(pipe_fds[0]);
    const int nsfd = open(ns_path.c_str(), O_RDONLY | O_CLOEXEC);
    if (nsfd < 0 || setns(nsfd, CLONE_NEWNET) != 0) _exit(10);
    if (setgroups(0, nullptr) != 0 || setgid(kNobody) != 0 || setuid(kNobody) != 0) _exit(11);
    const int fd = socket(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0);
    sockaddr_un address{};
    address.sun_family = AF_UNIX;
    socklen_t length = sizeof address;
    if (abstract_name) {  // the correlator's listener inside this namespace
      constexpr std::size_t kName = sizeof(MTOOL_SOCKET_ABSTRACT_NAME) - 1;
      std::memcpy(address.sun_path + 1, MTOOL_SOCKET_ABSTRACT_NAME, kName);
      length = static_cast<socklen_t>(offsetof(sockaddr_un, sun_path) + 1 + kName);
    } else {
      std::strncpy(address.sun_path, kSocket, sizeof address.sun_path - 1);
    }
    if (fd < 0 || connect(fd, reinterpret_cast<sockaddr*>(&address), length) != 0) _exit(12);
    const timeval timeout{2, 0};
    setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &timeout, sizeof timeout);
    for (const std::uint16_t sequence : sequences) {
      mtool_query query{};
      query.version = MTOOL_ABI_VERSION;
      query.kind = MTOOL_QUERY_RECORD;
      query.family = AF_INET;
      query.protocol = IPPROTO_ICMP;
      query.flow = flow;
      query.sequence = sequence;
      mtool_answer answer{};
      if (send(fd, &query, sizeof query, MSG_NOSIGNAL) != static_cast<ssize_t>(sizeof query))
        _exit(13);
      if (recv(fd, &answer, sizeof answer, 0) != static_cast<ssize_t>(sizeof answer)) _exit(14);
      if (write(pipe_fds[1], &answer, sizeof answer) != static_cast<ssize_t>(sizeof answer))
        _exit(15);
    }
    _exit(0);
  }
  close(pipe_fds[1]);
  for (;;) {
    mtool_answer answer{};
    std::size_t got = 0;
    while (got < sizeof answer) {
      const ssize_t n =
          read(pipe_fds[0], reinterpret_cast<char*>(&answer) + got, sizeof answer - got);
      if (n <= 0) break;
      got += static_cast<std::size_t>(n);
    }
    if (got != sizeof answer) break;
    outcome.answers.push_back(answer);
  }
  close(pipe_fds[0]);
  int status = 0;
  waitpid(child, &status, 0);
  if (!WIFEXITED(status) || WEXITSTATUS(status) != 0) {
    outcome.error =
        "query child in " + ns + " failed at step " +
        std::to_string(WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status)) +
        " (10 setns, 11 drop to nobody, 12 connect, 13 send, 14 recv, 15 pipe)";
  } else if (outcome.answers.size() != sequences.size()) {
    outcome.error = "got " + std::to_string(outcome.answers.size()) + " answers for " +
                    std::to_string(sequences.size()) + " queries";
  }
  return outcome;
}

// `command` in network namespace `ns` (the root one if empty), without `ip netns exec`'s fresh
// /sys (which hides the bpffs), in a private mount namespace where the correlator's default
// locations are `pin_dir` (/sys/fs/bpf/mtool) and `socket_dir` (/run/mtool), or absent when
// empty: a tool there sees exactly what a host with that correlator installed would offer it,
// and nothing of any other correlator on this host.
constexpr const char* kViewDir = "/run/mtool-test-view";
std::string in_default_view(const std::string& ns, const std::string& pin_dir,
                            const std::string& socket_dir, const std::string& command) {
  const std::string v = kViewDir;
  std::string script = "set -e; ";
  if (!pin_dir.empty())
    script += "mkdir -p " + v + "/pins; mount --bind " + pin_dir + " " + v + "/pins; ";
  if (!socket_dir.empty())
    script += "mkdir -p " + v + "/run; mount --bind " + socket_dir + " " + v + "/run; ";
  script += "mount -t tmpfs mtool-view /sys/fs/bpf; ";
  if (!pin_dir.empty())
    script += "mkdir /sys/fs/bpf/mtool; mount --bind " + v + "/pins /sys/fs/bpf/mtool; ";
  if (!socket_dir.empty())
    script += "mkdir /sys/fs/bpf/run; mount --bind " + v + "/run /sys/fs/bpf/run; ";
  script += "mount -t tmpfs mtool-view /run; ";
  if (!socket_dir.empty()) script += "mkdir /run/mtool; mount --bind /sys/fs/bpf/run /run/mtool; ";
  script += "exec " + command;
  return (ns.empty() ? std::string() : "nsenter --net=/run/netns/" + ns + " ") +
         "unshare -m --propagation private sh -c '" + script + "'";
}

// Copies of the built mtool installed as a distribution would, named `ping`, in a directory
// uid 10001 can reach: the image's (cap_net_raw+p) and a setuid-root one. Removed afterwards.
constexpr uid_t kImageUser = 10001;
struct InstalledCopies {
  std::string dir = "/tmp/mtool-test-installs";
  std::string file_capability = dir + "/filecap/ping";
  std::string setuid_root = dir + "/setuid/ping";
  InstalledCopies() {
    run("rm -rf " + dir);
    must("mkdir -p -m 0755 " + dir + "/filecap " + dir + "/setuid");
    must("cp " + mtool_binary() + " " + file_capability + " && setcap cap_net_raw+p " +
         file_capability);
    must("cp " + mtool_binary() + " " + setuid_root + " && chown root:root " + setuid_root +
         " && chmod 4755 " + setuid_root);
  }
  ~InstalledCopies() { run("rm -rf " + dir); }
  InstalledCopies(const InstalledCopies&) = delete;
  InstalledCopies& operator=(const InstalledCopies&) = delete;
};

std::string as_image_user() {
  return "setpriv --reuid=" + std::to_string(kImageUser) +
         " --regid=" + std::to_string(kImageUser) + " --clear-groups ";
}

// Whether the correlator at `pin_dir` follows namespace `netns` (its subscribers map).
std::optional<bool> subscribed(const std::string& pin_dir, std::uint64_t netns) {
  const int fd = bpf_obj_get((pin_dir + "/" MTOOL_MAP_SUBSCRIBERS).c_str());
  if (fd < 0) return std::nullopt;
  mtool_subscriber subscriber{};
  const bool found = bpf_map_lookup_elem(fd, &netns, &subscriber) == 0;
  close(fd);
  return found;
}

// A /proc/PID/status line's value ("Uid", "CapEff").
std::string status_field(pid_t pid, const std::string& field) {
  std::istringstream in(slurp("/proc/" + std::to_string(pid) + "/status"));
  std::string line;
  while (std::getline(in, line)) {
    if (line.rfind(field + ":", 0) == 0) {
      std::string value = line.substr(field.size() + 1);
      value.erase(0, value.find_first_not_of(" \t"));
      return value;
    }
  }
  return "";
}

class CorrelatorTest : public ::testing::Test {
 protected:
  void SetUp() override {
    if (!running_as_root()) GTEST_SKIP() << "needs root: creates network namespaces and loads BPF";
    ASSERT_FALSE(correlator_answers(kSocket)) << "a correlator already answers on " << kSocket
                                              << " (another run of this suite?); not touching it";
    clean_up();
    const CommandResult up = run(testbed_command() + " up --load 2");
    ASSERT_EQ(up.exit_code, 0) << up.err;
    for (const std::string& line : lines_of(up.out)) {
      if (const auto eq = line.find('='); eq != std::string::npos)
        bed_[line.substr(0, eq)] = line.substr(eq + 1);
    }
    for (const char* key : {"TESTBED_CONTAINER_NS", "TESTBED_TARGET", "TESTBED_UPLINK",
                            "TESTBED_BRIDGE", "TESTBED_CONTAINER_VETH", "TESTBED_TARGET_NS"}) {
      ASSERT_FALSE(bed_[key].empty()) << key << " missing from the testbed's output:\n" << up.out;
    }
    ASSERT_TRUE(correlator_.start(uplink()));
  }

  void TearDown() override {
    background_.clear();  // stops whatever still runs
    if (correlator_.pid() > 0) {
      const auto code = correlator_.stop();
      EXPECT_EQ(code, std::optional<int>(0)) << "correlator log:\n" << correlator_.log();
    }
    clean_up();
    if (HasFailure()) std::cerr << "correlator log:\n" << correlator_.log();
  }

  static void clean_up() {
    run(testbed_command() + " down");
    run(std::string("rm -rf ") + kPinDir + " " + kSocketDir + " " + kViewDir);
  }

  const std::string& container() { return bed_["TESTBED_CONTAINER_NS"]; }
  std::string load(int n) {
    return "mtb" + std::to_string(kTestbedIndex) + "-load" + std::to_string(n);
  }
  const std::string& target() { return bed_["TESTBED_TARGET"]; }
  const std::string& uplink() { return bed_["TESTBED_UPLINK"]; }

  // `mtool ping ARGS TARGET` inside `ns` with this suite's correlator, as root or as nobody.
  static std::string ping_command(const std::string& ns, const std::string& args,
                                  const std::string& target, bool unprivileged = false,
                                  const std::string& env = correlator_env()) {
    return "ip netns exec " + ns + " " + env + (unprivileged ? as_nobody() : "") + mtool_binary() +
           " ping " + args + " " + target;
  }
  CommandResult ping(const std::string& ns, const std::string& args, bool unprivileged = false) {
    return run(ping_command(ns, args, target(), unprivileged));
  }
  Background& background(const std::string& command, const std::string& name) {
    background_.push_back(std::make_unique<Background>(command, name));
    return *background_.back();
  }

  std::map<std::string, std::string> bed_;
  CorrelatorProcess correlator_{kPinDir, kSocket};
  std::vector<std::unique_ptr<Background>> background_;
};

// IPv6 through the same path (ip6tables MASQUERADE): ICMPv6 echoes are followed too.
TEST_F(CorrelatorTest, Ipv6RepliesCorrected) {
  ASSERT_FALSE(bed_["TESTBED_TARGET6"].empty());
  const CommandResult r =
      run(ping_command(container(), "-6 --json -c 20 -i 0.01", bed_["TESTBED_TARGET6"]));
  ASSERT_EQ(r.exit_code, 0) << r.err;
  const PingJson p = parse_ping_json(r.out);
  expect_every_reply_corrected(p, "IPv6 container ping");
  EXPECT_EQ(sender_namespaces(p), std::set<std::uint64_t>{netns_cookie_of(container())});
}

// Two co-located containers flood the same target; every probe of the measuring container is
// still followed (their echoes are not subscribed and must not crowd ours out).
TEST_F(CorrelatorTest, CoverageUnderFloodLoad) {
  const auto target_rx = [this] {
    const CommandResult r = run("ip netns exec " + bed_["TESTBED_TARGET_NS"] +
                                " cat /sys/class/net/eth0/statistics/rx_packets");
    return r.exit_code == 0 ? std::stoull(r.out) : 0ULL;
  };
  const auto before = target_rx();
  std::vector<Background*> floods;
  for (int n = 1; n <= 2; ++n) {
    floods.push_back(
        &background("exec ip netns exec " + load(n) + " " + kIputils + " -f -q -w 60 " + target(),
                    "flood" + std::to_string(n)));
    ASSERT_TRUE(floods.back()->started());
  }
  ASSERT_TRUE(wait_until([&] { return target_rx() > before + 5000; }, milliseconds(10000)))
      << "the floods do not reach the target: " << floods[0]->err() << floods[1]->err();

  const CommandResult r = ping(container(), "--json -c 200 -i 0.005");
  for (Background* flood : floods)
    EXPECT_TRUE(flood->running()) << "a flood ended early: " << flood->err();
  ASSERT_EQ(r.exit_code, 0) << r.err;
  const PingJson p = parse_ping_json(r.out);
  expect_every_reply_corrected(p, "container under flood");
  EXPECT_EQ(sender_namespaces(p), std::set<std::uint64_t>{netns_cookie_of(container())});
}

// --breakdown names the devices crossed, in order, and the reply line stays iputils' up to the
// RTT.
TEST_F(CorrelatorTest, BreakdownNamesDevices) {
  const CommandResult r = ping(container(), "--breakdown -c 3 -i 0.1");
  ASSERT_EQ(r.exit_code, 0) << r.err;
  const CommandResult iputils =
      run("ip netns exec " + container() + " " + kIputils + " -c 3 -i 0.1 " + target());
  ASSERT_EQ(iputils.exit_code, 0) << iputils.err;
  std::map<std::string, std::string> iputils_replies;  // icmp_seq -> masked line
  for (const std::string& line : lines_of(iputils.out)) {
    std::smatch m;
    if (std::regex_search(line, m, std::regex("icmp_seq=([0-9]+) ")))
      iputils_replies[m[1]] = mask_numbers(line);
  }
  ASSERT_EQ(iputils_replies.size(), 3U) << iputils.out;

  const std::string address = std::regex_replace(target(), std::regex(R"(\.)"), R"(\.)");
  const std::regex reply_line(
      "^(64 bytes from " + address +
      R"(: icmp_seq=([0-9]+) ttl=[0-9]+ time=[0-9.]+ ms) corrected=[0-9.]+ ms overhead=[0-9.]+ ms$)");
  const std::regex stage_line(R"(^    (egress|wire|ingress|shared) +[0-9.]+ us:(.*)$)");
  const std::vector<std::string> lines = lines_of(r.out);
  int replies = 0;
  for (std::size_t i = 0; i < lines.size(); ++i) {
    std::smatch m;
    if (!std::regex_match(lines[i], m, reply_line)) {
      EXPECT_EQ(lines[i].find("bytes from"), std::string::npos)
          << "reply line of another shape: " << lines[i];
      continue;
    }
    ++replies;
    EXPECT_EQ(mask_numbers(m[1]), iputils_replies[m[2]]) << lines[i];
    std::map<std::string, std::string> stages;
    for (std::size_t j = i + 1; j < lines.size() && std::regex_match(lines[j], m, stage_line);
         ++j) {
      stages[m[1]] = m[2];
    }
    ASSERT_TRUE(stages.count("egress") && stages.count("wire") && stages.count("ingress")) << r.out;
    const auto egress = path_steps(stages["egress"]);
    const auto ingress = path_steps(stages["ingress"]);
    ASSERT_GE(egress.size(), 3U) << stages["egress"];
    ASSERT_GE(ingress.size(), 2U) << stages["ingress"];
    EXPECT_EQ(egress.front(), "eth0/xmit") << stages["egress"];
    EXPECT_EQ(egress.back(), uplink() + "/xmit") << stages["egress"];
    const auto crosses = [](const std::vector<std::string>& steps, const std::string& device) {
      return std::any_of(steps.begin(), steps.end(),
                         [&](const std::string& s) { return s.rfind(device + "/", 0) == 0; });
    };
    EXPECT_TRUE(crosses(egress, bed_["TESTBED_CONTAINER_VETH"])) << stages["egress"];
    EXPECT_TRUE(crosses(egress, bed_["TESTBED_BRIDGE"])) << stages["egress"];
    EXPECT_EQ(ingress.front().rfind(uplink() + "/", 0), 0U) << stages["ingress"];
    EXPECT_EQ(ingress.back(), "eth0/rx") << stages["ingress"];
    EXPECT_TRUE(crosses(ingress, bed_["TESTBED_CONTAINER_VETH"])) << stages["ingress"];
  }
  EXPECT_EQ(replies, 3) << r.out;
  EXPECT_NE(r.out.find("corrected rtt min/avg/max/mdev = "), std::string::npos) << r.out;
  EXPECT_NE(r.out.find(", 3/3 replies corrected"), std::string::npos) << r.out;
}

// The same identifier and sequences from two containers at once: MASQUERADE gives them distinct
// identifiers on the uplink, and each container gets its own records, never the other's.
TEST_F(CorrelatorTest, SameIdentifierInTwoContainers) {
  const std::string args = "--json -e 4242 -c 50 -i 0.01";
  Background& other = background("exec " + ping_command(load(1), args, target()), "load1-ping");
  ASSERT_TRUE(wait_until([&] { return count_replies(other.out()) > 0 || !other.running(); },
                         kStartTimeout));
  const CommandResult mine = ping(container(), args);
  const auto other_code = other.wait(milliseconds(10000));
  ASSERT_EQ(mine.exit_code, 0) << mine.err;
  ASSERT_EQ(other_code, std::optional<int>(0)) << other.err();

  const PingJson a = parse_ping_json(mine.out);
  const PingJson b = parse_ping_json(other.out());
  expect_every_reply_corrected(a, "container");
  expect_every_reply_corrected(b, "load1");
  ASSERT_FALSE(a.replies.empty());
  ASSERT_FALSE(b.replies.empty());
  // They really ran at the same time.
  EXPECT_LT(a.replies.front()["time"].get<double>(), b.replies.back()["time"].get<double>());

  EXPECT_EQ(sender_namespaces(a), std::set<std::uint64_t>{netns_cookie_of(container())});
  EXPECT_EQ(sender_namespaces(b), std::set<std::uint64_t>{netns_cookie_of(load(1))});
  const auto wire_a = wire_idents(a);
  const auto wire_b = wire_idents(b);
  std::set<std::uint32_t> on_the_wire = wire_a;
  on_the_wire.insert(wire_b.begin(), wire_b.end());
  EXPECT_NE(on_the_wire, std::set<std::uint32_t>{4242}) << "MASQUERADE rewrote neither identifier";
  std::vector<std::uint32_t> shared;
  std::set_intersection(wire_a.begin(), wire_a.end(), wire_b.begin(), wire_b.end(),
                        std::back_inserter(shared));
  EXPECT_TRUE(shared.empty()) << "both containers' probes left the uplink with identifier "
                              << shared.front();
}

// An unprivileged tool gets its corrections through the socket, which serves each caller the
// records of its own namespace only.
// With nothing configured (no variable, nothing mounted) a container's ping finds the
// correlator on the abstract name inside its own namespace and is corrected. Its records stay
// its own: another container asking on its own listener, and a host process asking on the
// path socket, get nothing of them (the namespace comes from the kernel; a query names none).
TEST_F(CorrelatorTest, ListenerServesEachContainerItsOwnRecords) {
  // Each namespace has a long-lived process, as a container has its init: the correlator
  // listens in namespaces that are in use.
  background("exec ip netns exec " + container() + " sleep 600", "init-container");
  background("exec ip netns exec " + load(1) + " sleep 600", "init-load1");
  for (const std::string& ns : {container(), load(1)}) {
    ASSERT_TRUE(wait_until([&] { return query_records_from(ns, 0, {}, true).error.empty(); },
                           milliseconds(3000)))
        << "no listener in " << ns;
  }
  const std::string plain_env = "env -u MTOOL_CORRELATOR_SOCKET -u MTOOL_BPF_PIN_DIR ";
  // A pid namespace of its own too, as a container has: the correlator's pid is then not
  // visible, which is how the tool knows a neighbour does not hold the name.
  const CommandResult r =
      run("ip netns exec " + container() + " unshare --pid --fork --mount-proc " + plain_env +
          as_nobody() + mtool_binary() + " ping --json -c 5 -i 0.05 " + target());
  ASSERT_EQ(r.exit_code, 0) << r.err;
  expect_every_reply_corrected(parse_ping_json(r.out), "nothing configured, as nobody");
  // Records nobody takes (the namespace stays subscribed by the ping above for a while).
  const CommandResult quiet =
      run("ip netns exec " + container() + " " + plain_env + "MTOOL_CORRELATOR=off " +
          mtool_binary() + " ping -e 778 -c 5 -i 0.05 " + target());
  ASSERT_EQ(quiet.exit_code, 0) << quiet.err;
  const std::vector<std::uint16_t> sequences{1, 2, 3, 4, 5};
  const QueryOutcome other = query_records_from(load(1), 778, sequences, /*abstract_name=*/true);
  ASSERT_EQ(other.error, "");
  for (const mtool_answer& a : other.answers) {
    EXPECT_EQ(a.status, static_cast<std::uint32_t>(MTOOL_ANSWER_NOT_FOUND));
    EXPECT_EQ(a.caller_netns, netns_cookie_of(load(1)));
  }
  const QueryOutcome host = query_records_from("", 778, sequences);
  ASSERT_EQ(host.error, "");
  for (const mtool_answer& a : host.answers) {
    EXPECT_EQ(a.status, static_cast<std::uint32_t>(MTOOL_ANSWER_NOT_FOUND));
    EXPECT_EQ(a.caller_in_host_netns, 1U);
  }
}

TEST_F(CorrelatorTest, UnprivilegedGetsOwnCorrections) {
  const CommandResult r = ping(container(), "--json -c 5 -i 0.05", /*unprivileged=*/true);
  ASSERT_EQ(r.exit_code, 0) << r.err;
  expect_every_reply_corrected(parse_ping_json(r.out), "nobody in the container");
  const auto status = correlator_answers(kSocket);
  ASSERT_TRUE(status);
  const std::string text = status.message();
  std::smatch m;
  ASSERT_TRUE(std::regex_search(text, m, std::regex(R"(([0-9]+) records served)"))) << text;
  EXPECT_GE(std::stoull(m[1]), 5U) << "the unprivileged ping did not go through the socket:\n"
                                   << text;

  // Records nobody takes: the container is still subscribed (by the ping above), but this ping
  // does not ask for its corrections.
  const CommandResult quiet = run(ping_command(container(), "-e 777 -c 5 -i 0.05", target(), false,
                                               correlator_env() + "MTOOL_CORRELATOR=off "));
  ASSERT_EQ(quiet.exit_code, 0) << quiet.err;
  ASSERT_EQ(quiet.out.find("corrected="), std::string::npos) << quiet.out;
  const std::vector<std::uint16_t> sequences{1, 2, 3, 4, 5};

  // Another container asks for them first (a found record would be consumed): nothing.
  const QueryOutcome stranger = query_records_from(load(1), 777, sequences);
  ASSERT_EQ(stranger.error, "");
  for (std::size_t i = 0; i < sequences.size(); ++i) {
    const mtool_answer& a = stranger.answers[i];
    EXPECT_EQ(a.status, static_cast<std::uint32_t>(MTOOL_ANSWER_NOT_FOUND))
        << "load1 got seq " << sequences[i];
    EXPECT_EQ(a.caller_netns, netns_cookie_of(load(1)));
    EXPECT_EQ(a.caller_in_host_netns, 0U);
  }

  // Another process of the same container: nothing either, for the records name the ping
  // that sent them; and asking took nothing away.
  const QueryOutcome neighbour = query_records_from(container(), 777, sequences);
  ASSERT_EQ(neighbour.error, "");
  const UniqueFd records(bpf_obj_get((std::string(kPinDir) + "/" MTOOL_MAP_RECORDS).c_str()));
  ASSERT_TRUE(records) << "cannot open the pinned records map";
  for (std::size_t i = 0; i < sequences.size(); ++i) {
    const mtool_answer& a = neighbour.answers[i];
    EXPECT_EQ(a.status, static_cast<std::uint32_t>(MTOOL_ANSWER_NOT_FOUND))
        << "a neighbour process got seq " << sequences[i];
    EXPECT_EQ(a.caller_netns, netns_cookie_of(container()));
    mtool_probe_key key{};
    key.netns = netns_cookie_of(container());
    key.family = AF_INET;
    key.protocol = IPPROTO_ICMP;
    key.flow = 777;
    key.sequence = sequences[i];
    mtool_record kept{};
    ASSERT_EQ(bpf_map_lookup_elem(records.get(), &key, &kept), 0)
        << "seq " << sequences[i] << " gone";
    EXPECT_NE(kept.sender_pid, 0U);
    EXPECT_GT(kept.egress_count, 0);
    EXPECT_GT(kept.ingress_count, 0);
  }
}

// A second container with NET_RAW (load1, as root) subscribes through the correlator, then
// floods probes nobody answers and forges the target's echo replies for the measuring
// container's identifier. The measuring container's corrections stay whole: every reply
// corrected, its target side only from the target's namespace; the correlator counts what it
// refused (the neighbour's share of the maps, the foreign crossings).
TEST_F(CorrelatorTest, HostileNeighbourCannotSkewOrCrowdOut) {
  const ScopedRule drop(bed_["TESTBED_TARGET_NS"], "INPUT -p udp --dport 40000:40999 -j DROP");
  ASSERT_TRUE(drop.added()) << drop.error();
  const std::string host_uplink_address = target().substr(0, target().rfind('.')) + ".1";
  background("ip netns exec " + load(1) + " " + correlator_env() + mtool_binary() +
                 " ping -q -i 0.2 -c 100 " + target(),
             "hostile-subscriber");
  // Subscribed once the daemon counts its connection (the status query is the other one).
  ASSERT_TRUE(wait_until(
      [] {
        return std::string(correlator_answers(kSocket).message()).find("socket: 1 clients") !=
               std::string::npos;
      },
      milliseconds(3000)));
  background("ip netns exec " + load(1) + " /usr/bin/python3 " + MTOOL_SOURCE_DIR +
                 "/tests/integration/hostile_neighbour.py " + target() + " " + host_uplink_address +
                 " 777 12",
             "hostile");
  std::this_thread::sleep_for(milliseconds(1000));  // the maps under attack before we start

  const CommandResult r = ping(container(), "-e 777 --json -c 200 -i 0.01");
  ASSERT_EQ(r.exit_code, 0) << r.err;
  const PingJson p = parse_ping_json(r.out);
  expect_every_reply_corrected(p, "the measuring container under attack");
  const std::uint64_t target_ns = netns_cookie_of(bed_["TESTBED_TARGET_NS"]);
  for (const json& reply : p.replies) {
    for (const json& crossing : reply["correction"]["target_path"]) {
      ASSERT_EQ(crossing["netns"].get<std::uint64_t>(), target_ns)
          << "a crossing outside the target entered the target side: " << reply.dump();
    }
  }
  const std::string status = std::string(correlator_answers(kSocket).message());
  std::smatch m;
  ASSERT_TRUE(std::regex_search(
      status, m,
      std::regex(
          R"(over namespace rate ([0-9]+), over namespace quota ([0-9]+), foreign crossings ([0-9]+))")))
      << status;
  EXPECT_GT(std::stoull(m[1]) + std::stoull(m[2]), 0U) << "the flood never reached a limit:\n"
                                                       << status;
}

// Restarting the correlator under a running ping: the new one reuses the pinned maps, a root
// ping keeps its map descriptors, an unprivileged one reconnects to the new socket.
TEST_F(CorrelatorTest, RestartKeepsCorrecting) {
  const std::string args = "--json -i 0.05 -c 100";
  Background& root = background("exec " + ping_command(container(), args, target()), "root-ping");
  Background& user =
      background("exec " + ping_command(container(), args, target(), true), "user-ping");
  ASSERT_TRUE(
      wait_until([&] { return count_replies(root.out()) >= 20 && count_replies(user.out()) >= 20; },
                 milliseconds(10000)))
      << root.err() << user.err();

  ASSERT_EQ(correlator_.stop(), std::optional<int>(0)) << correlator_.log();
  ASSERT_TRUE(correlator_.start(uplink()));
  const std::size_t root_before = count_replies(root.out());
  const std::size_t user_before = count_replies(user.out());
  EXPECT_NE(correlator_.log().find("maps reused from " + std::string(kPinDir)), std::string::npos)
      << correlator_.log();
  ASSERT_LE(std::max(root_before, user_before), 60U)
      << "the restart took too long to test anything";

  ASSERT_EQ(root.wait(milliseconds(15000)), std::optional<int>(0)) << root.err();
  ASSERT_EQ(user.wait(milliseconds(15000)), std::optional<int>(0)) << user.err();
  const PingJson root_run = parse_ping_json(root.out());
  const PingJson user_run = parse_ping_json(user.out());
  ASSERT_EQ(root_run.replies.size(), 100U);
  ASSERT_EQ(user_run.replies.size(), 100U);
  for (const PingJson* run_of : {&root_run, &user_run}) {
    for (std::size_t i = 0; i < 20; ++i) {
      EXPECT_TRUE(run_of->replies[i].contains("correction"))
          << "before the restart: " << run_of->replies[i].dump();
    }
  }
  for (const auto& [who, run_of] : {std::pair{"root", &root_run}, std::pair{"nobody", &user_run}}) {
    std::string missed;
    for (const json& reply : run_of->replies) {
      if (!reply.contains("correction")) missed += " " + std::to_string(reply["seq"].get<int>());
    }
    std::cout << who << ": restart done after " << (run_of == &root_run ? root_before : user_before)
              << " replies; uncorrected:" << (missed.empty() ? " none" : missed) << "\n";
  }
  // Everything sent well after the restart is corrected: the final 30 root replies (its map
  // descriptors stay valid), the final 20 unprivileged ones (after its reconnection delay).
  for (std::size_t i = root_run.replies.size() - 30; i < root_run.replies.size(); ++i) {
    EXPECT_TRUE(root_run.replies[i].contains("correction"))
        << "root, after the restart: " << root_run.replies[i].dump();
  }
  for (std::size_t i = user_run.replies.size() - 20; i < user_run.replies.size(); ++i) {
    EXPECT_TRUE(user_run.replies[i].contains("correction"))
        << "nobody, after the restart: " << user_run.replies[i].dump();
  }
  // Once (an ASan run in CI), one late reply of each ping, sent at the same microsecond, went
  // uncorrected. The kernel side's counters (slot collisions, stale flights, rate and quota
  // limits) say where a flight was lost.
  if (HasFailure()) {
    std::cout << run(mtool_binary() + " correlator status --socket " + kSocket).out;
  }
}

// A probe the kernel transmits later from a softirq stays its sender's, even when the task the
// softirq interrupted runs in the same container. Here the probe waits for its gateway's
// address: the first ARP request is dropped on its way out, the retransmission comes from the
// neighbour timer, and its answer sends the queued probe while a busy task of the container
// holds the CPU. (Two pings started together once lost a first reply this way: the one whose
// send resolved the gateway was taken for the other's sender.)
TEST_F(CorrelatorTest, ProbeSentFromASoftirqStaysItsSenders) {
  const std::string in_container = "ip netns exec " + container() + " ";
  const std::string cpu = std::to_string(std::max(1L, sysconf(_SC_NPROCESSORS_ONLN)) - 1);
  const std::string gateway = bed_["TESTBED_GATEWAY"];
  ASSERT_FALSE(gateway.empty());
  must(in_container + "sysctl -qw net.ipv4.neigh.eth0.retrans_time_ms=300");
  must(in_container + "arptables-nft -A OUTPUT -j DROP");
  Background& busy = background(
      "exec " + in_container + "taskset -c " + cpu + " /usr/bin/python3 -c 'while True: pass'",
      "busy-task");
  ASSERT_TRUE(busy.started());
  Background& user = background("exec taskset -c " + cpu + " " +
                                    ping_command(container(), "--json -c 3 -i 0.5", target(), true),
                                "user-ping");
  // The first request went out unanswered: from now on the next one is answered.
  ASSERT_TRUE(wait_until(
      [&] {
        return run(in_container + "ip neigh show " + gateway).out.find("INCOMPLETE") !=
               std::string::npos;
      },
      milliseconds(5000)))
      << user.err();
  must(in_container + "arptables-nft -F OUTPUT");

  ASSERT_EQ(user.wait(milliseconds(10000)), std::optional<int>(0)) << user.err();
  const PingJson p = parse_ping_json(user.out());
  ASSERT_EQ(p.replies.size(), 3U) << user.out();
  EXPECT_GT(p.replies[0]["rtt_ms"].get<double>(), 100.0)
      << "the first probe did not wait for the gateway's address: " << p.replies[0].dump();
  expect_every_reply_corrected(p, "nobody, first probe sent from a softirq");
}

// No correlator where the environment points: a plain drop-in that says so once on stderr.
TEST_F(CorrelatorTest, NoCorrelatorSaysSoOnce) {
  const std::string nowhere =
      "env MTOOL_BPF_PIN_DIR=/sys/fs/bpf/mtool-test-absent "
      "MTOOL_CORRELATOR_SOCKET=/run/mtool-test-absent/correlator.sock ";
  const CommandResult r = run(ping_command(container(), "-c 5 -i 0.05", target(), false, nowhere));
  EXPECT_EQ(r.exit_code, 0) << r.err;
  EXPECT_EQ(r.out.find("corrected="), std::string::npos) << r.out;
  EXPECT_EQ(r.out.find("replies corrected"), std::string::npos) << r.out;
  int notices = 0;
  for (const std::string& line : lines_of(r.err)) {
    notices += line.rfind("ping: corrections unavailable: ", 0) == 0;
  }
  EXPECT_EQ(notices, 1) << r.err;
  EXPECT_EQ(lines_of(r.err).size(), 1U) << r.err;
  // Otherwise what iputils prints.
  const CommandResult iputils =
      run("ip netns exec " + container() + " " + kIputils + " -c 5 -i 0.05 " + target());
  EXPECT_EQ(mask_numbers(r.out), mask_numbers(iputils.out));

  const CommandResult off = run(ping_command(container(), "-c 5 -i 0.05", target(), false,
                                             nowhere + "MTOOL_CORRELATOR=off "));
  EXPECT_EQ(off.exit_code, 0) << off.err;
  EXPECT_EQ(off.err, "");
  EXPECT_EQ(off.out.find("corrected="), std::string::npos) << off.out;
}

// The correlator leaves its maps pinned when it stops (its next start reuses them). A tool that
// finds them with nobody behind them is iputils' ping, byte for byte: no summary line about
// corrections, nothing on stderr. Stopped, the daemon says so in the pins; killed, its
// heartbeat ages out after MTOOL_HEARTBEAT_FRESH_S.
TEST_F(CorrelatorTest, StoppedCorrelatorsPinsAreNotTrusted) {
  const std::string args = " -c 3 -i 0.05 " + target();
  const auto view_ping = [&] {
    return run(in_default_view(container(), kPinDir, kSocketDir, mtool_binary() + " ping" + args));
  };
  const CommandResult iputils = run("ip netns exec " + container() + " " + kIputils + args);
  ASSERT_EQ(iputils.exit_code, 0) << iputils.err;

  // Running, where a tool looks by default: found without any configuration.
  const CommandResult live = view_ping();
  ASSERT_EQ(live.exit_code, 0) << live.err;
  EXPECT_NE(live.out.find(", 3/3 replies corrected"), std::string::npos) << live.out << live.err;
  EXPECT_EQ(live.err, "");

  ASSERT_EQ(correlator_.stop(), std::optional<int>(0)) << correlator_.log();
  ASSERT_EQ(access((std::string(kPinDir) + "/" MTOOL_MAP_RECORDS).c_str(), F_OK), 0)
      << "the stopped correlator removed its pins: nothing stale to test";
  const CommandResult stopped = view_ping();
  EXPECT_EQ(stopped.exit_code, 0) << stopped.err;
  EXPECT_EQ(mask_numbers(stopped.out), mask_numbers(iputils.out));
  EXPECT_EQ(stopped.err, "");

  ASSERT_TRUE(correlator_.start(uplink()));
  ASSERT_EQ(kill(correlator_.pid(), SIGKILL), 0);
  correlator_.stop();  // reaps it
  std::this_thread::sleep_for(std::chrono::seconds(MTOOL_HEARTBEAT_FRESH_S) + milliseconds(1100));
  const CommandResult killed = view_ping();
  EXPECT_EQ(killed.exit_code, 0) << killed.err;
  EXPECT_EQ(mask_numbers(killed.out), mask_numbers(iputils.out));
  EXPECT_EQ(killed.err, "");
}

// A setuid-root install (some distributions ship ping so) run by uid 10001: the caller's
// MTOOL_BPF_PIN_DIR and MTOOL_CORRELATOR_SOCKET are ignored, so a pin directory of the caller's
// own with links to the correlator's maps gets nothing written through it, and the process is
// the real user for good (saved ids too) before it opens anything. The image's install
// (cap_net_raw+p, no id changes) honours the same variables.
TEST_F(CorrelatorTest, SetuidInstallIgnoresTheCallersPaths) {
  if (access("/run/mtool/correlator.sock", F_OK) == 0 || access("/sys/fs/bpf/mtool", F_OK) == 0)
    GTEST_SKIP() << "a correlator is installed at the default paths on this host";
  const InstalledCopies copies;
  const std::string evil = copies.dir + "/evil";
  must("mkdir -m 0755 " + evil);
  for (const char* map :
       {MTOOL_MAP_RECORDS, MTOOL_MAP_DEVICES, MTOOL_MAP_INFO, MTOOL_MAP_SUBSCRIBERS})
    must("ln -s " + std::string(kPinDir) + "/" + map + " " + evil + "/" + map);
  must("chown -R " + std::to_string(kImageUser) + ":" + std::to_string(kImageUser) + " " + evil);
  const std::string env =
      "env MTOOL_BPF_PIN_DIR=" + evil + " MTOOL_CORRELATOR_SOCKET=" + kSocket + " ";
  const std::string in_container = "nsenter --net=/run/netns/" + container() + " ";
  const std::uint64_t netns = netns_cookie_of(container());
  ASSERT_EQ(subscribed(kPinDir, netns), std::optional<bool>(false));

  const CommandResult setuid =
      run(in_container + as_image_user() + env + copies.setuid_root + " -c 3 -i 0.05 " + target());
  ASSERT_EQ(setuid.exit_code, 0) << setuid.err;
  EXPECT_NE(setuid.out.find("3 received"), std::string::npos) << setuid.out;
  EXPECT_EQ(setuid.out.find("corrected"), std::string::npos) << "the variables were honoured:\n"
                                                             << setuid.out;
  EXPECT_EQ(setuid.err, "") << "nothing was expected where the variables are ignored";
  EXPECT_EQ(subscribed(kPinDir, netns), std::optional<bool>(false))
      << "the setuid tool wrote the subscribers map through the caller's pin directory";

  // While it runs: the real user (real, effective, saved, filesystem ids) and no capability.
  Background& running = background(
      "exec " + in_container + as_image_user() + copies.setuid_root + " -c 40 -i 0.05 " + target(),
      "setuid-ping");
  ASSERT_TRUE(wait_until([&] { return running.out().find("icmp_seq=2 ") != std::string::npos; },
                         kStartTimeout))
      << running.err();
  const std::string ids = std::to_string(kImageUser) + "\t" + std::to_string(kImageUser) + "\t" +
                          std::to_string(kImageUser) + "\t" + std::to_string(kImageUser);
  EXPECT_EQ(status_field(running.pid(), "Uid"), ids);
  EXPECT_EQ(status_field(running.pid(), "Gid"), ids);
  EXPECT_EQ(status_field(running.pid(), "CapEff"), "0000000000000000");
  EXPECT_EQ(status_field(running.pid(), "CapPrm"), "0000000000000000");

  // The image's install: the same variables are the caller's to set (the Helm chart does).
  const CommandResult image = run(in_container + as_image_user() + env + copies.file_capability +
                                  " -c 3 -i 0.05 " + target());
  ASSERT_EQ(image.exit_code, 0) << image.err;
  EXPECT_NE(image.out.find(", 3/3 replies corrected"), std::string::npos) << image.out << image.err;
  EXPECT_EQ(image.err, "");
  EXPECT_EQ(subscribed(kPinDir, netns), std::optional<bool>(true))
      << "the correlator subscribed the image's tool (the check above can see a subscription)";
}

// --require-correction (the Helm chart's `helm test`): success only with every reply corrected,
// a usage error when no correlator can correct anything.
TEST_F(CorrelatorTest, RequireCorrectionIsAHealthCheck) {
  const CommandResult ok = ping(container(), "--require-correction -c 3 -i 0.05", true);
  EXPECT_EQ(ok.exit_code, 0) << ok.err << ok.out;
  EXPECT_EQ(ok.err, "");
  const CommandResult none =
      run(ping_command(container(), "--require-correction -c 1", target(), false,
                       "env MTOOL_CORRELATOR_SOCKET=/run/mtool-test-absent/correlator.sock "
                       "MTOOL_BPF_PIN_DIR=/sys/fs/bpf/mtool-test-absent "));
  EXPECT_EQ(none.exit_code, 2) << none.err;
  EXPECT_NE(none.err.find("--require-correction: no correlator"), std::string::npos) << none.err;
  EXPECT_EQ(none.out, "");
}

// The host's own pings cross no container path: nothing to correct, nothing to say.
TEST_F(CorrelatorTest, HostPingIsNotCorrected) {
  const CommandResult r = run(correlator_env() + mtool_binary() + " ping -c 3 -i 0.05 " + target());
  EXPECT_EQ(r.exit_code, 0) << r.err;
  EXPECT_NE(r.out.find("3 received"), std::string::npos) << r.out;
  EXPECT_EQ(r.out.find("corrected"), std::string::npos) << r.out;
  EXPECT_EQ(r.err, "");
  const CommandResult j =
      run(correlator_env() + mtool_binary() + " ping --json -c 3 -i 0.05 " + target());
  EXPECT_EQ(j.exit_code, 0) << j.err;
  EXPECT_EQ(j.err, "");
  const PingJson p = parse_ping_json(j.out);
  EXPECT_EQ(p.replies.size(), 3U) << j.out;
  for (const json& reply : p.replies) EXPECT_FALSE(reply.contains("correction")) << reply.dump();
  EXPECT_FALSE(p.summary.contains("correction")) << p.summary.dump();
}

// `mtool correlator status` reports this correlator, its uplink and what it did.
TEST_F(CorrelatorTest, StatusCounters) {
  const CommandResult r = ping(container(), "-c 5 -i 0.05");
  ASSERT_EQ(r.exit_code, 0) << r.err;
  ASSERT_NE(r.out.find("5/5 replies corrected"), std::string::npos) << r.out;
  const CommandResult s = run(mtool_binary() + " correlator status --socket " + kSocket);
  ASSERT_EQ(s.exit_code, 0) << s.err;
  EXPECT_NE(s.out.find("correlator: running, pid " + std::to_string(correlator_.pid()) + ","),
            std::string::npos)
      << s.out;
  EXPECT_NE(s.out.find("uplinks: " + uplink() + " ("), std::string::npos) << s.out;
  EXPECT_GE(status_counter(s.out, "egress started"), 5U) << s.out;
  EXPECT_GE(status_counter(s.out, "egress completed"), 5U) << s.out;
  EXPECT_GE(status_counter(s.out, "replies matched"), 5U) << s.out;
  EXPECT_GE(status_counter(s.out, "records written"), 5U) << s.out;

  // And once it is gone, status says so.
  ASSERT_EQ(correlator_.stop(), std::optional<int>(0)) << correlator_.log();
  const CommandResult gone = run(mtool_binary() + " correlator status --socket " + kSocket);
  EXPECT_EQ(gone.exit_code, 1);
  EXPECT_NE(gone.err.find("not running"), std::string::npos) << gone.err;
}

// No correlator anywhere and nothing configured (a plain host or container): ping and traceroute
// are iputils' and Butskoy's, stdout and stderr alike. With an endpoint configured and nobody
// there, one line says so, the program named as iputils names itself (its argv[0]).
TEST(CorrelatorAbsent, ToolsAreTheirDropIns) {
  if (!running_as_root()) GTEST_SKIP() << "needs root: private mount namespaces";
  const std::string names = "/tmp/mtool-test-names";
  struct Cleanup {
    std::string dir;
    ~Cleanup() { run("rm -rf " + dir + " " + kViewDir); }
  } cleanup{names};
  run("rm -rf " + names);
  must("mkdir -p " + names + " && ln -s " + mtool_binary() + " " + names + "/ping && ln -s " +
       mtool_binary() + " " + names + "/traceroute");
  const auto nothing_installed = [](const std::string& command) {
    return run(in_default_view("", "", "", command));
  };
  const auto mask_trace = [](const std::string& text) {
    return std::regex_replace(text, std::regex(R"([0-9]+\.[0-9]+ ms)"), "T ms");
  };

  const std::string ping_args = " -c 2 -i 0.2 127.0.0.1";
  const CommandResult ours = nothing_installed(names + "/ping" + ping_args);
  const CommandResult theirs = run(std::string(kIputils) + ping_args);
  ASSERT_EQ(ours.exit_code, 0) << ours.err;
  EXPECT_EQ(mask_numbers(ours.out), mask_numbers(theirs.out));
  EXPECT_EQ(ours.err, theirs.err);
  EXPECT_EQ(ours.err, "");

  const std::string trace_args = " -n -q 1 -m 2 127.0.0.1";
  const CommandResult our_trace = nothing_installed(names + "/traceroute" + trace_args);
  const CommandResult butskoy = run("/usr/sbin/traceroute" + trace_args);
  ASSERT_EQ(our_trace.exit_code, 0) << our_trace.err;
  EXPECT_EQ(mask_trace(our_trace.out), mask_trace(butskoy.out));
  EXPECT_EQ(our_trace.err, butskoy.err);
  EXPECT_EQ(our_trace.err, "");

  // Configured, absent: one line, named by argv[0] as iputils names itself in its own errors.
  const CommandResult iputils_error = run(std::string(kIputils) + " -c 0 127.0.0.1");
  ASSERT_EQ(iputils_error.err.rfind(std::string(kIputils) + ": ", 0), 0U) << iputils_error.err;
  const std::string nowhere = "env MTOOL_CORRELATOR_SOCKET=/run/mtool-test-absent/correlator.sock ";
  for (const std::string& tool :
       {std::string("ping -c 1"), std::string("traceroute -n -q 1 -m 1")}) {
    const std::string program = names + "/" + tool.substr(0, tool.find(' '));
    const CommandResult r = nothing_installed(nowhere + names + "/" + tool + " 127.0.0.1");
    EXPECT_EQ(r.exit_code, 0) << r.err;
    EXPECT_EQ(r.err, program +
                         ": corrections unavailable: no correlator (cannot connect to "
                         "/run/mtool-test-absent/correlator.sock: No such file or directory)\n");
    EXPECT_EQ(r.out.find("corrected"), std::string::npos) << r.out;
  }
}

// Without --uplink the correlator follows the default routes as they change. A veth pair with
// a default route of very low preference (metric 4000) comes and goes; no packet is sent.
TEST(CorrelatorUplinks, FollowsDefaultRoutes) {
  if (!running_as_root()) GTEST_SKIP() << "needs root: adds a veth pair and loads BPF";
  const std::string pin = "/sys/fs/bpf/mtool-it-uplinks";
  const std::string sock = "/run/mtool-it/uplinks.sock";
  struct Cleanup {
    std::string pin;
    ~Cleanup() {
      run("ip link del mtbupl0 2>/dev/null");
      run("pkill -f 'correlator --pin-dir " + pin + "'");
      run("rm -rf " + pin + " /run/mtool-it");
    }
  } cleanup{pin};
  run("ip link del mtbupl0 2>/dev/null");
  must(
      "ip link add mtbupl0 type veth peer name mtbupl1 && ip link set mtbupl0 up && ip link set "
      "mtbupl1 up");
  must("ip addr add 198.18.250.1/30 dev mtbupl0");
  run(mtool_binary() + " correlator --pin-dir " + pin + " --socket " + sock + " >/dev/null 2>&1 &");
  const auto status_has = [&](const std::string& text, bool expected) {
    for (int i = 0; i < 100; ++i) {
      const CommandResult s = run(mtool_binary() + " correlator status --socket " + sock);
      if (s.exit_code == 0 && (s.out.find(text) != std::string::npos) == expected) return true;
      std::this_thread::sleep_for(std::chrono::milliseconds(50));
    }
    return false;
  };
  EXPECT_TRUE(status_has("(default routes)", true));
  EXPECT_TRUE(status_has("mtbupl0", false));
  must("ip route add default via 198.18.250.2 dev mtbupl0 metric 4000");
  EXPECT_TRUE(status_has("mtbupl0", true)) << "route added, uplink not followed";
  must("ip route del default via 198.18.250.2 dev mtbupl0 metric 4000");
  EXPECT_TRUE(status_has("mtbupl0", false)) << "route removed, uplink kept";
}

}  // namespace
}  // namespace mtool::testing
