#include "trace/mda_stopping_rule.h"

#include <cmath>

namespace mtool::trace {

MdaStoppingRule::MdaStoppingRule(double confidence_percent)
    : confidence_(confidence_percent), table_{1} {}  // nothing seen yet: one probe

double MdaStoppingRule::miss_probability(unsigned probes, unsigned branches) {
  // Inclusion-exclusion over the sets of next hops missed; terms in logs so C(b, j) never
  // overflows for wide nodes.
  double sum = 0;
  const double b = branches;
  for (unsigned j = 1; j < branches; ++j) {
    const double log_term = std::lgamma(b + 1) - std::lgamma(j + 1.0) - std::lgamma(b - j + 1) +
                            probes * std::log(1.0 - j / b);
    sum += (j % 2 == 1 ? 1.0 : -1.0) * std::exp(log_term);
  }
  return sum;
}

unsigned MdaStoppingRule::probes_needed(unsigned next_hops_found) const {
  const double allowed = 1.0 - confidence_ / 100.0;
  while (table_.size() <= next_hops_found) {
    const auto k = static_cast<unsigned>(table_.size());
    unsigned n = table_.back() + 1;  // n_k grows with k
    while (miss_probability(n, k + 1) > allowed) ++n;
    table_.push_back(n);
  }
  return table_[next_hops_found];
}

}  // namespace mtool::trace
