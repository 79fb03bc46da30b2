// `mtool traceroute` through a chain of routers: the Docker-like testbed with three routers
// behind the target (tests/testbed/testbed.sh up --routers 3, instance 11), so that from the
// container hop 1 is the gateway (answered by the host itself), hop 2 the target and hops 3-5
// the routers r1-r3. Checked: the hop list for UDP, ICMP and TCP probes and IPv6, a silent
// hop, !H !N !X !P on the last hop, the output shape against Debian's traceroute (Butskoy
// 2.1.2) on the same command lines, and, with `mtool correlator` on the host, the [virtual]
// gateway hop and a corrected RTT for every answered probe beyond it. Root only.
// The testbed comes up once per suite and goes down in TearDownTestSuite; firewall rules and
// the correlator are removed at the end of each test, also when it fails.
#include <fcntl.h>
#include <gtest/gtest.h>
#include <signal.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <cctype>
#include <chrono>
#include <fstream>
#include <functional>
#include <iostream>
#include <map>
#include <memory>
#include <optional>
#include <regex>
#include <sstream>
#include <string>
#include <thread>
#include <utility>
#include <vector>

#include "harness.h"
#include "processes.h"

namespace mtool::testing {
namespace {

using Clock = std::chrono::steady_clock;
using std::chrono::milliseconds;

// Instance 11 of the testbed: clear of the demo and benchmarks (0, 13) and the correlator suite
// (9).
constexpr int kTestbedIndex = 11;
constexpr int kRouters = 3;
constexpr const char* kPinDir = "/sys/fs/bpf/mtool-trace-test";
constexpr const char* kSocketDir = "/run/mtool-trace-test";
constexpr const char* kSocket = "/run/mtool-trace-test/correlator.sock";
constexpr const char* kDebian = "/usr/sbin/traceroute";

std::string testbed_command() { return testbed_script(kTestbedIndex); }

// The environment through which tools find this suite's correlator.
std::string correlator_env() { return mtool::testing::correlator_env(kPinDir, kSocket); }
// A plain drop-in: no correlator asked.
const char* const kNoCorrelator = "env MTOOL_CORRELATOR=off ";

// Every measured time `0.049 ms` becomes `X ms`; the rest (addresses, `*`, `!H`) stays.
std::string mask_times(const std::string& text) {
  static const std::regex time(R"([0-9]+\.[0-9]+ ms)");
  return std::regex_replace(text, time, "X ms");
}

// Butskoy's hop number: "%2u ".
std::string hop_prefix(int hop) { return (hop < 10 ? " " : "") + std::to_string(hop) + "  "; }

// What Debian's traceroute prints (numbers masked) when every hop answers `probes` times from
// one address each: the header, then " N  ADDR  X ms  X ms ...", each probe with `suffix`.
std::string expected_trace(const std::string& target, const std::vector<std::string>& hops,
                           int probes, int packet_size, const std::string& suffix = "") {
  std::string out = "traceroute to " + target + " (" + target + "), 30 hops max, " +
                    std::to_string(packet_size) + " byte packets\n";
  for (std::size_t i = 0; i < hops.size(); ++i) {
    out += hop_prefix(static_cast<int>(i) + 1) + hops[i];
    for (int p = 0; p < probes; ++p) out += "  X ms" + suffix;
    out += "\n";
  }
  return out;
}

class Traceroute : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    if (!running_as_root()) return;  // each test skips in SetUp
    std::vector<std::string> keys{
        "TESTBED_CONTAINER_NS", "TESTBED_GATEWAY", "TESTBED_CONTAINER_ADDR6", "TESTBED_TARGET",
        "TESTBED_TARGET6",      "TESTBED_UPLINK",  "TESTBED_CHAIN_END",       "TESTBED_CHAIN_END6"};
    for (int k = 1; k <= kRouters; ++k) {
      for (const char* key :
           {"TESTBED_ROUTER_NS_", "TESTBED_ROUTER_ADDR_", "TESTBED_ROUTER_ADDR6_"})
        keys.push_back(key + std::to_string(k));
    }
    bed_ = testbed_up(kTestbedIndex, "--routers " + std::to_string(kRouters), keys, setup_error_);
    if (!setup_error_.empty()) return;
    if (bed_["TESTBED_ROUTERS"] != std::to_string(kRouters))
      setup_error_ += "TESTBED_ROUTERS=" + bed_["TESTBED_ROUTERS"] + "\n";
  }

