#include "trace/mda_explorer.h"

#include <algorithm>

namespace mtool::trace {
namespace {

// Node control gives up on a hop's remaining nodes after this many fresh flows per probe they
// needed: a node so rarely reached is left with the next hops found so far.
constexpr unsigned kControlBudgetPerProbe = 8;

}  // namespace

MdaExplorer::MdaExplorer(MdaConfig config)
    : config_(config), rule_(config.confidence), random_(config.seed), hop_(config.first_hop) {
  graph_.confidence = config.confidence;
  graph_.seed = config.seed;
}

std::vector<std::size_t> MdaExplorer::nodes_at(unsigned ttl) const {
  if (ttl + 1 == config_.first_hop) return {kRoot};
  std::vector<std::size_t> nodes;
  for (std::size_t i = 0; i < graph_.nodes.size(); ++i) {
    if (graph_.nodes[i].ttl == ttl) nodes.push_back(i);
  }
  return nodes;
}

// Whether the node's next hops are looked for: not the end of the trace, not silent for too
// long, still reachable by node control.
bool MdaExplorer::followed(std::size_t node) const {
  if (node == kRoot) return true;
  const NodeState& s = states_[node];
  return !graph_.nodes[node].final && s.gap < config_.gap_limit && !s.exhausted;
}

unsigned MdaExplorer::needed(std::size_t node) {
  if (node == kRoot) {
    const std::vector<std::size_t> first = nodes_at(config_.first_hop);
    return rule_.probes_needed(static_cast<unsigned>(first.size()));
  }
  const std::vector<std::size_t>& next = graph_.nodes[node].next_hops;
  if (next.size() == 1 && graph_.nodes[next.front()].final) return 0;  // it leads to the end
  return rule_.probes_needed(static_cast<unsigned>(next.size()));
}

std::optional<FlowId> MdaExplorer::fresh_flow() {
  if (used_flows_.size() >= config_.flow_count) return std::nullopt;
  std::uniform_int_distribution<unsigned> pick(0, config_.flow_count - 1);
  FlowId flow = 0;
  do {
    flow = static_cast<FlowId>(pick(random_));
  } while (used_flows_.contains(flow));
  used_flows_.insert(flow);
  return flow;
}

MdaProbe MdaExplorer::send(unsigned ttl, FlowId flow, Purpose purpose, std::size_t node) {
  const MdaProbe probe{ttl, flow};
  pending_.emplace(probe, Pending{purpose, node});
  ++in_flight_;
  return probe;
}

std::optional<MdaProbe> MdaExplorer::next_probe() {
  while (!finished_) {
    if (!link_probes_.empty()) {
      const auto [flow, late] = link_probes_.back();
      link_probes_.pop_back();
      return send(hop_ - 2, flow, Purpose::kLink, late);
    }
    const std::vector<std::size_t> previous = nodes_at(hop_ - 1);
    const bool single = previous.size() == 1;
    unsigned missing_flows = 0;  // flows node control should still bring
    unsigned needed_here = 0;
    for (const std::size_t v : previous) {
      if (!followed(v)) continue;
      const unsigned need = needed(v);
      needed_here += need;
      NodeState& s = state(v);
      if (s.settled + s.in_flight >= need) continue;
      if (s.next_flow == s.flows.size()) {
        if (!single) {
          missing_flows += need - s.settled - s.in_flight;
          continue;
        }
        // The only node at this TTL: every flow crosses it.
        const std::optional<FlowId> flow = fresh_flow();
        if (!flow) {
          s.exhausted = true;
          continue;
        }
        s.flows.push_back(*flow);
      }
      ++s.in_flight;
      return send(hop_, s.flows[s.next_flow++], Purpose::kNextHop, v);
    }
    if (missing_flows > control_in_flight_) {
      if (control_sent_ < kControlBudgetPerProbe * needed_here) {
        if (const std::optional<FlowId> flow = fresh_flow()) {
          ++control_in_flight_;
          ++control_sent_;
          return send(hop_ - 1, *flow, Purpose::kControl, kRoot);
        }
      }
      if (control_in_flight_ == 0) {
        // No more flows to be had for them: the nodes still short (and idle) keep what they
        // found.
        bool gave_up = false;
        for (const std::size_t v : previous) {
          NodeState& s = state(v);
          if (followed(v) && s.in_flight == 0 && s.next_flow == s.flows.size() &&
              s.settled < needed(v)) {
            s.exhausted = true;
            gave_up = true;
          }
        }
        if (gave_up) continue;
      }
    }
    if (in_flight_ > 0) return std::nullopt;
    if (!next_hop_complete()) finished_ = true;
  }
  return std::nullopt;
}

// TTL hop_ is done: move on if any of its nodes is to be followed.
bool MdaExplorer::next_hop_complete() {
  if (hop_ >= config_.max_hops) return false;
  const std::vector<std::size_t> reached = nodes_at(hop_);
  if (std::none_of(reached.begin(), reached.end(), [this](std::size_t v) { return followed(v); })) {
    for (const std::size_t v : reached) {
      if (!graph_.nodes[v].final && states_[v].gap >= config_.gap_limit)
        graph_.nodes[v].gap_limited = true;
    }
    return false;
  }
  for (const std::size_t v : reached) {
    if (!graph_.nodes[v].final && states_[v].gap >= config_.gap_limit)
      graph_.nodes[v].gap_limited = true;
  }
  ++hop_;
  control_sent_ = 0;
  return true;
}

std::size_t MdaExplorer::node_for(unsigned ttl, const net::IpAddress& address) {
  const auto key = std::make_pair(ttl, address.empty() ? std::string() : address.to_string());
  if (const auto it = by_address_.find(key); it != by_address_.end()) return it->second;
  report::MdaNode node;
  node.ttl = ttl;
  node.address = address;
  graph_.nodes.push_back(std::move(node));
  states_.emplace_back();
  by_address_.emplace(key, graph_.nodes.size() - 1);
  return graph_.nodes.size() - 1;
}

void MdaExplorer::link(std::size_t from, std::size_t to) {
  if (from == kRoot) return;
  std::vector<std::size_t>& next = graph_.nodes[from].next_hops;
  if (std::find(next.begin(), next.end(), to) == next.end()) next.push_back(to);
  // A silent node continues the silence of its quietest predecessor.
  if (graph_.nodes[to].address.empty()) {
    const unsigned gap = states_[from].gap + 1;
    NodeState& s = states_[to];
    s.gap = s.gap == 0 ? gap : std::min(s.gap, gap);
  }
}

// A node of TTL hop_ - 1 found by node control after its TTL was enumerated: its link from
// TTL hop_ - 2 is the single node there, or is found by probing its flow there.
void MdaExplorer::found_late(std::size_t node, FlowId flow) {
  const std::vector<std::size_t> before = nodes_at(hop_ - 2);
  if (before.size() == 1) {
    link(before.front(), node);
  } else {
    link_probes_.emplace_back(flow, node);
  }
}

void MdaExplorer::answered(const MdaProbe& probe, const report::HopProbe& reply) {
  settle(probe, &reply);
}

void MdaExplorer::unanswered(const MdaProbe& probe) { settle(probe, nullptr); }

void MdaExplorer::settle(const MdaProbe& probe, const report::HopProbe* reply) {
  const auto it = pending_.find(probe);
  if (it == pending_.end()) return;
  const Pending pending = it->second;
  pending_.erase(it);
  --in_flight_;
  const net::IpAddress from = reply != nullptr ? reply->from : net::IpAddress{};
  const bool known = by_address_.contains(
      std::make_pair(probe.ttl, from.empty() ? std::string() : from.to_string()));
  if (pending.purpose == Purpose::kControl) {
    --control_in_flight_;
    // A flow nobody answered is of no use unless its silence is already a node.
    if (reply == nullptr && !known) return;
  }
  if (pending.purpose == Purpose::kLink && reply == nullptr) return;  // the link stays unknown
  const std::size_t node = node_for(probe.ttl, from);
  report::MdaNode& n = graph_.nodes[node];
  if (reply != nullptr) {
    n.replies.push_back(*reply);
    if (reply->final && !n.final) {
      n.final = true;
      n.annotation = reply->annotation;
    }
  } else {
    ++n.silent_flows;
  }
  state(node).flows.push_back(probe.flow);
  switch (pending.purpose) {
    case Purpose::kNextHop: {
      NodeState& s = state(pending.node);
      --s.in_flight;
      ++s.settled;
      link(pending.node, node);
      if (graph_.nodes[node].address.empty() && pending.node == kRoot) states_[node].gap = 1;
      break;
    }
    case Purpose::kControl:
      if (!known) found_late(node, probe.flow);
      break;
    case Purpose::kLink:
      link(node, pending.node);
      break;
  }
}

}  // namespace mtool::trace
