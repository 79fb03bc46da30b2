// The testbed's remote-like target (testbed.sh up --remote: mtool_tap_responder busy-polling a
// TAP device on a CPU of its own) answers the same whoever sent the probe, as a real remote host
// does: host probes and container probes see the same wire time (uplink transmit to uplink
// receive). That is what makes it the yardstick for corrected container RTTs. The correlator
// runs with --follow-host-probes, so the host's own probes get wire times too.
// Root only; testbed instance 22; the testbed (with its responder), the correlator, its pins
// and socket are removed in TearDown, also when a test fails.
#include <gtest/gtest.h>
#include <unistd.h>

#include <algorithm>
#include <cmath>
#include <cstdlib>
#include <iostream>
#include <map>
#include <regex>
#include <sstream>
#include <string>
#include <vector>

#include "harness.h"
#include "ping_json.h"
#include "processes.h"

namespace mtool::testing {
namespace {

constexpr int kTestbedIndex = 22;
constexpr const char* kPinDir = "/sys/fs/bpf/mtool-remote-test";
constexpr const char* kSocketDir = "/run/mtool-remote-test";
constexpr const char* kSocket = "/run/mtool-remote-test/correlator.sock";
// Host and container runs alternate, so that a change of the machine's load hits both.
constexpr int kRounds = 3;
constexpr const char* kRun = "--json -c 200 -i 0.002";
// Host and container medians may differ by this much, or by 1.5 times the wider IQR of the two
// when the machine is noisier. Measured on a shared 2-core VM, 17 runs: the remote-like
// target's host median exceeds the container's by 0.3-3.5 us, at most 1.14 times the wider
// IQR (1.2-7.5 us); not the target's doing but the host's own transmit work after the uplink's
// stamp (its socket's TX timestamp and orphaning; a forwarded packet has neither). The netns
// target's, 1.2-13 us, exceeds the bound in 3 of 16 runs at this dense rate.
constexpr double kFloorUs = 2.0;
constexpr double kIqrFactor = 1.5;

// The middle of a sample and how wide its middle half is.
struct Spread {
  double median = 0;
  double iqr = 0;
  std::size_t n = 0;
};

double quantile(std::vector<double> v, double q) {
  std::sort(v.begin(), v.end());
  const double at = q * static_cast<double>(v.size() - 1);
  const auto lo = static_cast<std::size_t>(std::floor(at));
  const std::size_t hi = std::min(lo + 1, v.size() - 1);
  return v[lo] + (v[hi] - v[lo]) * (at - static_cast<double>(lo));
}

Spread spread_of(const std::vector<double>& v) {
  if (v.empty()) return {};
  return {quantile(v, 0.5), quantile(v, 0.75) - quantile(v, 0.25), v.size()};
}

std::string describe(const char* who, const Spread& s) {
  std::ostringstream out;
  out << who << " wire median " << s.median << " us, IQR " << s.iqr << " us (" << s.n
      << " replies)";
  return out.str();
}

class RemoteTargetTest : public ::testing::Test {
 protected:
  void SetUp() override {
    if (!running_as_root())
      GTEST_SKIP() << "needs root: creates network namespaces, a TAP device, loads BPF";
    if (sysconf(_SC_NPROCESSORS_ONLN) < 2)
      GTEST_SKIP() << "needs 2 CPUs: the responder spins on one";
    ASSERT_FALSE(correlator_answers(kSocket)) << "a correlator already answers on " << kSocket;
    clean_up();
    setenv("MTOOL_TAP_RESPONDER", MTOOL_TAP_RESPONDER, 1);
    std::string error;
    bed_ = testbed_up(kTestbedIndex, "--remote",
                      {"TESTBED_CONTAINER_NS", "TESTBED_UPLINK", "TESTBED_TARGET",
                       "TESTBED_TARGET6", "TESTBED_REMOTE_UPLINK", "TESTBED_REMOTE_TARGET",
                       "TESTBED_REMOTE_TARGET6", "TESTBED_REMOTE_CPU", "TESTBED_REMOTE_LOG"},
                      error);
    ASSERT_TRUE(error.empty()) << error;
    // The tools on another CPU than the responder's, which it never leaves.
    tool_cpu_ = bed_["TESTBED_REMOTE_CPU"] == "0" ? "1" : "0";
    ASSERT_TRUE(
        correlator_.start(bed_["TESTBED_UPLINK"],
                          "--uplink " + bed_["TESTBED_REMOTE_UPLINK"] + " --follow-host-probes"));
  }

  void TearDown() override {
    if (correlator_.pid() > 0) {
      const auto code = correlator_.stop();
      EXPECT_EQ(code, std::optional<int>(0)) << "correlator log:\n" << correlator_.log();
    }
    if (HasFailure()) {
      std::cerr << "correlator log:\n"
                << correlator_.log() << "responder log:\n"
                << responder_log();
    }
    clean_up();
  }