  static void TearDownTestSuite() {
    if (!running_as_root()) return;
    run(testbed_command() + " down");
    bed_.clear();
    setup_error_.clear();
  }

  void SetUp() override {
    if (!running_as_root())
      GTEST_SKIP() << "needs root: creates network namespaces, firewall rules, loads BPF";
    ASSERT_EQ(setup_error_, "");
  }

  void TearDown() override {
    if (correlator_.running()) {
      const auto code = correlator_.stop();
      EXPECT_EQ(code, std::optional<int>(0)) << "correlator log:\n" << correlator_.log();
    }
    if (correlator_started_) {
      run(std::string("rm -rf ") + kPinDir + " " + kSocketDir);
      if (HasFailure()) std::cerr << "correlator log:\n" << correlator_.log();
    }
  }

  ::testing::AssertionResult start_correlator() {
    if (correlator_answers(kSocket))
      return ::testing::AssertionFailure() << "a correlator already answers on " << kSocket
                                           << " (another run of this suite?); not touching it";
    correlator_started_ = true;
    run(std::string("rm -rf ") + kPinDir + " " + kSocketDir);
    return correlator_.start(bed_["TESTBED_UPLINK"]);
  }

  static const std::string& container() { return bed_["TESTBED_CONTAINER_NS"]; }
  static const std::string& chain_end() { return bed_["TESTBED_CHAIN_END"]; }
  static const std::string& chain_end6() { return bed_["TESTBED_CHAIN_END6"]; }
  static std::string router_ns(int k) { return bed_["TESTBED_ROUTER_NS_" + std::to_string(k)]; }

  // The hops from the container to the chain's end: gateway, target, r1..rN.
  static std::vector<std::string> hops_v4() {
    std::vector<std::string> hops{bed_["TESTBED_GATEWAY"], bed_["TESTBED_TARGET"]};
    for (int k = 1; k <= kRouters; ++k)
      hops.push_back(bed_["TESTBED_ROUTER_ADDR_" + std::to_string(k)]);
    return hops;
  }
  static std::vector<std::string> hops_v6() {
    // The gateway is the bridge's ::1, on the container's /64 (its address ends in ::2).
    const std::string container6 = bed_["TESTBED_CONTAINER_ADDR6"];
    std::vector<std::string> hops{container6.substr(0, container6.size() - 1) + "1",
                                  bed_["TESTBED_TARGET6"]};
    for (int k = 1; k <= kRouters; ++k)
      hops.push_back(bed_["TESTBED_ROUTER_ADDR6_" + std::to_string(k)]);
    return hops;
  }

  // `mtool traceroute ARGS TARGET` in the container, by default without a correlator.
  static CommandResult mtool(const std::string& args, const std::string& target,
                             const std::string& env = kNoCorrelator) {
    return run("ip netns exec " + container() + " " + env + mtool_binary() + " traceroute " + args +
               " " + target);
  }
  static CommandResult debian(const std::string& args, const std::string& target) {
    return run("ip netns exec " + container() + " " + kDebian + " " + args + " " + target);
  }

