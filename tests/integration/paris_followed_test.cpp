// The correlator following Paris traces, Paris over IPv6, and Paris in `mtool run`, on the
// multipath testbed (instance 37, multipath_bed.h; paris_test.cpp has the rest). Checked: with the
// correlator, hop 1 is [virtual] and every probe beyond the host is corrected for --paris UDP (a
// raw socket, many probes in flight), ICMP and TCP, over IPv4 and IPv6; a raw Paris UDP method that
// names its probes for the correlator keeps several probes of one flow in flight, told apart
// by their checksums; over IPv6 --paris holds one path per ID (UDP, TCP), enough IDs reach
// every branch, and the flow label is held on the wire with the other hashed fields; `mtool run`
// traces run n of a definition with `paris` on flow n mod paris as RIPE Atlas' probe code
// (eperd/traceroute.c) does (UDP to port 33434 + id; ICMP checksum id over IPv4, id + 1 over
// IPv6), every probe of a run holding its flow, and says that paris_id in the result. Root only.
#include <gtest/gtest.h>

#include <ctime>
#include <fstream>
#include <map>
#include <nlohmann/json.hpp>
#include <regex>
#include <set>
#include <string>
#include <vector>

#include "harness.h"
#include "multipath_bed.h"
#include "net/address.h"
#include "paris_support.h"
#include "processes.h"
#include "report/hop_probe.h"
#include "trace/method_factory.h"
#include "trace/udp_paris_method.h"
#include "util/clock.h"

namespace mtool::testing {
namespace {

using nlohmann::json;

constexpr int kTestbedIndex = 37;
constexpr int kHops = MultipathBed::kHops;
constexpr int kIds = 16;  // flow IDs tried to reach every branch
constexpr const char* kPinDir = "/sys/fs/bpf/mtool-paris-followed-test";
constexpr const char* kSocket = "/run/mtool-paris-followed-test/correlator.sock";
constexpr const char* kNoCorrelator = "env MTOOL_CORRELATOR=off ";
constexpr const char* kCapture = "/tmp/mtool-paris-followed-test.pcap";

class ParisFollowed : public MultipathSuite {
 protected:
  ParisFollowed() : MultipathSuite(bed_, kPinDir, kSocket) {}

  static void SetUpTestSuite() {
    if (running_as_root()) bed_.up(kTestbedIndex);
  }

  static void TearDownTestSuite() {
    if (!running_as_root()) return;
    bed_.down();
    run(std::string("rm -f ") + kCapture);
  }

  static const std::string& end(int family = AF_INET) { return bed_.end(family); }
  static CommandResult mtool(const std::string& args, const std::string& env = kNoCorrelator) {
    return run(traceroute_command(bed_, args, env));
  }
  // The probes to `destination` a capture saw while `command` ran (none if either failed).
  static std::vector<WireProbe> captured(const std::string& command, const std::string& destination,
                                         std::string& diagnostics) {
    if (!capture_while(bed_, command, destination, kCapture, diagnostics)) return {};
    return read_capture(kCapture, destination);
  }

