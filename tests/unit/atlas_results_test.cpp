// Results in RIPE Atlas' format: the fields and meanings of atlas_formats.md's published
// examples (ping with loss and duplicates, traceroute with timeouts and errors), and mtool's
// additions beside them.
#include "report/atlas_results.h"

#include <gtest/gtest.h>
#include <netinet/icmp6.h>
#include <netinet/ip_icmp.h>
#include <sys/socket.h>

namespace mtool::report {
namespace {

using nlohmann::json;

AtlasHeader header() {
  AtlasHeader h;
  h.msm_id = 1000192;
  h.prb_id = 1216;
  h.timestamp = 1395277728;
  h.from = "198.18.16.2";
  h.dst_name = "target.test";
  h.dst_addr = "198.19.0.2";
  h.src_addr = "198.18.16.2";
  return h;
}

AtlasPingPacket reply(double rtt, int ttl, bool duplicate = false) {
  AtlasPingPacket p;
  p.kind = duplicate ? AtlasPingPacket::Kind::kDuplicate : AtlasPingPacket::Kind::kReply;
  p.rtt_ms = rtt;
  p.ttl = ttl;
  return p;
}

TEST(AtlasResults, PingWithLossAndDuplicatesAsAtlas) {
  AtlasPingResult r;
  r.header = header();
  r.size = 12;
  r.sent = 2;
  r.packets = {AtlasPingPacket{}, reply(36.454, 54, true), reply(37.756, 54, true),
               reply(27.768, 54)};
  const json j = atlas_ping_json(r);
  // Atlas (sagan's test_ping_duplicate): statistics leave duplicates out.
  EXPECT_EQ(j["type"], "ping");
  EXPECT_EQ(j["msm_name"], "Ping");
  EXPECT_EQ(j["proto"], "ICMP");
  EXPECT_EQ(j["fw"], kAtlasFirmware);
  EXPECT_EQ(j["af"], 4);
  EXPECT_EQ(j["size"], 12);
  EXPECT_EQ(j["sent"], 2);
  EXPECT_EQ(j["rcvd"], 1);
  EXPECT_EQ(j["dup"], 2);
  EXPECT_EQ(j["min"], 27.768);
  EXPECT_EQ(j["avg"], 27.768);
  EXPECT_EQ(j["max"], 27.768);
  EXPECT_EQ(j["ttl"], 54);
  EXPECT_EQ(
      j["result"],
      json::parse(
          R"([{"x":"*"},{"dup":1,"rtt":36.454,"ttl":54},{"dup":1,"rtt":37.756},{"rtt":27.768}])"));
  for (const char* field :
       {"dst_name", "dst_addr", "src_addr", "msm_id", "prb_id", "timestamp", "from"}) {
    EXPECT_TRUE(j.contains(field)) << field;
  }
  EXPECT_FALSE(j.contains("mtool"));  // nothing corrected, nothing added
}

TEST(AtlasResults, PingTotalLossHasMinusOneAndNoTtl) {
  AtlasPingResult r;
  r.header = header();
  r.sent = 3;
  r.packets = {AtlasPingPacket{}, AtlasPingPacket{}, AtlasPingPacket{}};
  const json j = atlas_ping_json(r);
  EXPECT_EQ(j["result"], json::parse(R"([{"x":"*"},{"x":"*"},{"x":"*"}])"));
  EXPECT_EQ(j["rcvd"], 0);
  EXPECT_EQ(j["min"], -1);
  EXPECT_EQ(j["avg"], -1);
  EXPECT_EQ(j["max"], -1);
  EXPECT_FALSE(j.contains("ttl"));
}

TEST(AtlasResults, PingCorrectionsSitBesideAtlasFields) {
  AtlasPingResult r;
  r.header = header();
  r.sent = 2;
  r.packets = {reply(0.080, 63), reply(0.060, 63)};
  r.packets[0].correction = AtlasCorrection{0.041, 0.039, false, nullptr};
  r.packets[1].correction = AtlasCorrection{0.030, 0.030, false, nullptr};
  const json j = atlas_ping_json(r);
  EXPECT_EQ(j["result"][0],
            json::parse(R"({"rtt":0.08,"ttl":63,"rtt_corrected":0.041,"overhead":0.039})"));
  EXPECT_EQ(j["result"][1], json::parse(R"({"rtt":0.06,"rtt_corrected":0.03,"overhead":0.03})"));
  EXPECT_EQ(j["avg"], 0.07);  // Atlas' own statistic stays raw
  EXPECT_EQ(j["mtool"]["corrected"],
            json::parse(R"({"min":0.03,"avg":0.0355,"max":0.041,"replies":2})"));
}

TEST(AtlasResults, PingResolutionFailureIsAnErrorResult) {
  AtlasPingResult r;
  r.header = header();
  r.header.dst_addr.clear();
  r.resolution_error = "dns resolution failed: Name or service not known";
  const json j = atlas_ping_json(r);
  EXPECT_FALSE(j.contains("dst_addr"));
  EXPECT_EQ(j["result"],
            json::parse(R"([{"error":"dns resolution failed: Name or service not known"}])"));
  EXPECT_EQ(j["sent"], 0);
  EXPECT_EQ(j["min"], -1);
}

TEST(AtlasResults, TracerouteHopsAsAtlas) {
  AtlasTracerouteResult r;
  r.header = header();
  r.proto = "UDP";
  r.size = 40;
  r.paris_id = 9;
  r.endtime = 1395277730;
  AtlasHopReply gateway{AtlasHopReply::Kind::kReply,
                        "198.18.16.1",
                        0.0494,
                        64,
                        68,
                        nullptr,
                        "",
                        AtlasCorrection{0, 0.0494, true, nullptr}};
  AtlasHopReply router{AtlasHopReply::Kind::kReply,
                       "198.19.0.2",
                       0.0771,
                       63,
                       68,
                       nullptr,
                       "",
                       AtlasCorrection{0.039, 0.038, false, nullptr}};
  AtlasHopReply unreachable{
      AtlasHopReply::Kind::kReply, "198.19.64.2", 0.5, 62, 68, "H", "", std::nullopt};
  r.hops = {{1, {gateway}}, {2, {router}}, {3, {AtlasHopReply{}}}, {4, {unreachable}}};
  const json j = atlas_traceroute_json(r);
  EXPECT_EQ(j["type"], "traceroute");
  EXPECT_EQ(j["msm_name"], "Traceroute");
  EXPECT_EQ(j["proto"], "UDP");
  EXPECT_EQ(j["paris_id"], 9);
  EXPECT_EQ(j["endtime"], 1395277730);
  EXPECT_EQ(j["size"], 40);
  EXPECT_EQ(
      j["result"][0],
      json::parse(
          R"({"hop":1,"result":[{"from":"198.18.16.1","rtt":0.049,"size":68,"ttl":64,"overhead":0.0494,"inside_host":true}]})"));
  EXPECT_EQ(j["result"][1]["result"][0]["rtt_corrected"], 0.039);
  EXPECT_EQ(j["result"][2], json::parse(R"({"hop":3,"result":[{"x":"*"}]})"));
  EXPECT_EQ(j["result"][3]["result"][0]["err"], "H");
  EXPECT_EQ(j["mtool"], json::parse(R"({"corrected_replies":1,"replies_beyond_host":2})"));
}

TEST(AtlasResults, ErrorCodesAsAtlas) {
  EXPECT_TRUE(atlas_error_code(AF_INET, ICMP_TIME_EXCEEDED, 0, false).is_null());
  EXPECT_EQ(atlas_error_code(AF_INET, ICMP_DEST_UNREACH, ICMP_NET_UNREACH, false), "N");
  EXPECT_EQ(atlas_error_code(AF_INET, ICMP_DEST_UNREACH, ICMP_HOST_UNREACH, false), "H");
  EXPECT_EQ(atlas_error_code(AF_INET, ICMP_DEST_UNREACH, ICMP_PROT_UNREACH, false), "P");
  EXPECT_EQ(atlas_error_code(AF_INET, ICMP_DEST_UNREACH, ICMP_PKT_FILTERED, false), "A");
  EXPECT_EQ(atlas_error_code(AF_INET, ICMP_DEST_UNREACH, ICMP_PORT_UNREACH, false), "p");
  EXPECT_TRUE(atlas_error_code(AF_INET, ICMP_DEST_UNREACH, ICMP_PORT_UNREACH, true).is_null());
  EXPECT_EQ(atlas_error_code(AF_INET, ICMP_DEST_UNREACH, 15, false), 15);
  EXPECT_EQ(atlas_error_code(AF_INET6, ICMP6_DST_UNREACH, ICMP6_DST_UNREACH_BEYONDSCOPE, false),
            "h");
  EXPECT_EQ(atlas_error_code(AF_INET6, ICMP6_DST_UNREACH, ICMP6_DST_UNREACH_ADMIN, false), "A");
  EXPECT_TRUE(atlas_error_code(AF_INET6, ICMP6_TIME_EXCEEDED, 0, false).is_null());
}

}  // namespace
}  // namespace mtool::report