  // Both tools on the same command line: same output with the times masked, same stderr, same
  // exit code. Returns mtool's result. `silent_probes`: how many `*` the path really gives.
  //
  // Debian's reference is not deterministic on this path: its "here" and "near" waits (-w
  // MAX,HERE,NEAR; 3 and 10 times an RTT of tens of microseconds) can expire while it is busy
  // elsewhere (a name lookup without -n) and print `*` for a probe whose answer is already
  // queued. Such a run is no reference: Debian runs again (up to 5 times) until its `*` are
  // the path's. mtool runs once and must match.
  static CommandResult expect_same_as_debian(const std::string& args, const std::string& target,
                                             std::size_t silent_probes = 0) {
    CommandResult theirs;
    for (int attempt = 1; attempt <= 5; ++attempt) {
      theirs = debian(args, target);
      const auto stars =
          static_cast<std::size_t>(std::count(theirs.out.begin(), theirs.out.end(), '*'));
      if (stars == silent_probes) break;
      std::cout << "Debian's traceroute " << args << " printed " << stars << " * (the path gives "
                << silent_probes << "), attempt " << attempt << ":\n"
                << theirs.out;
    }
    const CommandResult ours = mtool(args, target);
    const std::string line = "traceroute " + args + " " + target;
    EXPECT_EQ(mask_times(ours.out), mask_times(theirs.out)) << line << "\nmtool:\n"
                                                            << ours.out << "Debian:\n"
                                                            << theirs.out << "mtool stderr:\n"
                                                            << ours.err;
    EXPECT_EQ(ours.err, theirs.err) << line;
    EXPECT_EQ(ours.exit_code, theirs.exit_code) << line;
    return ours;
  }

  static std::map<std::string, std::string> bed_;
  static std::string setup_error_;
  CorrelatorProcess correlator_{kPinDir, kSocket};
  bool correlator_started_ = false;
};

std::map<std::string, std::string> Traceroute::bed_;
std::string Traceroute::setup_error_;

// The hop list, one probe per hop: the gateway, the target, then each router to the chain's end.
TEST_F(Traceroute, HopListUdp) {
  const CommandResult r = mtool("-n -q 1", chain_end());
  EXPECT_EQ(r.exit_code, 0) << r.err;
  EXPECT_EQ(r.err, "");
  EXPECT_EQ(mask_times(r.out), expected_trace(chain_end(), hops_v4(), 1, 60)) << r.out;
}

TEST_F(Traceroute, HopListIcmp) {
  const CommandResult r = mtool("-I -n -q 1", chain_end());
  EXPECT_EQ(r.exit_code, 0) << r.err;
  EXPECT_EQ(r.err, "");
  EXPECT_EQ(mask_times(r.out), expected_trace(chain_end(), hops_v4(), 1, 60)) << r.out;
}

// TCP SYN to port 80: nothing listens at the chain's end, which answers with a RST.
TEST_F(Traceroute, HopListTcp) {
  const CommandResult r = mtool("-T -n -q 1", chain_end());
  EXPECT_EQ(r.exit_code, 0) << r.err;
  EXPECT_EQ(r.err, "");
  EXPECT_EQ(mask_times(r.out), expected_trace(chain_end(), hops_v4(), 1, 60)) << r.out;
}

TEST_F(Traceroute, HopListIpv6) {
  const CommandResult r = mtool("-6 -n", chain_end6());
  EXPECT_EQ(r.exit_code, 0) << r.err;
  EXPECT_EQ(r.err, "");
  EXPECT_EQ(mask_times(r.out), expected_trace(chain_end6(), hops_v6(), 3, 80)) << r.out;
}

// r1 (hop 3) forwards but never says that a probe's TTL ran out: `* * *`, and the trace goes on.
TEST_F(Traceroute, SilentHop) {
  const ScopedRule silent(router_ns(1), "OUTPUT -p icmp --icmp-type time-exceeded -j DROP");
  ASSERT_TRUE(silent.added()) << silent.error();
  for (const std::string method : {"", "-I "}) {
    SCOPED_TRACE("method: " + (method.empty() ? std::string("UDP") : method));
    const CommandResult r = mtool(method + "-n -q 3 -w 1", chain_end());
    EXPECT_EQ(r.exit_code, 0) << r.err;
    const std::vector<std::string> lines = lines_of(mask_times(r.out));
    ASSERT_EQ(lines.size(), 1U + 2 + kRouters) << r.out;
    const std::vector<std::string> hops = hops_v4();
    EXPECT_EQ(lines[1], " 1  " + hops[0] + "  X ms  X ms  X ms") << r.out;
    EXPECT_EQ(lines[2], " 2  " + hops[1] + "  X ms  X ms  X ms") << r.out;
    EXPECT_EQ(lines[3], " 3  * * *") << r.out;
    for (int hop = 4; hop <= 2 + kRouters; ++hop) {
      EXPECT_EQ(lines[hop], hop_prefix(hop) + hops[hop - 1] + "  X ms  X ms  X ms") << r.out;
    }
    expect_same_as_debian(method + "-n -q 3 -w 1", chain_end(), 3);
  }
}

