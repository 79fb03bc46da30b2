#pragma once
// The MDA's stopping rule (Veitch, Augustin, Friedman, Teixeira, "Failure control in multipath
// route tracing", INFOCOM 2009): having seen k next hops of a node, how many probes through it
// must have been answered before concluding there is no (k+1)-th, at a given confidence.
//
// n_k is the least n for which n probes, spread uniformly over k+1 next hops, miss at least
// one of them with probability at most 1 - confidence:
//   P(miss | n, k+1) = sum_{j=1..k+1} (-1)^(j+1) C(k+1, j) (1 - j/(k+1))^n   (inclusion-exclusion)
// For 95% this gives 6, 11, 16, 21, 27, 33, ... (the MDA paper's table, and scamper tracelb's),
// for 99% 8, 15, 21, 28, ...; any confidence in (0, 100) works, not only those two.
#include <vector>

namespace mtool::trace {

class MdaStoppingRule {
 public:
  // `confidence_percent` in (0, 100).
  explicit MdaStoppingRule(double confidence_percent);
  // n_k: answered probes needed to rule out a (k+1)-th next hop once k are known (k >= 1).
  [[nodiscard]] unsigned probes_needed(unsigned next_hops_found) const;
  [[nodiscard]] double confidence_percent() const { return confidence_; }

  // The probability that n uniform probes over `branches` next hops miss at least one.
  static double miss_probability(unsigned probes, unsigned branches);

 private:
  double confidence_;
  mutable std::vector<unsigned> table_;  // n_k by k, grown on demand
};

}  // namespace mtool::trace
