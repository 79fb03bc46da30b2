#pragma once
// The traceroute engine's output port: each probe, in order, once it is settled. traceroute's
// text (trace_text) and mtool run's Atlas hops (campaign/trace_run) implement it.
#include <cstddef>
#include <vector>

#include "report/hop_probe.h"

namespace mtool::report {

class ProbePrinter {
 public:
  virtual ~ProbePrinter() = default;
  // `probes` is the whole table; probe `index` is the one to print (ttl = index / per_hop + 1).
  virtual void print_probe(const std::vector<HopProbe>& probes, std::size_t index) = 0;
};

}  // namespace mtool::report
