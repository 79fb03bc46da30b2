#pragma once
// Multipath discovery (the MDA: Augustin, Friedman, Teixeira; stopping rule from Veitch et al.,
// INFOCOM 2009; scamper's tracelb is the reference implementation) as pure decisions: which
// (TTL, flow) to probe next, and what each answer means. No sockets, no clock: the scheduler
// (mda_scheduler) sends, times out and retries; unit tests drive it against a simulated graph.
//
// Hop by hop: the next hops of every node at TTL h-1 are enumerated by probing TTL h on flows
// known to cross that node, until the stopping rule says enough answers came for the next
// hops seen so far. Flows known to cross a node are those an earlier probe found there. When
// TTL h-1 has a single node, every flow crosses it, so fresh flows do; otherwise flows are
// brought to a node by probing TTL h-1 with fresh flows and keeping those that land on it
// (node control). A node found late that way has its own link found by probing its flow one
// TTL earlier. Probes nobody answers make a "*" node, whose flows are followed on; a branch
// silent for `gap_limit` hops in a row is not followed further. As in tracelb, a node whose
// only next hop so far is the destination (or another reply that ends the trace) is taken to
// lead only there.
#include <cstdint>
#include <map>
#include <optional>
#include <random>
#include <string>
#include <unordered_set>
#include <utility>
#include <vector>

#include "report/hop_probe.h"
#include "report/mda_graph.h"
#include "trace/mda_stopping_rule.h"
#include "trace/probe_method.h"

namespace mtool::trace {

struct MdaConfig {
  unsigned first_hop = 1;
  unsigned max_hops = 30;
  double confidence = 95;       // percent, per node
  std::uint64_t seed = 0;       // picks the flow ids, in order
  unsigned flow_count = 65536;  // the method holds flows 0 .. flow_count - 1
  unsigned gap_limit = 3;       // silent hops in a row before a branch is given up
};

struct MdaProbe {
  unsigned ttl = 0;
  FlowId flow = 0;
  auto operator<=>(const MdaProbe&) const = default;
};

class MdaExplorer {
 public:
  explicit MdaExplorer(MdaConfig config);

  // The next probe to send, or nullopt: nothing until probes in flight are settled, or
  // finished().
  std::optional<MdaProbe> next_probe();
  // A probe next_probe() gave was answered (`reply`: from, final, annotation, times filled).
  void answered(const MdaProbe& probe, const report::HopProbe& reply);
  // A probe next_probe() gave got no answer, retries included.
  void unanswered(const MdaProbe& probe);

  [[nodiscard]] bool finished() const { return finished_ && in_flight_ == 0; }
  [[nodiscard]] report::MdaGraph& graph() { return graph_; }

 private:
  static constexpr std::size_t kRoot = static_cast<std::size_t>(-1);  // the source itself
  struct NodeState {
    std::vector<FlowId> flows;  // flows known to cross the node
    std::size_t next_flow = 0;  // flows before it were probed one TTL further
    unsigned settled = 0;       // probes one TTL further on its flows, answered or given up
    unsigned in_flight = 0;
    unsigned gap = 0;        // silent hops in a row ending here (0: it answered)
    bool exhausted = false;  // node control could bring no more flows to it
  };
  enum class Purpose { kNextHop, kControl, kLink };
  struct Pending {
    Purpose purpose;
    std::size_t node;  // kNextHop: the node whose next hops are sought; kLink: the late node
  };

  NodeState& state(std::size_t node) { return node == kRoot ? root_ : states_[node]; }
  [[nodiscard]] std::vector<std::size_t> nodes_at(unsigned ttl) const;
  [[nodiscard]] bool followed(std::size_t node) const;
  [[nodiscard]] unsigned needed(std::size_t node);
  std::optional<FlowId> fresh_flow();
  std::size_t node_for(unsigned ttl, const net::IpAddress& address);
  void link(std::size_t from, std::size_t to);
  void settle(const MdaProbe& probe, const report::HopProbe* reply);
  void found_late(std::size_t node, FlowId flow);
  bool next_hop_complete();
  MdaProbe send(unsigned ttl, FlowId flow, Purpose purpose, std::size_t node);

  MdaConfig config_;
  MdaStoppingRule rule_;
  std::mt19937_64 random_;
  std::unordered_set<FlowId> used_flows_;
  report::MdaGraph graph_;
  std::vector<NodeState> states_;  // by node index
  NodeState root_;
  std::map<std::pair<unsigned, std::string>, std::size_t> by_address_;  // (ttl, address or "")
  std::map<MdaProbe, Pending> pending_;
  std::vector<std::pair<FlowId, std::size_t>> link_probes_;  // (flow, late node) to send
  unsigned hop_;  // the TTL whose nodes are being enumerated
  unsigned control_in_flight_ = 0;
  unsigned control_sent_ = 0;  // node control probes at this hop
  unsigned in_flight_ = 0;
  bool finished_ = false;
};

}  // namespace mtool::trace
