// Paris traceroute on the multipath testbed (tests/testbed/testbed.sh up --multipath, instance
// 33): behind the target, a two-way ECMP hop (3), a join (4), a diamond of two (5) then three
// (6) routers, and the end (7), every router balancing on the header's fields. Checked: the
// testbed's own control (identical headers from different sockets take one path, different
// ports spread); a classic UDP trace draws both branches of a hop within one trace; --paris
// holds one path per ID for UDP (raw, and one probe at a time without CAP_NET_RAW), TCP and
// ICMP, and enough IDs reach every branch; the fields balancers hash are held on the wire
// (captured in the container); scamper's udp-paris trace on the same flow finds the same hops.
// With the correlator, over IPv6, and in `mtool run`: paris_followed_test.cpp. Root only.
#include <gtest/gtest.h>

#include <fstream>
#include <iostream>
#include <map>
#include <optional>
#include <regex>
#include <set>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

#include "harness.h"
#include "multipath_bed.h"
#include "paris_support.h"
#include "processes.h"

namespace mtool::testing {
namespace {

constexpr int kTestbedIndex = 33;
constexpr int kHops = MultipathBed::kHops;
constexpr int kIds = 16;  // flow IDs tried to reach every branch
constexpr const char* kPinDir = "/sys/fs/bpf/mtool-paris-test";
constexpr const char* kSocket = "/run/mtool-paris-test/correlator.sock";
constexpr const char* kNoCorrelator = "env MTOOL_CORRELATOR=off ";
constexpr const char* kCapture = "/tmp/mtool-paris-test.pcap";

class Paris : public MultipathSuite {
 protected:
  Paris() : MultipathSuite(bed_, kPinDir, kSocket) {}

  static void SetUpTestSuite() {
    if (running_as_root()) bed_.up(kTestbedIndex);
  }

  static void TearDownTestSuite() {
    if (!running_as_root()) return;
    bed_.down();
    run(std::string("rm -f ") + kCapture);
  }

  static const std::string& end() { return bed_.end(); }
  static std::string in_container(const std::string& command) { return bed_.in_container(command); }
  static HopSets expected_hops() { return bed_.expected_hops(); }
  // `mtool traceroute ARGS END` in the container (as root unless `user` says otherwise).
  static CommandResult mtool(const std::string& args, const std::string& env = kNoCorrelator,
                             const std::string& user = "") {
    return run(traceroute_command(bed_, args, user + env));
  }

