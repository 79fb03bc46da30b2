// The correlator end to end on the testbed (tests/testbed): a Docker-like container path with
// two load containers, `mtool correlator` on the host, and pings from the container. Root
// only; everything (namespaces, NAT rules, the daemon, its pins and socket) is removed after
// each test, also when it fails.
#include <fcntl.h>
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <sched.h>
#include <signal.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <cstring>
#include <map>
#include <nlohmann/json.hpp>
#include <regex>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

#include "correlator_abi.h"
#include "harness.h"

namespace mtool::testing {
namespace {

using nlohmann::json;

constexpr const char* kPinDir = "/sys/fs/bpf/mtool-it";
constexpr const char* kSocketDir = "/run/mtool-it";
constexpr const char* kSocket = "/run/mtool-it/correlator.sock";
constexpr const char* kIputils = "env PATH=/usr/bin:/bin ping";

std::string testbed() {
  return std::string("MTOOL_TESTBED_INDEX=7 bash ") + MTOOL_SOURCE_DIR "/tests/testbed/testbed.sh";
}

// The environment through which tools find this test's correlator.
std::string with_env() {
  return std::string("env MTOOL_BPF_PIN_DIR=") + kPinDir + " MTOOL_CORRELATOR_SOCKET=" + kSocket +
         " ";
}

std::vector<json> json_lines(const std::string& text, const char* type) {
  std::vector<json> out;
  std::istringstream in(text);
  for (std::string line; std::getline(in, line);) {
    if (line.empty() || line[0] != '{') continue;
    json o = json::parse(line);
    if (o["type"] == type) out.push_back(std::move(o));
  }
  return out;
}

std::uint32_t netns_inode(const std::string& name) {
  struct stat st {};
  return stat(("/run/netns/" + name).c_str(), &st) == 0 ? static_cast<std::uint32_t>(st.st_ino) : 0;
}

// Asks the correlator's socket for a record from inside namespace `ns`, as uid 65534, the way
// a default container would. Returns the answer (status NOT_FOUND when nothing matched).
mtool_answer query_from(const std::string& ns, std::uint16_t flow, std::uint16_t sequence) {
  int pipe_fds[2];
  if (pipe(pipe_fds) != 0) return {};
  const pid_t child = fork();
  if (child == 0) {
    close(pipe_fds[0]);
    mtool_answer answer{};
    const int nsfd = open(("/run/netns/" + ns).c_str(), O_RDONLY | O_CLOEXEC);
    if (nsfd >= 0 && setns(nsfd, CLONE_NEWNET) == 0 && setgid(65534) == 0 && setuid(65534) == 0) {
      const int fd = socket(AF_UNIX, SOCK_SEQPACKET, 0);
      sockaddr_un address{};
      address.sun_family = AF_UNIX;
      std::strncpy(address.sun_path, kSocket, sizeof address.sun_path - 1);
      mtool_query query{};
      query.version = MTOOL_ABI_VERSION;
      query.kind = MTOOL_QUERY_RECORD;
      query.family = AF_INET;
      query.protocol = IPPROTO_ICMP;
      query.flow = flow;
      query.sequence = sequence;
      if (connect(fd, reinterpret_cast<sockaddr*>(&address), sizeof address) == 0 &&
          send(fd, &query, sizeof query, 0) == sizeof query) {
        (void)!recv(fd, &answer, sizeof answer, 0);
      }
    }
    (void)!write(pipe_fds[1], &answer, sizeof answer);
    _exit(0);
  }
  close(pipe_fds[1]);
  mtool_answer answer{};
  (void)!read(pipe_fds[0], &answer, sizeof answer);
  close(pipe_fds[0]);
  waitpid(child, nullptr, 0);
  return answer;
}

class CorrelatorTestbed : public ::testing::Test {
 protected:
  void SetUp() override {
    if (!running_as_root()) GTEST_SKIP() << "needs root: creates network namespaces and loads BPF";
    const CommandResult up = run(testbed() + " up --load 2");
    ASSERT_EQ(up.exit_code, 0) << up.err;
    std::istringstream vars(up.out);
    for (std::string line; std::getline(vars, line);) {
      if (const auto eq = line.find('='); eq != std::string::npos)
        env_[line.substr(0, eq)] = line.substr(eq + 1);
    }
    run(std::string("rm -rf ") + kPinDir + " " + kSocketDir);
    start_correlator();
  }