  static void clean_up() {
    run(testbed_script(kTestbedIndex) + " down");
    run(std::string("rm -rf ") + kPinDir + " " + kSocketDir);
  }

  // Stops the responder (it writes its summary) and returns its log.
  std::string responder_log() {
    run(testbed_script(kTestbedIndex) + " responder stop");
    return slurp(bed_["TESTBED_REMOTE_LOG"]);
  }

  // `mtool ping ARGS TARGET` on the tools' CPU, in the container or (ns "") the host.
  CommandResult ping(const std::string& ns, const std::string& args, const std::string& target) {
    const std::string where = ns.empty() ? "" : "ip netns exec " + ns + " ";
    return run(where + correlator_env(kPinDir, kSocket) + "taskset -c " + tool_cpu_ + " " +
               mtool_binary() + " ping " + args + " " + target);
  }

  // One run's wire times (us), every reply required to carry one.
  void collect_wire(const std::string& ns, const std::string& target, std::vector<double>& wire) {
    const CommandResult r = ping(ns, kRun, target);
    ASSERT_EQ(r.exit_code, 0) << r.err;
    const PingJson p = parse_ping_json(r.out);
    ASSERT_FALSE(p.replies.empty()) << r.out;
    std::size_t corrected = 0;
    for (const nlohmann::json& reply : p.replies) {
      if (!reply.contains("correction")) continue;
      ++corrected;
      wire.push_back(reply["correction"]["wire_rtt_ms"].get<double>() * 1e3);
    }
    EXPECT_EQ(corrected, p.replies.size())
        << (ns.empty() ? "host" : "container") << " to " << target << ": coverage below 100%";
  }

  // Alternating host and container runs to `target`: their wire times' spreads.
  std::pair<Spread, Spread> compare(const std::string& target) {
    std::vector<double> host, container;
    for (int round = 0; round < kRounds; ++round) {
      collect_wire("", target, host);
      collect_wire(bed_["TESTBED_CONTAINER_NS"], target, container);
    }
    return {spread_of(host), spread_of(container)};
  }

  std::map<std::string, std::string> bed_;
  std::string tool_cpu_;
  CorrelatorProcess correlator_{kPinDir, kSocket};
};

// Both families, from the host and through the container's bridge and NAT.
TEST_F(RemoteTargetTest, AnswersHostAndContainer) {
  for (const char* family : {"TESTBED_REMOTE_TARGET", "TESTBED_REMOTE_TARGET6"}) {
    for (const std::string& ns : {std::string(), bed_["TESTBED_CONTAINER_NS"]}) {
      const CommandResult r = ping(ns, "--json -c 3 -i 0.05", bed_[family]);
      ASSERT_EQ(r.exit_code, 0) << family << " from " << (ns.empty() ? "host" : ns) << ": "
                                << r.err;
      EXPECT_EQ(parse_ping_json(r.out).summary.value("received", 0), 3) << r.out;
    }
  }
  const std::string log = responder_log();
  std::smatch m;
  ASSERT_TRUE(std::regex_search(log, m, std::regex("answered ([0-9]+), dropped"))) << log;
  EXPECT_EQ(m[1], "12") << log;
}

// The point of the remote-like target: its answer does not depend on who sent the probe.
TEST_F(RemoteTargetTest, HostAndContainerSeeTheSameWireTime) {
  const auto [host, container] = compare(bed_["TESTBED_REMOTE_TARGET"]);
  ASSERT_GT(host.n, 0U);
  ASSERT_GT(container.n, 0U);
  const double bound = std::max(kFloorUs, kIqrFactor * std::max(host.iqr, container.iqr));
  const std::string report = describe("host", host) + "; " + describe("container", container);
  std::cout << "remote-like target: " << report << "\n";
  std::cout << responder_log();
#ifdef MTOOL_SANITIZED_BUILD
  // Both runs went through the instrumented tools (what this build checks); the microsecond
  // bound is not theirs to meet. Seen: host minus container 2.54 us against a bound of 2.47.
  GTEST_SKIP() << "the wire-time bound is asserted in the normal build, not under ASan/UBSan";
#endif
  EXPECT_LE(std::abs(host.median - container.median), bound) << report;
}

// The same comparison against the netns target, reported, not asserted: there the target
// answers in the sender's own softirq, so its wire time may depend on the sender.
TEST_F(RemoteTargetTest, NetnsTargetComparedTheSameWay) {
  const auto [host, container] = compare(bed_["TESTBED_TARGET"]);
  const std::string report = describe("host", host) + "; " + describe("container", container);
  std::cout << "netns target: " << report << "; host minus container "
            << host.median - container.median << " us\n";
  RecordProperty("netns_host_minus_container_us", std::to_string(host.median - container.median));
}

}  // namespace
}  // namespace mtool::testing