  static MultipathBed bed_;
};

MultipathBed Paris::bed_;

// The testbed's control: balancing is per header, not per socket. The same 5-tuple from eight
// fresh sockets runs out of TTL at one router; 32 destination ports reach every one.
TEST_F(Paris, TestbedBalancesOnHeadersNotSockets) {
  const std::string probe =
      std::string("python3 ") + MTOOL_SOURCE_DIR + "/tests/testbed/path_probe.py " + end() + " ";
  for (const int ttl : {3, 5, 6}) {
    SCOPED_TRACE("ttl " + std::to_string(ttl));
    const CommandResult same =
        run(in_container(probe + std::to_string(ttl) + " 40000 33440 --repeat 8"));
    ASSERT_EQ(same.exit_code, 0) << same.err;
    std::set<std::string> routers;
    for (const auto& line : lines_of(same.out)) routers.insert(line.substr(line.find(' ') + 1));
    EXPECT_EQ(routers.size(), 1U) << same.out;
    EXPECT_FALSE(routers.contains("*")) << same.out;

    std::string ports;
    for (int p = 33434; p < 33434 + 32; ++p) ports += " " + std::to_string(p);
    const CommandResult spread = run(in_container(probe + std::to_string(ttl) + " 40000" + ports));
    ASSERT_EQ(spread.exit_code, 0) << spread.err;
    routers.clear();
    for (const auto& line : lines_of(spread.out)) routers.insert(line.substr(line.find(' ') + 1));
    EXPECT_EQ(routers, expected_hops()[ttl - 1]) << spread.out;
  }
}

// A classic trace changes the destination port with every probe: ten probes a hop draw both
// routers of hop 3 on one line, and more than one of hop 6's.
TEST_F(Paris, ClassicUdpSeesBothBranchesWithinOneTrace) {
  const CommandResult r = mtool("-n -q 10");
  ASSERT_EQ(r.exit_code, 0) << r.err;
  const HopSets hops = hop_sets(r.out);
  ASSERT_EQ(hops.size(), static_cast<std::size_t>(kHops)) << r.out;
  EXPECT_EQ(hops[2], expected_hops()[2]) << r.out;
  EXPECT_GT(hops[5].size(), 1U) << r.out;
}

// --paris=ID: one router per hop, whatever the method; over 16 IDs, UDP and TCP reach every
// router of every hop (Linux hashes no ICMP field but addresses, so ICMP keeps one path: held
// fields are checked on the wire instead, below).
class ParisMethods : public Paris, public ::testing::WithParamInterface<const char*> {};

TEST_P(ParisMethods, OnePathPerIdAndEnoughIdsReachEveryBranch) {
  const std::string method = GetParam();
  const bool unprivileged = method == "unprivileged";
  // Without CAP_NET_RAW (nobody, no capabilities): one UDP probe in flight at a time.
  const std::string user =
      unprivileged ? "setpriv --reuid=65534 --regid=65534 --clear-groups --inh-caps=-all " : "";
  const std::string flags = unprivileged || method == "udp" ? "" : "-" + method.substr(0, 1) + " ";
  HopSets reached(kHops);
  for (int id = 0; id < kIds; ++id) {
    const std::string args = flags + "-n --paris=" + std::to_string(id);
    const CommandResult r = mtool(args, kNoCorrelator, user);
    ASSERT_EQ(r.exit_code, 0) << args << "\n" << r.err;
    const HopSets hops = hop_sets(r.out);
    expect_one_path(expected_hops(), args, hops, r.out);
    if (HasFailure()) return;
    for (std::size_t h = 0; h < hops.size(); ++h) reached[h].insert(hops[h].begin(), hops[h].end());
  }
  const HopSets expected = expected_hops();
  for (std::size_t h = 0; h < expected.size(); ++h) {
    if (method == "I") {
      EXPECT_EQ(reached[h].size(), 1U) << "ICMP, hop " << h + 1 << ": " << joined(reached[h]);
    } else {
      EXPECT_EQ(reached[h], expected[h]) << method << ", hop " << h + 1;
    }
  }
}

// Test names: udp, unprivileged, tcp, icmp.
std::string method_name(const ::testing::TestParamInfo<const char*>& param) {
  const std::string p = param.param;
  if (p.empty() || p == "udp") return "udp";
  if (p == "T" || p == "-T") return "tcp";
  if (p == "I" || p == "-I") return "icmp";
  return p;
}

INSTANTIATE_TEST_SUITE_P(Methods, ParisMethods, ::testing::Values("udp", "unprivileged", "T", "I"),
                         method_name);

// On the wire (a capture on the container's eth0): every probe of a Paris trace carries the
// fields balancers hash unchanged, and differs where the probes are told apart: ICMP holds
// type, code, checksum and identifier (sequence numbers differ); UDP its ports (checksums
// differ); TCP its ports (sequence numbers differ). A classic UDP trace, for contrast, changes
// its destination port.
TEST_F(Paris, HeldFieldsOnTheWire) {
  struct Case {
    std::string args;
    int protocol;
  };
  for (const Case& c : {Case{"-I -n --paris=5", 1}, Case{"-n --paris=5", 17},
                        Case{"-T -n --paris=5", 6}, Case{"-n", 17}}) {
    SCOPED_TRACE(c.args);
    std::string diagnostics;
    ASSERT_TRUE(capture_while(bed_, traceroute_command(bed_, c.args, kNoCorrelator), end(),
                              kCapture, diagnostics))
        << diagnostics;
    const std::vector<WireProbe> probes = read_capture(kCapture, end());
    ASSERT_GE(probes.size(), static_cast<std::size_t>(3 * kHops)) << diagnostics;
    for (const WireProbe& p : probes) EXPECT_EQ(p.protocol, c.protocol);
    const FlowSummary flows = summarise_flows(probes);
    if (c.args == "-n") {
      EXPECT_EQ(flows.held.size(), probes.size()) << "a classic trace changes its port every probe";
    } else {
      EXPECT_EQ(flows.held.size(), 1U) << "held fields changed";
      EXPECT_EQ(flows.told_apart.size(), probes.size()) << "two probes look alike";
    }
  }
}

// scamper (Debian's) traces the same flow (source port, destination port 33434 + ID) with
// `trace -P udp-paris`: the same router at every hop as `--paris=ID --sport`.
TEST_F(Paris, ScamperUdpParisFindsTheSameHops) {
  if (run("command -v scamper").exit_code != 0) GTEST_SKIP() << "scamper not installed";
  for (int id = 0; id < 4; ++id) {
    const int sport = 40100 + id;
    const std::string args =
        "-n --sport=" + std::to_string(sport) + " --paris=" + std::to_string(id);
    const CommandResult ours = mtool(args);
    ASSERT_EQ(ours.exit_code, 0) << ours.err;
    const CommandResult theirs = run(in_container(
        "scamper -O json -c \"trace -P udp-paris -q 1 -w 1 -s " + std::to_string(sport) + " -d " +
        std::to_string(33434 + id) + "\" -i " + end()));
    ASSERT_EQ(theirs.exit_code, 0) << theirs.err;
    // Their hops: "addr" of each hop entry in probe_ttl order.
    static const std::regex hop(R"re("addr":"([0-9.]+)", "probe_ttl":([0-9]+))re");
    std::map<int, std::string> scamper_hops;
    for (auto it = std::sregex_iterator(theirs.out.begin(), theirs.out.end(), hop);
         it != std::sregex_iterator(); ++it) {
      scamper_hops[std::stoi((*it)[2])] = (*it)[1];
    }
    const HopSets mine = hop_sets(ours.out);
    ASSERT_EQ(scamper_hops.size(), mine.size()) << theirs.out << "\n" << ours.out;
    for (std::size_t h = 0; h < mine.size(); ++h) {
      EXPECT_EQ(mine[h], std::set<std::string>{scamper_hops[static_cast<int>(h) + 1]})
          << args << ": hop " << h + 1;
    }
  }
}

}  // namespace
}  // namespace mtool::testing
