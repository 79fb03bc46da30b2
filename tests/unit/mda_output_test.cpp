// Multipath discovery's text and JSON: a TTL per block with its nodes under it, medians raw and
// corrected, [virtual] for the host's own hop, next hops after "->", "*" for silence, the
// destination, and the graph's nodes and links in JSON.
#include "report/mda_output.h"

#include <gtest/gtest.h>

#include <cstdio>
#include <nlohmann/json.hpp>
#include <string>

namespace mtool::report {
namespace {

HopProbe reply(const std::string& from, std::int64_t rtt_us,
               std::optional<std::int64_t> egress_us = std::nullopt, bool inside = false) {
  HopProbe p;
  p.sent = p.done = true;
  p.from = *net::IpAddress::parse(from);
  p.user_tx = WallNs{} + std::chrono::seconds{1};
  p.rx = p.user_tx + std::chrono::microseconds{rtt_us};
  if (egress_us) {
    correlate::ProbeOverhead o;
    o.egress_ns = *egress_us * 1000;
    o.answered_inside_host = inside;
    p.overhead = o;
  }
  return p;
}

MdaGraph sample() {
  MdaGraph g;
  g.confidence = 95;
  g.seed = 9;
  g.probes_sent = 20;
  g.duration = std::chrono::milliseconds{250};
  auto node = [&g](unsigned ttl, const std::string& address) -> MdaNode& {
    MdaNode n;
    n.ttl = ttl;
    if (!address.empty()) n.address = *net::IpAddress::parse(address);
    g.nodes.push_back(n);
    return g.nodes.back();
  };
  MdaNode& gw = node(1, "198.18.0.1");
  gw.replies = {reply("198.18.0.1", 50, 50, true), reply("198.18.0.1", 70, 70, true)};
  gw.next_hops = {1, 2};
  node(2, "198.19.0.11").replies = {reply("198.19.0.11", 100, 30), reply("198.19.0.11", 300, 30),
                                    reply("198.19.0.11", 200, 30)};
  g.nodes[1].next_hops = {3};
  MdaNode& silent = node(2, "");
  silent.silent_flows = 2;
  silent.next_hops = {3};
  MdaNode& end = node(3, "198.19.0.254");
  end.replies = {reply("198.19.0.254", 400)};
  end.final = true;
  return g;
}

std::string text_of(const MdaGraph& g) {
  char* buffer = nullptr;
  std::size_t size = 0;
  std::FILE* out = open_memstream(&buffer, &size);
  net::AddressNamer namer(true, true);
  print_mda_text(out, namer, {"end", "198.19.0.254", 30, 60}, g);
  std::fclose(out);
  std::string text(buffer, size);
  std::free(buffer);
  return text;
}

TEST(MdaOutput, TextShowsEachTtlsNodesAndTheirNextHops) {
  EXPECT_EQ(text_of(sample()),
            "traceroute to end (198.19.0.254), 30 hops max, 60 byte packets, multipath discovery "
            "at 95% confidence, seed 9\n"
            " 1  198.18.0.1 [virtual]  0.060 ms (overhead)  median of 2  -> "
            "198.19.0.11 *\n"
            " 2  198.19.0.11  0.200 ms (corrected 0.170)  median of 3  -> "
            "198.19.0.254\n"
            "    *  2 silent flows  -> 198.19.0.254\n"
            " 3  198.19.0.254  0.400 ms  1 reply  (destination)\n"
            "20 probes sent in 0.250 s\n");
}

TEST(MdaOutput, JsonIsTheGraph) {
  const auto j = nlohmann::json::parse(mda_json({"end", "198.19.0.254", 30, 60}, sample()));
  EXPECT_EQ(j["type"], "mda");
  EXPECT_EQ(j["dst_addr"], "198.19.0.254");
  EXPECT_EQ(j["probes_sent"], 20);
  EXPECT_EQ(j["seed"], 9);
  EXPECT_EQ(j["confidence"], 95.0);
  ASSERT_EQ(j["nodes"].size(), 4U);
  EXPECT_EQ(j["nodes"][0]["virtual"], true);
  EXPECT_TRUE(j["nodes"][2]["addr"].is_null());
  EXPECT_EQ(j["nodes"][2]["silent_flows"], 2);
  EXPECT_EQ(j["nodes"][3]["final"], true);
  EXPECT_DOUBLE_EQ(j["nodes"][1]["replies"][0]["rtt"].get<double>(), 0.1);
  EXPECT_DOUBLE_EQ(j["nodes"][1]["replies"][0]["corrected"].get<double>(), 0.07);
  const nlohmann::json links = j["links"];
  ASSERT_EQ(links.size(), 4U);
  EXPECT_EQ(links[0], (nlohmann::json{{"from", 0}, {"to", 1}}));
  EXPECT_EQ(links[3], (nlohmann::json{{"from", 2}, {"to", 3}}));
}

}  // namespace
}  // namespace mtool::report
