// The Atlas results built next to each run (ping_run, trace_run), the header every run starts
// with (run_header), and the output that writes and tallies them (result_output).
#include <gtest/gtest.h>

#include <vector>

#include "campaign/ping_run.h"
#include "campaign/result_output.h"
#include "campaign/run_header.h"
#include "campaign/trace_run.h"
#include "fake_clock.h"

namespace mtool::campaign {
namespace {

using nlohmann::json;

report::AtlasHeader header_to(const std::string& target) {
  report::AtlasHeader h;
  h.msm_id = 7;
  h.dst_name = target;
  return h;
}

TEST(RunResults, APingRunsResultHasItsSizeCountAndPackets) {
  PingParameters p;
  p.packets = 2;
  p.size = 100;
  p.packet_interval_ms = 10;
  PingRun run(p, kMonoStart);
  run.sent(0, kMonoStart);
  run.replied(0, 0.5, 64);
  run.sent(1, kMonoStart + std::chrono::milliseconds{10});
  const auto r = run.result(header_to("198.18.0.11"));
  EXPECT_EQ(r.header.msm_id, 7U);
  EXPECT_EQ(r.size, 100U);
  EXPECT_EQ(r.sent, 2U);
  ASSERT_EQ(r.packets.size(), 2U);
  EXPECT_EQ(r.packets[1].kind, report::AtlasPingPacket::Kind::kLost);
  EXPECT_TRUE(r.resolution_error.empty());
}

TEST(RunResults, ARunThatCouldNotStartHasOnlyItsError) {
  PingParameters p;
  p.size = 64;
  const auto ping = ping_result(p, header_to("nowhere.invalid"), "name resolution failed: x");
  EXPECT_EQ(ping.size, 64U);
  EXPECT_EQ(ping.sent, 0U);
  EXPECT_TRUE(ping.packets.empty());
  EXPECT_EQ(ping.resolution_error, "name resolution failed: x");

  TracerouteParameters t;
  t.protocol = TraceProtocol::kTcp;
  t.size = 0;
  const auto trace =
      traceroute_result(t, header_to("nowhere.invalid"), 1'700'000'005, {}, "socket: EPERM");
  EXPECT_EQ(trace.proto, "TCP");
  EXPECT_EQ(trace.size, 0U);
  EXPECT_EQ(trace.endtime, 1'700'000'005);
  EXPECT_TRUE(trace.hops.empty());
  EXPECT_EQ(trace.resolution_error, "socket: EPERM");
}

TEST(RunResults, ATracerouteResultCarriesItsHops) {
  TracerouteParameters t;  // ICMP, 48 bytes
  std::vector<report::AtlasHop> hops(2);
  hops[1].hop = 2;
  const auto r = traceroute_result(t, header_to("198.18.0.11"), 1'700'000'001, hops);
  EXPECT_EQ(r.proto, "ICMP");
  EXPECT_EQ(r.size, 48U);
  ASSERT_EQ(r.hops.size(), 2U);
  EXPECT_EQ(r.hops[1].hop, 2U);
  EXPECT_TRUE(r.resolution_error.empty());
}

// As Atlas' probe code: run n of a definition with paris P traces on flow n mod P (its first run
// on 1), and a classic trace (paris 0) has no paris_id at all.
TEST(RunResults, ParisIdAdvancesFromRunToRunAsAtlas) {
  EXPECT_EQ(atlas_paris_id(16, 1), std::optional<unsigned>(1));
  EXPECT_EQ(atlas_paris_id(16, 15), std::optional<unsigned>(15));
  EXPECT_EQ(atlas_paris_id(16, 16), std::optional<unsigned>(0));
  EXPECT_EQ(atlas_paris_id(16, 17), std::optional<unsigned>(1));
  EXPECT_EQ(atlas_paris_id(1, 5), std::optional<unsigned>(0));
  EXPECT_EQ(atlas_paris_id(0, 3), std::nullopt);
  TracerouteParameters t;
  const auto paris = traceroute_result(t, header_to("198.18.0.11"), 1, {}, {}, 9);
  EXPECT_EQ(report::atlas_traceroute_json(paris)["paris_id"], 9);
  const auto classic = traceroute_result(t, header_to("198.18.0.11"), 1, {});
  EXPECT_FALSE(report::atlas_traceroute_json(classic).contains("paris_id"));
}

// What an observer was shown: each result's definition index and type, in order.
class RecordingObserver final : public ResultObserver {
 public:
  void observe(const MeasurementDefinition& d, const report::AtlasPingResult&) override {
    seen.push_back("ping " + std::to_string(d.index));
  }
  void observe(const MeasurementDefinition& d, const report::AtlasTracerouteResult&) override {
    seen.push_back("traceroute " + std::to_string(d.index));
  }
  std::vector<std::string> seen;
};

TEST(ResultOutput, WritesEachResultShowsItAndCountsRepliesAndCorrections) {
  std::vector<json> written;
  RecordingObserver observer;
  ResultOutput out([&](const json& j) { written.push_back(j); }, &observer);
  MeasurementDefinition ping_definition;
  ping_definition.index = 3;
  MeasurementDefinition trace_definition;
  trace_definition.index = 5;
  trace_definition.type = MeasurementType::kTraceroute;

  report::AtlasPingResult ping;
  ping.packets.resize(4);
  ping.packets[0].kind = report::AtlasPingPacket::Kind::kReply;
  ping.packets[0].correction = report::AtlasCorrection{};
  ping.packets[1].kind = report::AtlasPingPacket::Kind::kDuplicate;  // not a reply of its own
  ping.packets[2].kind = report::AtlasPingPacket::Kind::kReply;
  ping.packets[3].kind = report::AtlasPingPacket::Kind::kError;
  out.write(ping_definition, ping);

  report::AtlasTracerouteResult trace;
  trace.hops.resize(2);
  trace.hops[0].replies.resize(2);
  trace.hops[0].replies[0].kind = report::AtlasHopReply::Kind::kReply;
  trace.hops[0].replies[0].correction = report::AtlasCorrection{};
  trace.hops[0].replies[1].kind = report::AtlasHopReply::Kind::kTimeout;
  trace.hops[1].replies.resize(1);
  trace.hops[1].replies[0].kind = report::AtlasHopReply::Kind::kReply;
  out.write(trace_definition, trace);

  ASSERT_EQ(written.size(), 2U);
  EXPECT_EQ(observer.seen, (std::vector<std::string>{"ping 3", "traceroute 5"}));
  EXPECT_EQ(written[0], report::atlas_ping_json(ping));
  EXPECT_EQ(written[1], report::atlas_traceroute_json(trace));
  EXPECT_EQ(out.results(), 2U);
  EXPECT_EQ(out.replies(), 4U);
  EXPECT_EQ(out.corrected(), 2U);
}

TEST(RunHeader, TheHeaderNamesTheMeasurementTheProbeAndTheStart) {
  MeasurementDefinition d;
  d.index = 4;
  d.target = "example.net";
  d.af = 6;
  const HeaderDefaults defaults{12, "198.18.0.9", 5000};
  const auto h = atlas_header(d, defaults, kWallStart + std::chrono::milliseconds{999});
  EXPECT_EQ(h.msm_id, 5004U);  // no msm_id of its own: first_msm_id + index
  EXPECT_EQ(h.prb_id, 12U);
  EXPECT_EQ(h.from, "198.18.0.9");
  EXPECT_EQ(h.timestamp, unix_seconds(kWallStart));
  EXPECT_EQ(h.dst_name, "example.net");
  EXPECT_EQ(h.af, 6);
  EXPECT_TRUE(h.dst_addr.empty());

  d.msm_id = 42;
  EXPECT_EQ(atlas_header(d, defaults, kWallStart).msm_id, 42U);
}

TEST(RunHeader, ANumericTargetMustBeInTheDefinitionsFamily) {
  MeasurementDefinition d;
  d.target = "198.18.0.11";
  d.af = 4;
  net::IpAddress address;
  EXPECT_FALSE(resolve_target(d, address));
  EXPECT_EQ(address.to_string(), "198.18.0.11");

  d.af = 6;
  EXPECT_EQ(resolve_target(d, address), "target 198.18.0.11 is not an IPv6 address");
}

TEST(RunHeader, TheAddressesAreTheTargetsAndOursTowardIt) {
  report::AtlasHeader h;
  set_addresses(h, *net::IpAddress::parse("127.0.0.1"));
  EXPECT_EQ(h.dst_addr, "127.0.0.1");
  EXPECT_EQ(h.src_addr, "127.0.0.1");  // the loopback route
}

}  // namespace
}  // namespace mtool::campaign
