#pragma once
// When each definition's runs start, on the monotonic clock. Every definition's first run is
// planned at the start and each next one when its predecessor is taken to start, so a periodic
// definition waits as a few words in a heap, never as a list of its runs. A run is planned at
// its nominal time on the wall clock (run_schedule.h), plus a random part of `spread`.
#include <cstddef>
#include <cstdint>
#include <functional>
#include <queue>
#include <random>
#include <vector>

#include "campaign/measurement_list.h"
#include "util/clock.h"

namespace mtool::campaign {

class RunPlanner {
 public:
  struct Planned {
    MonoNs at{};
    std::int64_t wall_start_s = 0;  // the nominal start on the wall clock
    std::size_t definition = 0;
    std::uint64_t ordinal = 1;  // the definition's first run is 1, its next 2, ...
    // Earliest first; at the same time, in list order.
    bool operator>(const Planned& other) const {
      return at != other.at ? at > other.at : definition > other.definition;
    }
  };

  // `definitions` outlives the planner; `seed` draws the spreads.
  RunPlanner(const std::vector<MeasurementDefinition>& definitions, const Clock& clock,
             std::uint32_t seed);

  // Plans every definition's first run (none for one whose stop_time passed).
  void plan_all();
  // How many runs the list asks for from the start; 0 when unbounded (periodic, no stop_time).
  [[nodiscard]] std::size_t total() const { return total_; }

  [[nodiscard]] bool empty() const { return planned_.empty(); }
  [[nodiscard]] std::size_t size() const { return planned_.size(); }
  // The earliest planned run (not empty()).
  [[nodiscard]] const Planned& next() const { return planned_.top(); }
  // Removes the earliest run, to start it, and plans its definition's next run if any.
  Planned take_next();

 private:
  void plan(std::size_t definition, std::int64_t nominal_wall_s, std::uint64_t ordinal);

  const std::vector<MeasurementDefinition>& definitions_;
  const Clock& clock_;
  std::minstd_rand random_;
  std::priority_queue<Planned, std::vector<Planned>, std::greater<>> planned_;
  std::size_t total_ = 0;
};

}  // namespace mtool::campaign
