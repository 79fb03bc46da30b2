#pragma once
// What multipath discovery (trace/mda_explorer) finds, as its writers read it: the nodes at
// each TTL (an address, or "*" for probes nobody answered), the links between consecutive
// TTLs, each node's answered probes (times, correlator overheads), and what it cost. Plain
// data, so output depends on no engine.
#include <cstddef>
#include <cstdint>
#include <vector>

#include "net/address.h"
#include "report/hop_probe.h"
#include "util/clock.h"

namespace mtool::report {

struct MdaNode {
  unsigned ttl = 0;
  net::IpAddress address;              // empty: "*", the probes that got no answer
  bool final = false;                  // the destination (or a reply that ends the trace: !H...)
  std::string annotation;              // Butskoy's "!H", "!N"... of a final reply
  std::vector<HopProbe> replies;       // the answered probes, in arrival order
  std::size_t silent_flows = 0;        // "*": flows whose probes (and retries) got no answer
  std::vector<std::size_t> next_hops;  // indexes of nodes at ttl + 1, in discovery order
  // Why no next hop was looked for beyond it, if none was: the trace's end, or too many
  // silent hops in a row (the gap limit), or the maximum TTL.
  bool gap_limited = false;
};

struct MdaGraph {
  std::vector<MdaNode> nodes;   // in discovery order (writers order them by TTL)
  std::size_t probes_sent = 0;  // every probe, retries and node control included
  double confidence = 95;       // per node, in percent
  std::uint64_t seed = 0;       // the flow ids' generator
  Nanos duration{};
};

}  // namespace mtool::report
