#pragma once
// What multipath discovery found, written out: text for people, a JSON graph for programs.
//
// Text: the trace's header, then one line per node, TTL by TTL, in the order the nodes were
// found: "%2u " opens a TTL (as in a plain trace), further nodes of the same TTL are indented
// under it, so a diamond reads as a column of routers. Each line: the node (name (address) or
// "*"), [virtual] when the host answered it itself, the median raw time of its replies and
// the median corrected one, how many replies that is, then "-> " and its next hops'
// addresses, or why there are none (the destination, an annotation, the gap limit). The last
// line counts the probes sent and the time taken. A node's many replies are summarised by
// their medians: with the MDA, a node of a diamond answers tens of probes.
//
// JSON (one object, on one line): header fields, "nodes" (id, ttl, addr or null, virtual,
// final, annotation, replies with each rtt and corrected time in ms, silent flows), "links"
// ({from, to} by node id), "probes_sent", "duration_ms", "confidence", "seed".
#include <cstdio>
#include <optional>
#include <string>

#include "net/address.h"
#include "report/mda_graph.h"
#include "report/trace_text.h"

namespace mtool::report {

void print_mda_text(std::FILE* out, net::AddressNamer& namer, const TraceHeader& header,
                    const MdaGraph& graph);

std::string mda_json(const TraceHeader& header, const MdaGraph& graph);

// A node's replies summarised: median raw RTT, median corrected RTT (of those corrected),
// whether the host answered them itself.
struct NodeTimes {
  std::optional<double> raw_ms;
  std::optional<double> corrected_ms;
  bool inside_host = false;
};
NodeTimes node_times(const MdaNode& node);

}  // namespace mtool::report