// -F with probes bigger than the container's link (MTU 1500): the kernel refuses each with a
// local "message too long" that quotes nothing. Like Butskoy, that is charged to the first probe
// out and printed as !F-1500. Paris UDP (a raw socket) has no Debian reference, only the mark.
TEST_F(Traceroute, DontFragmentProbesTooBigForTheLink) {
  for (const std::string method : {"", "-I ", "-6 ", "-6 -I "}) {
    SCOPED_TRACE("method: " + (method.empty() ? std::string("UDP") : method));
    const std::string target = (method.starts_with("-6") ? chain_end6() : chain_end()) + " 1600";
    const CommandResult r = expect_same_as_debian(method + "-F -n -q 3 -w 1", target, 3);
    EXPECT_NE(r.out.find(" !F-1500"), std::string::npos) << r.out;
  }
  const CommandResult paris = mtool("--paris -F -n -q 3 -w 1", chain_end() + " 1600");
  EXPECT_EQ(paris.exit_code, 0) << paris.err;
  EXPECT_NE(paris.out.find(" ms !F-1500"), std::string::npos) << paris.out;
}

// The chain's end refuses the UDP probes with an ICMP error: the last hop's probes carry
// Butskoy's annotation, and the trace stops there.
TEST_F(Traceroute, RejectAnnotations) {
  const std::vector<std::pair<std::string, std::string>> cases{
      {"icmp-host-unreachable", "!H"},
      {"icmp-net-unreachable", "!N"},
      {"icmp-admin-prohibited", "!X"},
      {"icmp-proto-unreachable", "!P"},
  };
  std::vector<std::string> hops = hops_v4();
  for (const auto& [reject_with, annotation] : cases) {
    SCOPED_TRACE("--reject-with " + reject_with);
    const ScopedRule reject(router_ns(kRouters),
                            "INPUT -p udp -j REJECT --reject-with " + reject_with);
    ASSERT_TRUE(reject.added()) << reject.error();
    const CommandResult r = mtool("-n", chain_end());
    EXPECT_EQ(r.exit_code, 0) << r.err;
    EXPECT_EQ(r.err, "");
    const std::vector<std::string> lines = lines_of(mask_times(r.out));
    ASSERT_EQ(lines.size(), 1U + hops.size()) << r.out;
    const std::string x = "  X ms " + annotation;
    EXPECT_EQ(lines.back(), hop_prefix(static_cast<int>(hops.size())) + chain_end() + x + x + x)
        << r.out;
    for (std::size_t i = 1; i + 1 < lines.size(); ++i) {
      EXPECT_EQ(lines[i], hop_prefix(static_cast<int>(i)) + hops[i - 1] + "  X ms  X ms  X ms")
          << r.out;
    }
    expect_same_as_debian("-n", chain_end());
  }
}

// A test name from a command line: "-6 -T -n" -> "6Tn"; no options at all -> "names".
std::string args_name(const ::testing::TestParamInfo<const char*>& param) {
  std::string name;
  for (const char c : std::string(param.param)) {
    if (std::isalnum(static_cast<unsigned char>(c))) name += c;
  }
  return name.empty() ? "names" : name;
}

