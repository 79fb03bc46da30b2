// mtool ping against iputils ping, same command line, numbers masked: the output shapes and
// exit codes must be identical. Root only: the targets live in network namespaces.
#include <gtest/gtest.h>

#include <regex>

#include "harness.h"

namespace mtool::testing {
namespace {

// iputils through PATH, so its messages carry the same "ping:" prefix as `mtool ping`.
constexpr const char* kIputils = "env PATH=/usr/bin:/bin ping";

class PingCompat : public ::testing::Test {
 protected:
  void SetUp() override {
    if (!running_as_root()) GTEST_SKIP() << "needs root: creates network namespaces";
    target_ = std::make_unique<NetnsTarget>(100);
  }
  void TearDown() override { target_.reset(); }

  // Runs both pings with `args` (the target address substituted for TARGET) inside `prefix`
  // (e.g. "ip netns exec X"), and expects identical masked stdout and exit codes.
  void expect_same(const std::string& args, const std::string& prefix = "",
                   const std::string& between = "") {
    const std::string a = std::regex_replace(args, std::regex("TARGET6"), target_->v6());
    const std::string a6 = std::regex_replace(a, std::regex("TARGET"), target_->v4());
    const CommandResult theirs = run(prefix + " " + kIputils + " " + a6);
    if (!between.empty()) run(between);
    const CommandResult ours = run(prefix + " " + mtool_binary() + " ping " + a6);
    EXPECT_EQ(mask_numbers(ours.out), mask_numbers(theirs.out))
        << "args: " << a6 << "\nstderr: " << ours.err;
    EXPECT_EQ(ours.exit_code, theirs.exit_code) << "args: " << a6 << "\nstderr: " << ours.err;
    last_ours_ = ours;
    last_theirs_ = theirs;
  }