  void TearDown() override {
    for (const pid_t pid : background_) kill(pid, SIGKILL);
    stop_correlator();
    run(testbed() + " down");
    run(std::string("rm -rf ") + kPinDir + " " + kSocketDir);
  }

  void start_correlator() {
    const CommandResult r =
        run(mtool_binary() + " correlator --uplink " + env_["TESTBED_UPLINK"] + " --pin-dir " +
            kPinDir + " --socket " + kSocket + " >/dev/null 2>&1 & echo $!");
    correlator_pid_ = std::stoi(r.out);
    for (int i = 0; i < 100; ++i) {
      if (run(mtool_binary() + " correlator status --socket " + kSocket).exit_code == 0) return;
      std::this_thread::sleep_for(std::chrono::milliseconds(50));
    }
    FAIL() << "the correlator did not start";
  }

  void stop_correlator() {
    if (correlator_pid_ <= 0) return;
    kill(correlator_pid_, SIGTERM);
    for (int i = 0; i < 100 && kill(correlator_pid_, 0) == 0; ++i) {
      std::this_thread::sleep_for(std::chrono::milliseconds(20));
    }
    correlator_pid_ = -1;
  }

  // Starts `command` in the background; killed at teardown.
  pid_t background(const std::string& command) {
    const CommandResult r = run("(" + command + ") >/dev/null 2>&1 & echo $!");
    const pid_t pid = std::stoi(r.out);
    background_.push_back(pid);
    return pid;
  }

  std::string in(const std::string& where) { return testbed() + " exec " + where + " "; }
  std::string target() { return env_["TESTBED_TARGET"]; }

  static void expect_all_corrected(const std::vector<json>& replies, std::size_t expected) {
    ASSERT_EQ(replies.size(), expected);
    for (const auto& r : replies) {
      ASSERT_TRUE(r.contains("correction")) << r.dump();
      const auto& c = r["correction"];
      EXPECT_GT(c["egress_us"].get<double>(), 0.0) << r.dump();
      EXPECT_GT(c["ingress_us"].get<double>(), 0.0) << r.dump();
      EXPECT_LT(c["corrected_rtt_ms"].get<double>(), r["rtt_ms"].get<double>()) << r.dump();
      EXPECT_GT(c["corrected_rtt_ms"].get<double>(), 0.0) << r.dump();
    }
  }

