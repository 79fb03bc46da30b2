// The correlator's abstract name ("\0mtool-correlator" in a container's own network namespace):
// a tool with nothing configured finds it when the default socket is not there, trusts it only
// when it is held from outside the container, and picks it up when it appears during a run.
// Root only. A python3 stand-in binds the name in a fresh namespace and answers with made-up
// records; mtool ping measures that namespace's own loopback (no probe leaves it).
#include <gtest/gtest.h>

#include <chrono>
#include <cstddef>
#include <cstdio>
#include <memory>
#include <regex>
#include <string>
#include <thread>

#include "correlator_abi.h"
#include "harness.h"
#include "processes.h"

namespace mtool::testing {
namespace {

using std::chrono::milliseconds;

constexpr const char* kNamespace = "mtool-abstract-ns";
constexpr const char* kSquatterLine =
    "corrections unavailable: the correlator's name in this network namespace is held by another "
    "process";

std::string hex(const void* data, std::size_t size) {
  std::string out;
  char byte[3];
  for (std::size_t i = 0; i < size; ++i) {
    std::snprintf(byte, sizeof byte, "%02x", static_cast<const unsigned char*>(data)[i]);
    out += byte;
  }
  return out;
}

// The stand-in's answers: HELLO (a container's namespace, not the host's) and a FOUND record
// whose times it makes fresh (an overhead of 200 ns in all).
std::string fake_correlator_command() {
  mtool_answer hello{};
  hello.version = MTOOL_ABI_VERSION;
  hello.status = MTOOL_ANSWER_FOUND;
  hello.caller_netns = 4242;
  mtool_answer record = hello;
  record.record.key.netns = 4242;
  const std::size_t times_at =
      offsetof(mtool_answer, record) + offsetof(mtool_record, sender_tx_ns);
  return std::string("/usr/bin/python3 ") + MTOOL_SOURCE_DIR +
         "/tests/integration/fake_correlator.py " + hex(&hello, sizeof hello) + " " +
         hex(&record, sizeof record) + " " + std::to_string(times_at);
}

// `mtool ping` inside the namespace, with /run hidden (the default socket is not there), and
// `pid_namespace`: in a pid namespace of its own, as a container's tool is; `as_user`: a
// command prefix that changes the user.
std::string ping_in_namespace(bool pid_namespace, const std::string& options,
                              const std::string& as_user = "") {
  return std::string("ip netns exec ") + kNamespace +
         (pid_namespace ? " unshare --pid --fork --mount-proc" : " unshare --mount") +
         " sh -c 'mount -t tmpfs none /run && exec " + as_user + mtool_binary() + " ping " +
         options + " 127.0.0.1'";
}

class CorrelatorAbstractName : public ::testing::Test {
 protected:
  void SetUp() override {
    if (!running_as_root()) GTEST_SKIP() << "needs root: makes namespaces";
    run(std::string("ip netns del ") + kNamespace + " 2>/dev/null");
    must(std::string("ip netns add ") + kNamespace);
    must(std::string("ip netns exec ") + kNamespace + " ip link set lo up");
  }
  void TearDown() override {
    if (server_ && HasFailure())
      std::cerr << "stand-in stdout:\n" << server_->out() << "stderr:\n" << server_->err();
    server_.reset();
    run(std::string("ip netns del ") + kNamespace + " 2>/dev/null");
  }
  // Starts the stand-in in the namespace (in our pid namespace) and returns its pid.
  long start_server() {
    server_ = std::make_unique<Background>(
        std::string("ip netns exec ") + kNamespace + " " + fake_correlator_command(),
        "abstract-correlator");
    wait_until(
        [&] { return server_->out().find('\n') != std::string::npos || !server_->running(); },
        milliseconds(5000));
    std::smatch m;
    const std::string out = server_->out();
    if (!std::regex_search(out, m, std::regex("^pid ([0-9]+)\n"))) {
      ADD_FAILURE() << "the stand-in did not start: " << server_->err();
      return -1;
    }
    return std::stol(m[1]);
  }
  [[nodiscard]] int queries(int kind) const {
    const std::string out = server_->out();
    int n = 0;
    for (std::size_t at = 0;
         (at = out.find("query " + std::to_string(kind) + "\n", at)) != std::string::npos; ++at)
      ++n;
    return n;
  }