  std::unique_ptr<NetnsTarget> target_;
  CommandResult last_ours_;
  CommandResult last_theirs_;
};

TEST_F(PingCompat, NormalReplies) {
  expect_same("-c 3 -i 0.2 TARGET");
  EXPECT_NE(last_ours_.out.find("3 packets transmitted, 3 received, 0% packet loss"),
            std::string::npos);
}

TEST_F(PingCompat, QuietNumericAndTimestamps) {
  expect_same("-q -c 2 -i 0.2 TARGET");
  expect_same("-n -D -c 2 -i 0.2 TARGET");
}

TEST_F(PingCompat, SizesTtlPatternInterface) {
  expect_same("-c 2 -i 0.2 -s 100 TARGET");
  expect_same("-c 2 -i 0.2 -s 8 TARGET");  // too small to carry a timestamp: no time=
  expect_same("-c 2 -i 0.2 -s 0 TARGET");
  expect_same("-c 2 -i 0.2 -t 1 TARGET");
  expect_same("-c 2 -i 0.2 -p ab12 TARGET");
  expect_same("-c 2 -i 0.2 -I " + target_->host_if() + " TARGET");
  expect_same("-c 2 -i 0.2 -I " + target_->host_v4() + " TARGET");
}

TEST_F(PingCompat, IPv6) {
  expect_same("-6 -c 2 -i 0.2 TARGET6");
  expect_same("-c 2 -i 0.2 -s 8 TARGET6");
}

TEST_F(PingCompat, TotalLossWaitsLingerAndExitsOne) {
  target_->exec("iptables -A INPUT -p icmp --icmp-type echo-request -j DROP");
  expect_same("-c 2 -i 0.2 -W 1 TARGET");
  EXPECT_EQ(last_ours_.exit_code, 1);
  expect_same("-c 2 -i 0.2 -W 1 -O TARGET");
  expect_same("-w 1 -i 0.3 TARGET");
  EXPECT_NE(last_ours_.out.find("100% packet loss"), std::string::npos);
}

TEST_F(PingCompat, PartialLoss) {
  const std::string rule =
      "iptables -A INPUT -p icmp --icmp-type echo-request -m statistic --mode nth --every 3 "
      "--packet 1 -j DROP";
  target_->exec(rule);
  const std::string reset =
      "ip netns exec " + target_->ns() + " sh -c 'iptables -F && " + rule + "'";
  expect_same("-c 6 -i 0.2 -W 1 -O TARGET", "", reset);
  EXPECT_NE(last_ours_.out.find("33.3333% packet loss"), std::string::npos);
  EXPECT_NE(last_ours_.out.find("no answer yet for icmp_seq=2"), std::string::npos);
  run(reset);
  expect_same("-c 5 -w 2 -i 0.2 TARGET", "", reset);
}

TEST_F(PingCompat, Unreachable) {
  target_->exec(
      "iptables -A INPUT -p icmp --icmp-type echo-request -j REJECT --reject-with "
      "icmp-host-unreachable");
  expect_same("-c 2 -i 0.2 TARGET");
  EXPECT_NE(
      last_ours_.out.find("From " + target_->v4() + " icmp_seq=1 Destination Host Unreachable"),
      std::string::npos);
  EXPECT_NE(last_ours_.out.find("+2 errors"), std::string::npos);
  EXPECT_EQ(last_ours_.exit_code, 1);
  expect_same("-w 3 TARGET");  // a deadline stops at the first error
  target_->exec("iptables -F");
  target_->exec(
      "iptables -A INPUT -p icmp --icmp-type echo-request -j REJECT --reject-with "
      "icmp-admin-prohibited");
  expect_same("-c 1 TARGET");
  EXPECT_NE(last_ours_.out.find("Packet filtered"), std::string::npos);
}

TEST_F(PingCompat, Duplicates) {
  // The target sends every reply twice: TEE clones it towards us.
  target_->exec(
      "iptables -t mangle -A POSTROUTING -p icmp --icmp-type echo-reply -j TEE --gateway " +
      target_->host_v4());
  const CommandResult ours = run(mtool_binary() + " ping -c 3 -i 0.2 " + target_->v4());
  EXPECT_EQ(ours.exit_code, 0);
  EXPECT_NE(ours.out.find(" (DUP!)"), std::string::npos) << ours.out;
  EXPECT_TRUE(
      std::regex_search(ours.out, std::regex(R"(3 received, \+[12] duplicates, 0% packet loss)")))
      << ours.out;
}

// A broadcast address: refused without -b; with -b iputils warns on stderr, before the header.
// Pinged from inside the target's namespace, towards the broadcast of its /30 (the host side
// ignores broadcast echoes).
TEST_F(PingCompat, BroadcastNeedsDashBAndWarns) {
  target_->exec("ip addr change " + target_->v4() + "/30 brd + dev eth0");
  const std::string inside = "ip netns exec " + target_->ns() + " env MTOOL_CORRELATOR=off";
  const std::string broadcast = target_->v4().substr(0, target_->v4().rfind('.')) + ".3";
  for (const std::string args : {"-c 1 -W 1 ", "-b -c 1 -W 1 "}) {
    expect_same(args + broadcast, inside);
    EXPECT_EQ(last_ours_.err, last_theirs_.err) << args;
  }
  EXPECT_EQ(last_ours_.err, "WARNING: pinging broadcast address\n");
  expect_same("-b -c 1 -W 1 -I eth0 " + broadcast, inside);
  EXPECT_EQ(last_ours_.err, last_theirs_.err);
  expect_same("-b -c 1 TARGET", inside);  // not a broadcast: no warning
  EXPECT_EQ(last_ours_.err, "");
}

TEST_F(PingCompat, DeadlineAndCount) {
  expect_same("-w 1 -i 0.3 TARGET");
  expect_same("-c 2 -w 5 -i 0.2 TARGET");
}

TEST_F(PingCompat, FloodAsRoot) {
  expect_same("-f -c 50 TARGET");
  expect_same("-q -f -c 50 TARGET");
  expect_same("-c 5 -i 0.001 TARGET");
}

TEST_F(PingCompat, InterruptPrintsStatistics) {
  const CommandResult r =
      run("timeout --preserve-status -s INT 1 " + mtool_binary() + " ping -i 0.2 " + target_->v4());
  EXPECT_EQ(r.exit_code, 0) << r.err;
  EXPECT_TRUE(std::regex_search(
      r.out,
      std::regex(
          R"(\n--- [0-9.]+ ping statistics ---\n[4-6] packets transmitted, [4-6] received, 0% packet loss, time [0-9]+ms\nrtt min/avg/max/mdev = )")))
      << r.out;
}

// Unprivileged: ICMP datagram sockets inside a namespace whose ping_group_range allows them,
// and iputils' limits for a non-root real uid.
TEST_F(PingCompat, UnprivilegedDatagramSocket) {
  target_->exec("sysctl -qw net.ipv4.ping_group_range='0 2147483647'");
  const std::string as_nobody =
      "ip netns exec " + target_->ns() + " setpriv --reuid=65534 --regid=65534 --clear-groups";
  expect_same("-c 2 -i 0.2 TARGET", as_nobody);
  expect_same("-c 1 -i 0.001 TARGET", as_nobody);
  EXPECT_NE(last_ours_.err.find("ping: cannot flood; minimal interval allowed for user is 2ms"),
            std::string::npos);
  expect_same("-c 3 -f TARGET", as_nobody);
  expect_same("-c 1 -l 5 TARGET", as_nobody);
  EXPECT_EQ(last_ours_.err, "ping: cannot set preload to value greater than 3: 5\n");
  expect_same("-c 2 -i 0.2 -6 TARGET6", as_nobody);
}

// Without ping sockets a non-root user needs CAP_NET_RAW from the file, as Debian installs
// iputils (cap_net_raw+ep). Both binaries are copied, with and without that capability.
TEST_F(PingCompat, UnprivilegedRawSocketNeedsFileCapability) {
  target_->exec("sysctl -qw net.ipv4.ping_group_range='1 0'");
  const std::string dir = "/tmp/mtool-it-caps-" + std::to_string(getpid());
  must("mkdir -p " + dir + " && chmod 755 " + dir + " && cp /usr/bin/ping " + dir +
       "/iputils && cp " + mtool_binary() + " " + dir + "/mtool && chmod 755 " + dir + "/*");
  const std::string as_nobody =
      "ip netns exec " + target_->ns() + " setpriv --reuid=65534 --regid=65534 --clear-groups";
  const std::string args = " -4 -c 1 " + target_->v4();
  // No capability: both fail with the same hint and exit code 2.
  CommandResult theirs = run(as_nobody + " " + dir + "/iputils" + args);
  CommandResult ours = run(as_nobody + " " + dir + "/mtool ping" + args);
  EXPECT_EQ(ours.exit_code, 2);
  EXPECT_EQ(theirs.exit_code, 2);
  EXPECT_NE(ours.err.find("ping: => missing cap_net_raw+p capability or setuid?"),
            std::string::npos)
      << ours.err;
  // cap_net_raw in the permitted set of the file: raised only around socket(), then dropped.
  must("setcap cap_net_raw+p " + dir + "/mtool && setcap cap_net_raw+p " + dir + "/iputils");
  theirs = run(as_nobody + " " + dir + "/iputils" + args);
  ours = run(as_nobody + " " + dir + "/mtool ping" + args);
  EXPECT_EQ(mask_numbers(ours.out), mask_numbers(theirs.out)) << ours.err;
  EXPECT_EQ(ours.exit_code, 0) << ours.err;
  run("rm -rf " + dir);
}

// Argument errors: same first stderr line and exit code as iputils.
TEST(PingErrors, SameMessagesAndExitCodes) {
  const std::vector<std::string> cases = {"-c 0 127.0.0.1",
                                          "-c abc 127.0.0.1",
                                          "-t 256 127.0.0.1",
                                          "-W -1 127.0.0.1",
                                          "-Q 300 127.0.0.1",
                                          "-M foo 127.0.0.1",
                                          "-p zz 127.0.0.1",
                                          "-4 -6 127.0.0.1",
                                          "-Z 127.0.0.1",
                                          "",
                                          "-c",
                                          "-4 ::1",
                                          "-6 127.0.0.1",
                                          "-t 0 -c 1 127.0.0.1",
                                          "-I nosuchif -c 1 127.0.0.1",
                                          "-e 70000 127.0.0.1",
                                          "-s -1 127.0.0.1",
                                          "-i 1e9 127.0.0.1"};
  for (const auto& args : cases) {
    const CommandResult theirs = run(std::string(kIputils) + " " + args);
    const CommandResult ours = run(mtool_binary() + " ping " + args);
    const auto first_line = [](const std::string& s) { return s.substr(0, s.find('\n')); };
    EXPECT_EQ(first_line(ours.err), first_line(theirs.err)) << "args: " << args;
    EXPECT_EQ(ours.exit_code, theirs.exit_code) << "args: " << args;
    EXPECT_EQ(ours.out, theirs.out) << "args: " << args;
  }
}

// Option values at the edges (empty, NaN, inf, subnormal, huge, negative, hex, garbage) and -I
// sources of the other family, on loopback: stdout with times masked, the whole stderr and
// the exit code are iputils'. The suite's name keeps it under PingCompat*.
TEST(PingCompatArgs, EdgeValuesOnLoopback) {
  const std::vector<std::string> cases = {
      // -i and -W (iputils' ping_strtod).
      "-c 1 -W '' 127.0.0.1", "-c 1 -i '' 127.0.0.1", "-c 1 -i 1e-320 127.0.0.1",
      "-c 1 -i 1e-400 127.0.0.1", "-c 1 -i 1e-400 -W '' 127.0.0.1",
      "-c 1 -i 1e-400 -c 1 -W '' 127.0.0.1", "-c 1 -i nan 127.0.0.1", "-c 1 -i inf 127.0.0.1",
      "-c 1 -i -inf 127.0.0.1", "-c 1 -i 1e308 127.0.0.1", "-c 1 -i 1e400 127.0.0.1",
      "-c 1 -W nan 127.0.0.1", "-c 1 -W inf 127.0.0.1", "-c 1 -W -inf 127.0.0.1",
      "-c 1 -W 1e308 127.0.0.1", "-c 1 -W -0.5 127.0.0.1", "-c 1 -W -0 127.0.0.1",
      "-c 1 -W 2147483.647 127.0.0.1", "-c 1 -W 2147483.648 127.0.0.1",
      "-c 1 -i 2147483.647 127.0.0.1", "-c 1 -i 2147483.648 127.0.0.1", "-c 1 -W abc 127.0.0.1",
      "-c 1 -i abc 127.0.0.1", "-c 1 -i 0x1 127.0.0.1", "-c 1 -W 0x1p-1 127.0.0.1",
      "-c 1 -i '1 ' 127.0.0.1", "-c 1 -i 0,5 127.0.0.1", "-c 3 -i -1 127.0.0.1",
      "-c 3 -i -1e300 127.0.0.1", "-c 1 -i 1x -c 0 127.0.0.1", "-i 1x -W 2x",
      // Integer options (strtol_or_err, strtoul_or_err for -e and -m).
      "-c 1 -c '' 127.0.0.1", "-c 1 -s 5x 127.0.0.1", "-c 1 -w 0x10 127.0.0.1",
      "-c 1 -l -0 127.0.0.1", "-c 1 -S ' 5' 127.0.0.1", "-c 1 -t 99999999999999999999 127.0.0.1",
      "-c 1 -m -18446744073709551615 127.0.0.1", "-c 1 -m 9999999999999999999 127.0.0.1",
      "-c 1 -m -1 127.0.0.1", "-c 1 -e 18446744073709551615 127.0.0.1",
      "-c 1 -e -9999999999999999999 127.0.0.1", "-c 1 -Q '' 127.0.0.1", "-c 1 -M '' 127.0.0.1",
      "-c 1 -p '' 127.0.0.1",
      // -I: one source per family, an unspecified one looked up, empty and unknown devices.
      "-c 1 -I ::1 127.0.0.1", "-c 1 -I 127.0.0.1 ::1", "-c 1 -I ::1%lo 127.0.0.1",
      "-c 1 -I ::1%bogus 127.0.0.1", "-c 1 -I ::1%bogus ::1", "-c 1 -I '' 127.0.0.1",
      "-c 1 -I '' ::1", "-c 1 -I ::1% ::1", "-c 1 -I :: ::1", "-c 1 -I 0.0.0.0 127.0.0.1",
      "-c 1 -I zz:zz ::1", "-c 1 -I ::1 -I 127.0.0.1 127.0.0.1",
      // A source that is not ours: nothing is sent, bind() fails.
      "-c 1 -I 2001:db8::1 ::1", "-c 1 -I 198.18.250.1 127.0.0.1"};
  // How many probes were in flight at once depends on timing; that there is a pipe does not.
  const auto mask = [](const std::string& out) {
    static const std::regex pipe(R"(, pipe [0-9]+)");
    return std::regex_replace(mask_numbers(out), pipe, ", pipe P");
  };
  for (const auto& args : cases) {
    const CommandResult theirs = run(std::string(kIputils) + " " + args);
    const CommandResult ours = run("env MTOOL_CORRELATOR=off " + mtool_binary() + " ping " + args);
    EXPECT_EQ(mask(ours.out), mask(theirs.out)) << "args: " << args;
    EXPECT_EQ(ours.err, theirs.err) << "args: " << args;
    EXPECT_EQ(ours.exit_code, theirs.exit_code) << "args: " << args;
  }
}

TEST(PingErrors, UsageTextIsIputils) {
  const CommandResult theirs = run(std::string(kIputils) + " -h");
  const CommandResult ours = run(mtool_binary() + " ping -h");
  EXPECT_EQ(ours.err, theirs.err);
  EXPECT_EQ(ours.exit_code, 2);
}

TEST(PingLoopback, JsonAndPercentiles) {
  const CommandResult r = run(mtool_binary() + " ping -c 3 -i 0.2 --percentiles 127.0.0.1");
  EXPECT_EQ(r.exit_code, 0);
  EXPECT_TRUE(std::regex_search(
      r.out, std::regex(R"(\nrtt p50/p90/p99/p99\.9 = [0-9.]+/[0-9.]+/[0-9.]+/[0-9.]+ ms\n$)")))
      << r.out;
  const CommandResult j =
      run(mtool_binary() + " ping -c 2 -i 0.2 --json --tx-timestamp kernel 127.0.0.1");
  EXPECT_EQ(j.exit_code, 0);
  EXPECT_NE(j.out.find("\"type\":\"summary\""), std::string::npos) << j.out;
  EXPECT_NE(j.out.find("\"tx_reference\":\"kernel\""), std::string::npos) << j.out;
}

}  // namespace
}  // namespace mtool::testing