  std::map<std::string, std::string> env_;
  pid_t correlator_pid_ = -1;
  std::vector<pid_t> background_;
};

TEST_F(CorrelatorTestbed, EveryReplyCorrectedUnderCoLocatedFloods) {
  background(in("load1") + kIputils + " -f -q " + target());
  background(in("load2") + kIputils + " -f -q " + target());
  const CommandResult r = run(in("container") + with_env() + mtool_binary() +
                              " ping --json -c 200 -i 0.005 " + target());
  ASSERT_EQ(r.exit_code, 0) << r.err;
  expect_all_corrected(json_lines(r.out, "reply"), 200);
  const auto summary = json_lines(r.out, "summary");
  ASSERT_EQ(summary.size(), 1U);
  EXPECT_EQ(summary[0]["correction"]["corrected"], summary[0]["received"]);
}

TEST_F(CorrelatorTestbed, BreakdownNamesTheDevicesCrossed) {
  const CommandResult r = run(in("container") + with_env() + mtool_binary() +
                              " ping --breakdown -c 2 -i 0.2 " + target());
  ASSERT_EQ(r.exit_code, 0) << r.err;
  const std::string veth = env_["TESTBED_CONTAINER_VETH"];
  const std::string bridge = env_["TESTBED_BRIDGE"];
  const std::string uplink = env_["TESTBED_UPLINK"];
  EXPECT_NE(r.out.find("egress"), std::string::npos) << r.out;
  std::istringstream lines(r.out);
  int egress = 0;
  int ingress = 0;
  for (std::string line; std::getline(lines, line);) {
    if (line.rfind("64 bytes from", 0) == 0) {
      EXPECT_TRUE(std::regex_search(
          line,
          std::regex(
              R"(icmp_seq=\d+ ttl=\d+ time=[0-9.]+ ms corrected=[0-9.]+ ms overhead=[0-9.]+ ms$)")))
          << line;
    } else if (line.rfind("    egress ", 0) == 0) {
      ++egress;
      EXPECT_NE(line.find(": eth0/xmit 0.0 > " + veth + "/rx"), std::string::npos) << line;
      EXPECT_NE(line.find(bridge + "/receive"), std::string::npos) << line;
      EXPECT_NE(line.find("> " + uplink + "/xmit "), std::string::npos) << line;
    } else if (line.rfind("    ingress ", 0) == 0) {
      ++ingress;
      EXPECT_NE(line.find(": " + uplink + "/rx 0.0"), std::string::npos) << line;
      EXPECT_NE(line.find("> eth0/rx "), std::string::npos) << line;
    }
  }
  EXPECT_EQ(egress, 2);
  EXPECT_EQ(ingress, 2);
}

TEST_F(CorrelatorTestbed, SameIdentifierInTwoContainersKeepsTwoRecords) {
  // Both send identifier 4242 with the same sequences at the same time: MASQUERADE must
  // rewrite one of them on the uplink, and each container still gets its own records.
  const std::string file_a = "/tmp/mtool-it-a.json";
  const std::string file_b = "/tmp/mtool-it-b.json";
  const std::string ping =
      with_env() + mtool_binary() + " ping --json -e 4242 -c 50 -i 0.01 " + target();
  const pid_t a = background(in("container") + ping + " > " + file_a);
  const pid_t b = background(in("load1") + ping + " > " + file_b);
  for (const pid_t pid : {a, b}) {
    for (int i = 0; i < 300 && kill(pid, 0) == 0; ++i)
      std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
  const auto replies_a = json_lines(run("cat " + file_a).out, "reply");
  const auto replies_b = json_lines(run("cat " + file_b).out, "reply");
  run("rm -f " + file_a + " " + file_b);
  expect_all_corrected(replies_a, 50);
  expect_all_corrected(replies_b, 50);
  bool rewritten = false;
  for (const auto* replies : {&replies_a, &replies_b}) {
    const auto first_ns = (*replies)[0]["correction"]["egress_path"][0]["netns"];
    for (const auto& r : *replies) {
      EXPECT_EQ(r["correction"]["egress_path"][0]["netns"], first_ns);  // always its own namespace
      rewritten = rewritten || r["correction"]["wire_ident"] != 4242;
    }
  }
  EXPECT_NE(replies_a[0]["correction"]["egress_path"][0]["netns"],
            replies_b[0]["correction"]["egress_path"][0]["netns"]);
  EXPECT_TRUE(rewritten)
      << "NAT left both identifiers alone: the test did not exercise the rewrite";
}

TEST_F(CorrelatorTestbed, UnprivilegedContainerGetsItsOwnCorrectionsOnly) {
  const std::string as_nobody = "setpriv --reuid=65534 --regid=65534 --clear-groups ";
  const CommandResult r = run(in("container") + as_nobody + with_env() + mtool_binary() +
                              " ping --json -c 5 -i 0.05 " + target());
  ASSERT_EQ(r.exit_code, 0) << r.err;
  expect_all_corrected(json_lines(r.out, "reply"), 5);

  // Probes whose records nobody takes, with a known identifier (-e: the ping socket's port).
  const CommandResult plain = run(in("container") + "env MTOOL_CORRELATOR=off " + mtool_binary() +
                                  " ping -e 777 -c 3 -i 0.05 " + target());
  ASSERT_EQ(plain.exit_code, 0) << plain.err;
  // From another container: nothing, and the correlator saw that caller in its own namespace.
  const std::string other = "mtb7-load2";
  for (std::uint16_t seq = 1; seq <= 3; ++seq) {
    const mtool_answer a = query_from(other, 777, seq);
    EXPECT_EQ(a.version, static_cast<std::uint32_t>(MTOOL_ABI_VERSION));
    EXPECT_EQ(a.status, static_cast<std::uint32_t>(MTOOL_ANSWER_NOT_FOUND));
    EXPECT_EQ(a.caller_netns, netns_inode(other));
  }
  // From the container itself: its records.
  for (std::uint16_t seq = 1; seq <= 3; ++seq) {
    const mtool_answer a = query_from(env_["TESTBED_CONTAINER_NS"], 777, seq);
    EXPECT_EQ(a.status, static_cast<std::uint32_t>(MTOOL_ANSWER_FOUND)) << "seq " << seq;
    EXPECT_EQ(a.record.key.netns, netns_inode(env_["TESTBED_CONTAINER_NS"]));
  }
}

TEST_F(CorrelatorTestbed, RestartMidRunKeepsLaterProbesCorrected) {
  const std::string file = "/tmp/mtool-it-restart.json";
  // Root in the container, through the socket (`ip netns exec` hides the host's bpffs).
  const pid_t ping = background(in("container") + with_env() + mtool_binary() +
                                " ping --json -c 80 -i 0.05 " + target() + " > " + file);
  std::this_thread::sleep_for(std::chrono::milliseconds(1000));
  stop_correlator();
  start_correlator();
  for (int i = 0; i < 400 && kill(ping, 0) == 0; ++i)
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  const auto replies = json_lines(run("cat " + file).out, "reply");
  run("rm -f " + file);
  ASSERT_EQ(replies.size(), 80U);
  // The client reconnects within 100 ms of the new correlator: the last 30 replies (1.5 s) are all
  // corrected.
  const std::vector<json> tail(replies.end() - 30, replies.end());
  expect_all_corrected(tail, 30);
  EXPECT_TRUE(replies.front().contains("correction")) << replies.front().dump();
}

TEST_F(CorrelatorTestbed, NoCorrelatorSaysSoOnceAndStaysADropIn) {
  const CommandResult r = run(
      in("container") +
      "env MTOOL_BPF_PIN_DIR=/sys/fs/bpf/mtool-none MTOOL_CORRELATOR_SOCKET=/run/mtool-none.sock " +
      mtool_binary() + " ping -c 2 -i 0.1 " + target());
  EXPECT_EQ(r.exit_code, 0);
  EXPECT_EQ(r.out.find("corrected"), std::string::npos) << r.out;
  std::size_t notices = 0;
  for (std::size_t at = 0; (at = r.err.find("corrections unavailable", at)) != std::string::npos;
       ++at)
    ++notices;
  EXPECT_EQ(notices, 1U) << r.err;
  const CommandResult off = run(in("container") + "env MTOOL_CORRELATOR=off " + mtool_binary() +
                                " ping -c 1 " + target());
  EXPECT_EQ(off.exit_code, 0);
  EXPECT_EQ(off.err.find("corrections unavailable"), std::string::npos) << off.err;
}

TEST_F(CorrelatorTestbed, HostPingHasNothingToCorrect) {
  const CommandResult r = run(with_env() + mtool_binary() + " ping -c 2 -i 0.1 " + target());
  EXPECT_EQ(r.exit_code, 0) << r.err;
  EXPECT_EQ(r.out.find("corrected"), std::string::npos) << r.out;
  EXPECT_EQ(r.err, "");
}

TEST_F(CorrelatorTestbed, StatusReportsWhatHappened) {
  ASSERT_EQ(run(in("container") + with_env() + mtool_binary() + " ping -q -c 3 -i 0.05 " + target())
                .exit_code,
            0);
  const CommandResult s = run(mtool_binary() + " correlator status --socket " + kSocket);
  ASSERT_EQ(s.exit_code, 0);
  EXPECT_NE(s.out.find("tp_btf programs"), std::string::npos) << s.out;
  EXPECT_NE(s.out.find("uplinks: " + env_["TESTBED_UPLINK"]), std::string::npos) << s.out;
  EXPECT_TRUE(std::regex_search(s.out, std::regex("records written [1-9]"))) << s.out;
  EXPECT_TRUE(std::regex_search(s.out, std::regex("[1-9][0-9]* records served"))) << s.out;
  // A second correlator on the same socket refuses to start.
  const CommandResult second = run(mtool_binary() + " correlator --pin-dir " +
                                   std::string(kPinDir) + " --socket " + kSocket);
  EXPECT_EQ(second.exit_code, 1);
  EXPECT_NE(second.err.find("already running"), std::string::npos) << second.err;
}

// Without --uplink the correlator follows the default routes as they change. A veth pair with
// a default route of very low preference (metric 4000) comes and goes; no packet is sent.
TEST(CorrelatorUplinks, FollowsDefaultRoutes) {
  if (!running_as_root()) GTEST_SKIP() << "needs root: adds a dummy device and loads BPF";
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
