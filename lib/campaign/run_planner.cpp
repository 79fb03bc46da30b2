#include "campaign/run_planner.h"

#include <algorithm>

#include "campaign/run_schedule.h"

namespace mtool::campaign {

RunPlanner::RunPlanner(const std::vector<MeasurementDefinition>& definitions, const Clock& clock,
                       std::uint32_t seed)
    : definitions_(definitions), clock_(clock), random_(seed) {}

void RunPlanner::plan_all() {
  const std::int64_t now_s = unix_seconds(clock_.wall_now());
  bool bounded = true;
  for (std::size_t i = 0; i < definitions_.size(); ++i) {
    const Schedule& s = definitions_[i].schedule;
    if (const auto runs = run_count(s, now_s)) {
      total_ += *runs;
    } else {
      bounded = false;
    }
    if (const auto first = first_run_at(s, now_s)) plan(i, *first, 1);
  }
  if (!bounded) total_ = 0;
}

RunPlanner::Planned RunPlanner::take_next() {
  const Planned p = planned_.top();
  planned_.pop();
  if (const auto after = next_run_at(definitions_[p.definition].schedule, p.wall_start_s)) {
    plan(p.definition, *after, p.ordinal + 1);
  }
  return p;
}

void RunPlanner::plan(std::size_t definition, std::int64_t nominal_wall_s, std::uint64_t ordinal) {
  const MeasurementDefinition& d = definitions_[definition];
  // Planned on the wall clock, waited for on the monotonic one: the offset is what crosses.
  Nanos offset = wall_at_unix_seconds(nominal_wall_s) - clock_.wall_now();
  if (d.schedule.spread_s > 0) {
    std::uniform_int_distribution<std::int64_t> spread(0, d.schedule.spread_s * kNsPerSec);
    offset += Nanos{spread(random_)};
  }
  planned_.push(Planned{clock_.mono_now() + std::max(Nanos::zero(), offset), nominal_wall_s,
                        definition, ordinal});
}

}  // namespace mtool::campaign