// Same command line as Debian's traceroute, numbers masked: byte for byte the same output.
class TracerouteShape : public Traceroute, public ::testing::WithParamInterface<const char*> {};

TEST_P(TracerouteShape, SameAsDebian) {
  const std::string args = GetParam();
  const bool v6 = args.find("-6") != std::string::npos;
  const CommandResult r = expect_same_as_debian(args, v6 ? chain_end6() : chain_end());
  EXPECT_EQ(r.exit_code, 0) << r.err;
}

// Without -n the names come from the container's hosts file (see testbed.sh), never from DNS.
INSTANTIATE_TEST_SUITE_P(Debian, TracerouteShape,
                         ::testing::Values("-n", "-n -q 1", "-I -n", "-T -n", "-n -f 2", "-n -m 2",
                                           "-6 -n", "", "-I", "-6 -I -n", "-6 -T -n"),
                         args_name);

// With the correlator: hop 1 (the gateway, answered by the host itself) is marked [virtual] and
// each of its probes says (overhead); every probe answered from beyond the host carries
// (corrected X), with 0 < X <= the raw time.
class TracerouteCorrected : public Traceroute, public ::testing::WithParamInterface<const char*> {};

TEST_P(TracerouteCorrected, VirtualHopAndEveryProbeCorrected) {
  ASSERT_TRUE(start_correlator());
  const std::string args = GetParam();
  const bool v6 = args.find("-6") != std::string::npos;
  const std::string target = v6 ? chain_end6() : chain_end();
  const std::vector<std::string> hops = v6 ? hops_v6() : hops_v4();
  const CommandResult r = mtool(args, target, correlator_env());
  ASSERT_EQ(r.exit_code, 0) << r.err;

  const std::vector<std::string> lines = lines_of(r.out);
  ASSERT_EQ(lines.size(), 1 + hops.size()) << r.out;
  EXPECT_EQ(lines[0].rfind("traceroute to " + target + " (" + target + "), 30 hops max, ", 0), 0U)
      << r.out;
  static const std::regex probe(
      R"(([0-9]+\.[0-9]+) ms( \((corrected ([0-9]+\.[0-9]+)|overhead)\))?)");
  int beyond = 0;
  int corrected = 0;
  for (std::size_t i = 1; i < lines.size(); ++i) {
    const std::string& line = lines[i];
    const int hop = static_cast<int>(i);
    const std::string head = hop_prefix(hop) + hops[i - 1] + (hop == 1 ? " [virtual]  " : "  ");
    EXPECT_EQ(line.rfind(head, 0), 0U) << "expected \"" << head << "...\"\n" << r.out;
    if (hop > 1) {
      EXPECT_EQ(line.find("[virtual]"), std::string::npos) << r.out;
    }
    int probes = 0;
    for (auto it = std::sregex_iterator(line.begin(), line.end(), probe);
         it != std::sregex_iterator(); ++it) {
      const std::smatch& m = *it;
      ++probes;
      if (hop == 1) {
        EXPECT_EQ(m[3].str(), "overhead") << "hop 1 probe without (overhead): " << line;
        continue;
      }
      ++beyond;
      if (m[4].matched) {
        ++corrected;
        const double raw = std::stod(m[1]);
        const double value = std::stod(m[4]);
        EXPECT_GT(value, 0.0) << line;
        EXPECT_LE(value, raw) << line;
      } else {
        ADD_FAILURE() << "hop " << hop << " probe " << m[0] << " without (corrected X): " << line;
      }
    }
    EXPECT_EQ(probes, 3) << line;
  }
  EXPECT_EQ(beyond, 3 * (static_cast<int>(hops.size()) - 1)) << r.out;
  EXPECT_EQ(corrected, beyond) << r.out;
  if (HasFailure()) std::cerr << "mtool stderr:\n" << r.err;
}

INSTANTIATE_TEST_SUITE_P(Methods, TracerouteCorrected,
                         ::testing::Values("-n", "-I -n", "-T -n", "-6 -n"), args_name);

}  // namespace
}  // namespace mtool::testing
