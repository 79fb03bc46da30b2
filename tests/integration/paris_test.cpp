// Paris traceroute on the multipath testbed (tests/testbed/testbed.sh up --multipath, instance
// 33): behind the target, a two-way ECMP hop (3), a join (4), a diamond of two (5) then three
// (6) routers, and the end (7), every router balancing on the header's fields. Checked: the
// testbed's own control (identical headers from different sockets take one path, different
// ports spread); a classic UDP trace draws both branches of a hop within one trace; --paris
// holds one path per ID for UDP (raw, and one probe at a time without CAP_NET_RAW), TCP and
// ICMP, and enough IDs reach every branch; the fields balancers hash are held on the wire
// (captured in the container); every probe beyond the host is corrected; scamper's udp-paris
// trace on the same flow finds the same hops. Root only.
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

// The addresses each hop line shows (IPv4: four dotted numbers; times have one dot).
HopSets hop_sets(const std::string& trace) {
  static const std::regex address(R"(\b([0-9]+\.[0-9]+\.[0-9]+\.[0-9]+)\b)");
  HopSets hops;
  const std::vector<std::string> lines = lines_of(trace);
  for (std::size_t i = 1; i < lines.size(); ++i) {
    std::set<std::string> seen;
    for (auto it = std::sregex_iterator(lines[i].begin(), lines[i].end(), address);
         it != std::sregex_iterator(); ++it) {
      seen.insert((*it)[1]);
    }
    hops.push_back(seen);
  }
  return hops;
}

// A probe as a capture on the container's eth0 shows it: the transport header's first 8 bytes.
struct WireProbe {
  int protocol = 0;
  unsigned ttl = 0;
  std::uint16_t word[4] = {};  // UDP: ports, length, checksum; ICMP: type/code, checksum, id, seq
  std::uint32_t tcp_sequence = 0;
};