  static MultipathBed bed_;
};

MultipathBed ParisFollowed::bed_;

// Test names from traceroute flags: "-6 -T" -> v6_tcp.
std::string flags_name(const ::testing::TestParamInfo<const char*>& param) {
  const std::string p = param.param;
  const std::string family = p.find("-6") != std::string::npos ? "v6_" : "v4_";
  if (p.find("-T") != std::string::npos) return family + "tcp";
  if (p.find("-I") != std::string::npos) return family + "icmp";
  return family + "udp";
}

// With the correlator: hop 1 [virtual], every probe beyond the host corrected.
class ParisCorrected : public ParisFollowed, public ::testing::WithParamInterface<const char*> {};

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

INSTANTIATE_TEST_SUITE_P(Methods, ParisCorrected,
                         ::testing::Values("", "-I", "-T", "-6", "-6 -I", "-6 -T"), flags_name);

// The method the traces above use: with CAP_NET_RAW and the correlator asking for identities,
// a second probe of a flow goes out while the first is in flight (one at a time would make it
// wait: EAGAIN), both on the same ports and named apart by their checksums. Loopback only.
TEST(ParisFollowedMethod, RawUdpKeepsSeveralProbesOfAFlowInFlight) {
  if (!running_as_root()) GTEST_SKIP() << "needs CAP_NET_RAW";
  trace::MethodSetup setup;
  setup.family = AF_INET;
  setup.destination = *net::IpAddress::parse("127.0.0.1");
  setup.header_length = trace::method_header_length(trace::TraceMethod::kUdp, AF_INET);
  setup.data_length = 32;
  setup.identify = true;
  setup.hold_flows = true;
  const SystemClock clock;
  const auto method = trace::make_probe_method(trace::TraceMethod::kUdp, setup, clock);
  const auto* paris = dynamic_cast<const trace::UdpParisMethod*>(method.get());
  ASSERT_NE(paris, nullptr);
  EXPECT_TRUE(paris->raw());
  report::HopProbe first;
  report::HopProbe second;
  ASSERT_EQ(method->send(0, first, 1, 0), 0);
  ASSERT_EQ(method->send(1, second, 1, 0), 0) << "the second probe waited for the first";
  EXPECT_EQ(first.identity.protocol, IPPROTO_UDP);
  EXPECT_EQ(first.identity.flow, second.identity.flow);
  EXPECT_EQ(first.identity.sequence, second.identity.sequence);
  EXPECT_NE(first.identity.checksum, 0);
  EXPECT_NE(second.identity.checksum, 0);
  EXPECT_NE(first.identity.checksum, second.identity.checksum);
  method->release(0);
  method->release(1);
}

// IPv6: one router per hop for each ID; over 16 IDs UDP and TCP reach every router of every hop
// (the routers hash the flow label too, which the trace holds).
class ParisIpv6 : public ParisFollowed, public ::testing::WithParamInterface<const char*> {};

TEST_P(ParisIpv6, OnePathPerIdAndEnoughIdsReachEveryBranch) {
  HopSets reached(kHops);
  for (int id = 0; id < kIds; ++id) {
    const std::string args = std::string(GetParam()) + " -n --paris=" + std::to_string(id);
    const CommandResult r = mtool(args);
    ASSERT_EQ(r.exit_code, 0) << args << "\n" << r.err;
    const HopSets hops = hop_sets(r.out);
    expect_one_path(bed_.expected_hops(AF_INET6), args, hops, r.out);
    if (HasFailure()) return;
    for (std::size_t h = 0; h < hops.size(); ++h) reached[h].insert(hops[h].begin(), hops[h].end());
  }
  const HopSets expected = bed_.expected_hops(AF_INET6);
  for (std::size_t h = 0; h < expected.size(); ++h)
    EXPECT_EQ(reached[h], expected[h])
        << GetParam() << ", hop " << h + 1 << ": " << joined(reached[h]);
}

INSTANTIATE_TEST_SUITE_P(Methods, ParisIpv6, ::testing::Values("-6", "-6 -T"), flags_name);

// IPv6 on the wire: the flow label is held with the other hashed fields, and the probes still
// differ where they are told apart.
TEST_F(ParisFollowed, Ipv6HoldsTheFlowLabelOnTheWire) {
  for (const std::string args : {"-6 -n --paris=5", "-6 -I -n --paris=5", "-6 -T -n --paris=5"}) {
    SCOPED_TRACE(args);
    std::string diagnostics;
    const std::vector<WireProbe> probes =
        captured(traceroute_command(bed_, args, kNoCorrelator), end(AF_INET6), diagnostics);
    ASSERT_GE(probes.size(), static_cast<std::size_t>(3 * kHops)) << diagnostics;
    const FlowSummary flows = summarise_flows(probes);
    EXPECT_EQ(flows.held.size(), 1U) << "held fields or the flow label changed";
    EXPECT_EQ(flows.told_apart.size(), probes.size()) << "two probes look alike";
  }
}

// `mtool run`, two runs of each definition (paris 16): RIPE Atlas' probe code advances its
// paris id at each run's start from 0, so run n traces on flow n mod 16 (1, then 2). On the wire
// each run's probes go on that flow only, all holding its hashed fields: UDP to 33434 + id, ICMP
// with checksum id (IPv4) or id + 1 (IPv6); each result says its paris_id. Runs 60 s apart (the
// shortest interval a definition may ask for): this test takes a minute.
TEST_F(ParisFollowed, RunAdvancesTheParisIdRunToRunAsAtlas) {
  const long start = static_cast<long>(std::time(nullptr)) + 2;
  struct Definition {
    unsigned msm_id;
    int af;
    const char* protocol;
  };
  const std::vector<Definition> definitions{
      {7001, 4, "UDP"}, {7002, 4, "ICMP"}, {7003, 6, "UDP"}, {7004, 6, "ICMP"}};
  json list = json::array();
  for (const Definition& d : definitions) {
    list.push_back({{"type", "traceroute"},
                    {"af", d.af},
                    {"target", end(d.af == 6 ? AF_INET6 : AF_INET)},
                    {"protocol", d.protocol},
                    {"paris", 16},
                    {"msm_id", d.msm_id},
                    {"interval", 60},
                    {"start_time", start},
                    {"stop_time", start + 60}});
  }
  const std::string list_path = "/tmp/mtool-paris-37-list.json";
  std::ofstream(list_path) << list.dump();
  const std::string results_path = "/tmp/mtool-paris-37-results.json";
  std::string diagnostics;
  const bool ran = capture_while(bed_,
                                 bed_.in_container(std::string(kNoCorrelator) + mtool_binary() +
                                                   " run -o " + results_path + " " + list_path),
                                 end(AF_INET) + " or " + end(AF_INET6), kCapture, diagnostics);
  const std::string results = slurp(results_path);
  run("rm -f " + list_path + " " + results_path);
  ASSERT_TRUE(ran) << diagnostics;

  std::map<unsigned, std::set<unsigned>> paris_ids;  // by msm_id
  for (const std::string& line : lines_of(results)) {
    const json r = json::parse(line);
    ASSERT_TRUE(r.contains("paris_id")) << line;
    paris_ids[r["msm_id"].get<unsigned>()].insert(r["paris_id"].get<unsigned>());
  }
  for (const Definition& d : definitions) {
    SCOPED_TRACE(std::string(d.protocol) + " IPv" + std::to_string(d.af));
    EXPECT_EQ(paris_ids[d.msm_id], (std::set<unsigned>{1, 2})) << results;
    const bool icmp = std::string(d.protocol) == "ICMP";
    const int protocol = icmp ? (d.af == 6 ? 58 : 1) : 17;
    // A run's flow on the wire: UDP's destination port, ICMP's checksum.
    std::map<unsigned, std::vector<WireProbe>> by_flow;
    for (const WireProbe& p : read_capture(kCapture, end(d.af == 6 ? AF_INET6 : AF_INET))) {
      if (p.protocol == protocol) by_flow[icmp ? p.word[1] : p.word[1] - 33434U].push_back(p);
    }
    std::set<unsigned> flows;
    for (const auto& [flow, probes] : by_flow) {
      flows.insert(icmp && d.af == 6 ? flow - 1 : flow);
      EXPECT_GE(probes.size(), static_cast<std::size_t>(3 * kHops)) << "flow " << flow;
      const FlowSummary summary = summarise_flows(probes);
      EXPECT_EQ(summary.held.size(), 1U) << "flow " << flow << ": held fields changed";
      EXPECT_EQ(summary.told_apart.size(), probes.size()) << "flow " << flow;
    }
    EXPECT_EQ(flows, (std::set<unsigned>{1, 2})) << diagnostics;
  }
}

}  // namespace
}  // namespace mtool::testing