  std::unique_ptr<Background> server_;
};

TEST_F(CorrelatorAbstractName, NothingThereIsThePlainDropIn) {
  const CommandResult r = run(ping_in_namespace(true, "-c 3 -i 0.2"));
  EXPECT_EQ(r.exit_code, 0) << r.err;
  EXPECT_EQ(r.err, "");
  EXPECT_EQ(r.out.find("corrected"), std::string::npos) << r.out;
}

// A process of the namespace (and of our pid namespace) holds the name: refused, said once with
// its pid, never asked anything, and nothing is corrected. Root or not, the tool refuses it.
TEST_F(CorrelatorAbstractName, SquatterInOurNamespaceIsRefused) {
  const long pid = start_server();
  ASSERT_GT(pid, 0);
  for (const std::string user : {"", "setpriv --reuid=65534 --regid=65534 --clear-groups "}) {
    SCOPED_TRACE(user.empty() ? "as root" : "as nobody");
    if (!user.empty()) {  // an ICMP datagram socket for everyone (the namespace's own setting)
      must(std::string("ip netns exec ") + kNamespace +
           " sysctl -qw net.ipv4.ping_group_range=\"0 2147483647\"");
    }
    const CommandResult r = run(ping_in_namespace(false, "-c 3 -i 0.2", user));
    EXPECT_EQ(r.exit_code, 0) << r.err;
    EXPECT_EQ(r.err,
              "ping: " + std::string(kSquatterLine) + " (pid " + std::to_string(pid) + ")\n");
    EXPECT_EQ(r.out.find("corrected"), std::string::npos) << r.out;
    EXPECT_NE(r.out.find("3 packets transmitted, 3 received"), std::string::npos) << r.out;
  }
  EXPECT_EQ(queries(MTOOL_QUERY_HELLO), 0);
  EXPECT_EQ(queries(MTOOL_QUERY_RECORD), 0);
}

// Seen from a pid namespace of its own (a container's), the holder shows pid 0: it is outside,
// as the correlator is. The tool asks it and corrects every reply with its records.
TEST_F(CorrelatorAbstractName, HolderOutsideOurPidNamespaceIsTrusted) {
  ASSERT_GT(start_server(), 0);
  const CommandResult r = run(ping_in_namespace(true, "-c 3 -i 0.2"));
  EXPECT_EQ(r.exit_code, 0) << r.err;
  EXPECT_EQ(r.err, "");
  EXPECT_EQ(queries(MTOOL_QUERY_HELLO), 1);
  EXPECT_EQ(queries(MTOOL_QUERY_RECORD), 3);
  std::size_t corrected_lines = 0;
  for (const auto& line : lines_of(r.out))
    corrected_lines += line.find(" corrected=") != std::string::npos;
  EXPECT_EQ(corrected_lines, 3U) << r.out;
  EXPECT_NE(r.out.find(", 3/3 replies corrected"), std::string::npos) << r.out;
}

// The correlator appears while ping runs: it starts uncorrected at once, picks it up on a later
// reply, and its summary counts the whole run.
TEST_F(CorrelatorAbstractName, CorrelatorAppearingDuringTheRunIsPickedUp) {
  Background ping(ping_in_namespace(true, "-c 8 -i 0.2"), "abstract-ping");
  std::this_thread::sleep_for(milliseconds(500));
  ASSERT_GT(start_server(), 0);
  const auto code = ping.wait(milliseconds(10000));
  EXPECT_EQ(code, std::optional<int>(0)) << ping.err();
  const std::string out = ping.out();
  EXPECT_EQ(ping.err(), "");
  const auto lines = lines_of(out);
  ASSERT_GE(lines.size(), 2U) << out;
  EXPECT_EQ(lines[1].find("corrected"), std::string::npos)
      << "the first reply came before: " << out;
  std::smatch m;
  ASSERT_TRUE(std::regex_search(out, m, std::regex(", ([0-9]+)/8 replies corrected"))) << out;
  const int corrected = std::stoi(m[1]);
  EXPECT_GE(corrected, 1) << out;
  EXPECT_LT(corrected, 8) << out;
  EXPECT_EQ(queries(MTOOL_QUERY_HELLO), 1);
}

}  // namespace
}  // namespace mtool::testing