// Outgoing probes to `destination` in a classic pcap file (Ethernet, IPv4).
std::vector<WireProbe> read_capture(const std::string& path, const std::string& destination) {
  std::ifstream in(path, std::ios::binary);
  std::vector<unsigned char> bytes((std::istreambuf_iterator<char>(in)), {});
  std::vector<WireProbe> probes;
  unsigned d[4] = {};
  std::sscanf(destination.c_str(), "%u.%u.%u.%u", &d[0], &d[1], &d[2], &d[3]);
  std::size_t at = 24;  // the global header
  while (at + 16 <= bytes.size()) {
    const std::size_t length = bytes[at + 8] | (bytes[at + 9] << 8) | (bytes[at + 10] << 16) |
                               (static_cast<std::size_t>(bytes[at + 11]) << 24);
    const unsigned char* frame = &bytes[at + 16];
    at += 16 + length;
    if (at > bytes.size() || length < 14 + 20 + 8) continue;
    if (frame[12] != 0x08 || frame[13] != 0x00) continue;
    const unsigned char* ip = frame + 14;
    if (ip[16] != d[0] || ip[17] != d[1] || ip[18] != d[2] || ip[19] != d[3]) continue;
    const std::size_t ihl = (ip[0] & 0x0F) * 4U;
    if (length < 14 + ihl + 8) continue;
    const unsigned char* l4 = ip + ihl;
    WireProbe p;
    p.protocol = ip[9];
    p.ttl = ip[8];
    for (int w = 0; w < 4; ++w)
      p.word[w] = static_cast<std::uint16_t>((l4[2 * w] << 8) | l4[2 * w + 1]);
    p.tcp_sequence = (static_cast<std::uint32_t>(p.word[2]) << 16) | p.word[3];
    probes.push_back(p);
  }
  return probes;
}

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
    return run(in_container(user + env + mtool_binary() + " traceroute " + args + " " + end()));
  }
  // A trace that reached the end on one path: each hop one router of that hop's.
  static void expect_one_path(const std::string& args, const HopSets& hops,
                              const std::string& trace) {
    const HopSets expected = expected_hops();
    ASSERT_EQ(hops.size(), expected.size()) << args << "\n" << trace;
    for (std::size_t h = 0; h < hops.size(); ++h) {
      EXPECT_EQ(hops[h].size(), 1U) << args << ": hop " << h + 1 << "\n" << trace;
      for (const auto& a : hops[h])
        EXPECT_TRUE(expected[h].contains(a)) << args << ": hop " << h + 1 << " " << a;
    }
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
    expect_one_path(args, hops, r.out);
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
    run(std::string("rm -f ") + kCapture);
    Background capture(in_container(std::string("tcpdump --immediate-mode -U -n -i eth0 -w ") +
                                    kCapture + " dst host " + end()),
                       "paris-tcpdump");
    ASSERT_TRUE(wait_until([] { return run(std::string("test -s ") + kCapture).exit_code == 0; },
                           std::chrono::milliseconds(5000)));
    const CommandResult r = mtool(c.args);
    ASSERT_EQ(r.exit_code, 0) << r.err;
    std::this_thread::sleep_for(std::chrono::milliseconds(300));
    capture.stop(SIGINT);
    const std::vector<WireProbe> probes = read_capture(kCapture, end());
    ASSERT_GE(probes.size(), static_cast<std::size_t>(3 * kHops))
        << r.out << "capture: " << slurp(kCapture).size() << " bytes\n"
        << capture.err();
    std::set<std::uint32_t> held;
    std::set<std::uint32_t> told_apart;
    for (const WireProbe& p : probes) {
      EXPECT_EQ(p.protocol, c.protocol);
      switch (c.protocol) {
        case 1:  // type/code, checksum, identifier | sequence
          held.insert((static_cast<std::uint32_t>(p.word[0]) << 16) | p.word[1]);
          held.insert(0x10000000U | p.word[2]);
          told_apart.insert(p.word[3]);
          break;
        case 17:  // ports | checksum
          held.insert((static_cast<std::uint32_t>(p.word[0]) << 16) | p.word[1]);
          told_apart.insert(p.word[3]);
          break;
        default:  // ports | sequence number
          held.insert((static_cast<std::uint32_t>(p.word[0]) << 16) | p.word[1]);
          told_apart.insert(p.tcp_sequence);
      }
    }
    const std::size_t held_fields = c.protocol == 1 ? 2 : 1;
    if (c.args == "-n") {
      EXPECT_EQ(held.size(), probes.size()) << "a classic trace changes its port every probe";
    } else {
      EXPECT_EQ(held.size(), held_fields) << "held fields changed";
      EXPECT_EQ(told_apart.size(), probes.size()) << "two probes look alike";
    }
  }
}

// With the correlator: hop 1 [virtual], every probe beyond the host corrected, for each method.
class ParisCorrected : public Paris, public ::testing::WithParamInterface<const char*> {};

TEST_P(ParisCorrected, EveryProbeBeyondTheHostCorrected) {
  ASSERT_TRUE(start_correlator());
  const std::string args = std::string(GetParam()) + " -n --paris=3";
  const CommandResult r = mtool(args, with_correlator());
  ASSERT_EQ(r.exit_code, 0) << r.err;
  const std::vector<std::string> lines = lines_of(r.out);
  ASSERT_EQ(lines.size(), 1U + kHops) << r.out;
  EXPECT_NE(lines[1].find("[virtual]"), std::string::npos) << r.out;
  static const std::regex probe(R"(([0-9]+\.[0-9]+) ms( \((corrected [0-9.]+|overhead)\))?)");
  int beyond = 0;
  int corrected = 0;
  for (std::size_t i = 2; i < lines.size(); ++i) {
    for (auto it = std::sregex_iterator(lines[i].begin(), lines[i].end(), probe);
         it != std::sregex_iterator(); ++it) {
      ++beyond;
      if ((*it)[3].matched && (*it)[3].str().starts_with("corrected")) ++corrected;
    }
  }
  EXPECT_EQ(beyond, 3 * (kHops - 1)) << r.out;
  EXPECT_EQ(corrected, beyond) << r.out << r.err;
}

INSTANTIATE_TEST_SUITE_P(Methods, ParisCorrected, ::testing::Values("", "-I", "-T"), method_name);

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
