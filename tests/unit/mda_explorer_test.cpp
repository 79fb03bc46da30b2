// Multipath discovery's decisions (MdaExplorer) against simulated networks: the stopping
// rule's table, the probes a linear path costs, diamonds found whole (links included), node
// control on branches that do not join, silent hops and the gap limit, and the failure rate
// over many seeds against the confidence promised.
#include "trace/mda_explorer.h"

#include <gtest/gtest.h>

#include <set>
#include <string>
#include <vector>

#include "mda_network.h"
#include "trace/mda_stopping_rule.h"

namespace mtool::trace {
namespace {

using testing::SimulatedNetwork;

// The MDA paper's table (95%), and 99% (both as scamper's tracelb has them).
TEST(MdaStoppingRule, MatchesThePublishedTables) {
  const MdaStoppingRule rule95(95);
  const std::vector<unsigned> n95{1, 6, 11, 16, 21, 27, 33, 38, 44, 51, 57};
  for (unsigned k = 0; k < n95.size(); ++k) EXPECT_EQ(rule95.probes_needed(k), n95[k]) << k;
  const MdaStoppingRule rule99(99);
  const std::vector<unsigned> n99{1, 8, 15, 21, 28, 36, 43, 51, 58, 66};
  for (unsigned k = 0; k < n99.size(); ++k) EXPECT_EQ(rule99.probes_needed(k), n99[k]) << k;
  // Any confidence: 50% needs fewer.
  EXPECT_LT(MdaStoppingRule(50).probes_needed(1), 6U);
}

TEST(MdaStoppingRule, MissProbability) {
  EXPECT_DOUBLE_EQ(MdaStoppingRule::miss_probability(6, 2), 2.0 / 64);
  EXPECT_NEAR(MdaStoppingRule::miss_probability(11, 3),
              3 * std::pow(2.0 / 3, 11) - 3 * std::pow(1.0 / 3, 11), 1e-12);
  EXPECT_DOUBLE_EQ(MdaStoppingRule::miss_probability(5, 1), 0.0);
}

struct Found {
  std::map<unsigned, std::set<std::string>> routers;
  std::set<std::pair<std::string, std::string>> links;
  std::size_t probes = 0;
  report::MdaGraph graph;
};

std::string name(const net::IpAddress& a) { return a.empty() ? "*" : a.to_string(); }

// Runs the explorer to the end, `parallel` probes at a time, answering from `network`.
Found explore(const SimulatedNetwork& network, MdaConfig config, unsigned parallel = 1) {
  MdaExplorer explorer(config);
  Found found;
  while (!explorer.finished()) {
    std::vector<MdaProbe> batch;
    while (batch.size() < parallel) {
      const auto probe = explorer.next_probe();
      if (!probe) break;
      batch.push_back(*probe);
    }
    if (batch.empty()) {
      // Nothing in flight here: it must have found the end.
      EXPECT_TRUE(explorer.finished()) << "the explorer neither probes nor finishes";
      break;
    }
    found.probes += batch.size();
    for (const MdaProbe& p : batch) {
      const auto outcome = network.reach(p.flow, p.ttl);
      if (!outcome || !outcome->answers) {
        explorer.unanswered(p);
        continue;
      }
      report::HopProbe reply;
      reply.sent = reply.done = true;
      reply.from = *net::IpAddress::parse(outcome->address);
      reply.rx = WallNs{} + std::chrono::microseconds(100);
      reply.final = outcome->destination;
      explorer.answered(p, reply);
    }
  }
  found.graph = explorer.graph();
  for (const auto& node : found.graph.nodes) {
    found.routers[node.ttl].insert(name(node.address));
    for (const std::size_t next : node.next_hops)
      found.links.emplace(name(node.address), name(found.graph.nodes[next].address));
  }
  return found;
}

// The multipath testbed's shape: gateway, target, a two-way hop, a join, a diamond of two then
// three (every router of one stage linked to every router of the next), the destination.
SimulatedNetwork testbed_shape() {
  SimulatedNetwork n;
  n.stage(1, {"198.18.0.1"});
  n.stage(2, {"198.19.0.2"});
  n.stage(3, {"198.19.1.31", "198.19.1.32"});
  n.stage(4, {"198.19.1.41"});
  n.stage(5, {"198.19.1.51", "198.19.1.52"});
  n.stage(6, {"198.19.1.61", "198.19.1.62", "198.19.1.63"});
  n.stage(7, {"198.19.1.254"}, true);
  return n;
}

TEST(MdaExplorer, LinearPathCostsSixProbesPerRouterAndOneForTheDestination) {
  SimulatedNetwork n;
  n.stage(1, {"198.18.0.1"});
  n.stage(2, {"198.18.0.2"});
  n.stage(3, {"198.18.0.3"});
  n.stage(4, {"198.18.0.4"}, true);
  const Found f = explore(n, MdaConfig{});
  EXPECT_EQ(f.routers, n.routers_by_ttl());
  EXPECT_EQ(f.links, n.links());
  EXPECT_EQ(f.probes, 3U * 6 + 1);
  EXPECT_TRUE(f.graph.nodes.back().final);
}

TEST(MdaExplorer, FindsEveryNodeAndLinkOfTheTestbedDiamonds) {
  const SimulatedNetwork n = testbed_shape();
  for (const unsigned parallel : {1U, 16U}) {
    MdaConfig config;
    config.seed = 1;
    const Found f = explore(n, config, parallel);
    EXPECT_EQ(f.routers, n.routers_by_ttl()) << parallel;
    EXPECT_EQ(f.links, n.links()) << parallel;
  }
}

TEST(MdaExplorer, TheSameSeedProbesTheSameFlows) {
  const SimulatedNetwork n = testbed_shape();
  MdaConfig config;
  config.seed = 42;
  const Found a = explore(n, config, 4);
  const Found b = explore(n, config, 4);
  EXPECT_EQ(a.probes, b.probes);
  config.seed = 43;
  const Found c = explore(n, config, 4);
  EXPECT_EQ(a.routers, c.routers);
}

// Node control: two branches that never join until the end. Each router's next hop is found
// on flows known to cross it, so no link is drawn across the branches.
TEST(MdaExplorer, NodeControlKeepsBranchesApart) {
  SimulatedNetwork n;
  n.add(1, "198.18.0.1", {});
  n.add(2, "198.18.2.1", {"198.18.0.1"});
  n.add(2, "198.18.2.2", {"198.18.0.1"});
  n.add(3, "198.18.3.1", {"198.18.2.1"});
  n.add(3, "198.18.3.2", {"198.18.2.2"});
  n.add(4, "198.18.4.1", {"198.18.3.1"});
  n.add(4, "198.18.4.2", {"198.18.3.2"});
  n.add(5, "198.18.5.1", {"198.18.4.1", "198.18.4.2"}, false, true);
  MdaConfig config;
  config.seed = 7;
  const Found f = explore(n, config, 8);
  EXPECT_EQ(f.routers, n.routers_by_ttl());
  EXPECT_EQ(f.links, n.links());
}

// A silent router is a "*" node, followed on; three silent hops in a row end the branch.
TEST(MdaExplorer, SilentHopsAndTheGapLimit) {
  SimulatedNetwork n;
  n.add(1, "198.18.0.1", {});
  n.add(2, "198.18.0.2", {"198.18.0.1"}, true);
  n.add(3, "198.18.0.3", {"198.18.0.2"});
  n.add(4, "198.18.0.4", {"198.18.0.3"}, true);
  n.add(5, "198.18.0.5", {"198.18.0.4"}, true);
  n.add(6, "198.18.0.6", {"198.18.0.5"}, true);
  n.add(7, "198.18.0.7", {"198.18.0.6"}, false, true);
  const Found f = explore(n, MdaConfig{});
  const std::map<unsigned, std::set<std::string>> expected{
      {1, {"198.18.0.1"}}, {2, {"*"}}, {3, {"198.18.0.3"}}, {4, {"*"}}, {5, {"*"}}, {6, {"*"}}};
  EXPECT_EQ(f.routers, expected);
  EXPECT_TRUE(f.links.contains({"198.18.0.1", "*"}));
  EXPECT_TRUE(f.links.contains({"*", "198.18.0.3"}));
  EXPECT_TRUE(f.graph.nodes.back().gap_limited);
}

TEST(MdaExplorer, StopsAtMaxHops) {
  SimulatedNetwork n;
  for (unsigned ttl = 1; ttl <= 6; ++ttl) n.stage(ttl, {"198.18.0." + std::to_string(ttl)});
  MdaConfig config;
  config.max_hops = 3;
  const Found f = explore(n, config);
  EXPECT_EQ(f.routers.size(), 3U);
  EXPECT_EQ(f.probes, 3U * 6);
}

// Over many seeds, a node's next hops are all found at least as often as the confidence
// promises (per node: here the target's two, and each router of the two-way stage's three).
TEST(MdaExplorer, FailureRateOverSeedsWithinTheConfidence) {
  const SimulatedNetwork n = testbed_shape();
  const auto truth = n.links();
  constexpr unsigned kSeeds = 400;
  unsigned failed_nodes = 0;
  unsigned nodes = 0;
  for (unsigned seed = 0; seed < kSeeds; ++seed) {
    MdaConfig config;
    config.seed = seed;
    const Found f = explore(n, config, 16);
    // Per branching router: were all its next hops found?
    std::map<std::string, std::set<std::string>> next_true;
    std::map<std::string, std::set<std::string>> next_found;
    for (const auto& [a, b] : truth) next_true[a].insert(b);
    for (const auto& [a, b] : f.links) next_found[a].insert(b);
    for (const auto& [router, next] : next_true) {
      if (next.size() < 2) continue;
      ++nodes;
      if (next_found[router] != next) ++failed_nodes;
    }
  }
  const double rate = static_cast<double>(failed_nodes) / nodes;
  std::printf("per-node failure rate over %u seeds: %.4f (promised at most %.2f)\n", kSeeds, rate,
              0.05);
  EXPECT_LE(rate, 0.05);
}

}  // namespace
}  // namespace mtool::trace
