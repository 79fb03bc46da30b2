#include "report/mda_output.h"

#include <algorithm>
#include <nlohmann/json.hpp>
#include <numeric>

#include "correlate/correction.h"

namespace mtool::report {
namespace {

std::optional<double> median_ms(std::vector<std::int64_t> ns) {
  if (ns.empty()) return std::nullopt;
  std::sort(ns.begin(), ns.end());
  const std::size_t middle = ns.size() / 2;
  const double value =
      ns.size() % 2 == 1
          ? static_cast<double>(ns[middle])
          : (static_cast<double>(ns[middle - 1]) + static_cast<double>(ns[middle])) / 2;
  return value / 1e6;
}

std::optional<std::int64_t> corrected_ns(const HopProbe& probe) {
  if (!probe.rx || !probe.overhead || probe.answered_inside_host()) return std::nullopt;
  const auto corrected = correlate::correct_rtt(probe.rtt().count(), *probe.overhead);
  if (!corrected) return std::nullopt;
  return corrected->corrected_ns;
}

// Nodes by TTL, each TTL in discovery order.
std::vector<std::size_t> display_order(const MdaGraph& graph) {
  std::vector<std::size_t> order(graph.nodes.size());
  std::iota(order.begin(), order.end(), 0);
  std::stable_sort(order.begin(), order.end(), [&graph](std::size_t a, std::size_t b) {
    return graph.nodes[a].ttl < graph.nodes[b].ttl;
  });
  return order;
}

std::string address_or_star(const net::IpAddress& address) {
  return address.empty() ? "*" : address.to_string();
}

}  // namespace

NodeTimes node_times(const MdaNode& node) {
  NodeTimes times;
  std::vector<std::int64_t> raw;
  std::vector<std::int64_t> corrected;
  for (const HopProbe& probe : node.replies) {
    if (!probe.rx) continue;
    raw.push_back(probe.rtt().count());
    if (probe.answered_inside_host()) times.inside_host = true;
    if (const auto c = corrected_ns(probe)) corrected.push_back(*c);
  }
  times.raw_ms = median_ms(raw);
  times.corrected_ms = median_ms(corrected);
  return times;
}

void print_mda_text(std::FILE* out, net::AddressNamer& namer, const TraceHeader& header,
                    const MdaGraph& graph) {
  std::fprintf(out,
               "traceroute to %s (%s), %u hops max, %zu byte packets, multipath discovery at "
               "%g%% confidence, seed %llu\n",
               header.host.c_str(), header.address_text.c_str(), header.max_hops,
               header.packet_length, graph.confidence, static_cast<unsigned long long>(graph.seed));
  unsigned ttl = 0;
  for (const std::size_t i : display_order(graph)) {
    const MdaNode& node = graph.nodes[i];
    if (node.ttl != ttl) {
      ttl = node.ttl;
      std::fprintf(out, "%2u ", ttl);
    } else {
      std::fputs("   ", out);
    }
    if (node.address.empty()) {
      std::fprintf(out, " *  %zu silent flow%s", node.silent_flows,
                   node.silent_flows == 1 ? "" : "s");
    } else {
      std::fprintf(out, " %s", namer.describe(node.address).c_str());
      const NodeTimes times = node_times(node);
      if (times.inside_host) std::fputs(" [virtual]", out);
      if (times.raw_ms) std::fprintf(out, "  %.3f ms", *times.raw_ms);
      if (times.inside_host) {
        std::fputs(" (overhead)", out);
      } else if (times.corrected_ms) {
        std::fprintf(out, " (corrected %.3f)", *times.corrected_ms);
      }
      if (node.replies.size() == 1) {
        std::fputs("  1 reply", out);
      } else {
        std::fprintf(out, "  median of %zu", node.replies.size());
      }
    }
    if (!node.next_hops.empty()) {
      std::fputs("  ->", out);
      for (const std::size_t next : node.next_hops)
        std::fprintf(out, " %s", address_or_star(graph.nodes[next].address).c_str());
    } else if (node.final) {
      std::fprintf(out, "  %s",
                   node.annotation.empty() ? "(destination)" : node.annotation.c_str());
    } else if (node.gap_limited) {
      std::fputs("  (gap limit)", out);
    }
    std::fputc('\n', out);
  }
  std::fprintf(out, "%zu probes sent in %.3f s\n", graph.probes_sent,
               static_cast<double>(graph.duration.count()) / 1e9);
  std::fflush(out);
}

std::string mda_json(const TraceHeader& header, const MdaGraph& graph) {
  nlohmann::ordered_json nodes = nlohmann::ordered_json::array();
  nlohmann::ordered_json links = nlohmann::ordered_json::array();
  for (std::size_t i = 0; i < graph.nodes.size(); ++i) {
    const MdaNode& node = graph.nodes[i];
    nlohmann::ordered_json replies = nlohmann::ordered_json::array();
    bool inside_host = false;
    for (const HopProbe& probe : node.replies) {
      nlohmann::ordered_json reply{{"rtt", static_cast<double>(probe.rtt().count()) / 1e6}};
      if (const auto c = corrected_ns(probe)) reply["corrected"] = static_cast<double>(*c) / 1e6;
      if (probe.answered_inside_host()) inside_host = true;
      replies.push_back(std::move(reply));
    }
    nodes.push_back(
        {{"id", i},
         {"ttl", node.ttl},
         {"addr", node.address.empty() ? nlohmann::ordered_json()
                                       : nlohmann::ordered_json(node.address.to_string())},
         {"virtual", inside_host},
         {"final", node.final},
         {"annotation", node.annotation},
         {"replies", std::move(replies)},
         {"silent_flows", node.silent_flows}});
    for (const std::size_t next : node.next_hops) links.push_back({{"from", i}, {"to", next}});
  }
  const nlohmann::ordered_json result{
      {"type", "mda"},
      {"dst_name", header.host},
      {"dst_addr", header.address_text},
      {"max_hops", header.max_hops},
      {"size", header.packet_length},
      {"confidence", graph.confidence},
      {"seed", graph.seed},
      {"probes_sent", graph.probes_sent},
      {"duration_ms", static_cast<double>(graph.duration.count()) / 1e6},
      {"nodes", std::move(nodes)},
      {"links", std::move(links)}};
  return result.dump();
}

}  // namespace mtool::report
