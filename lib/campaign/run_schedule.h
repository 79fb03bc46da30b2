#pragma once
// When a definition's runs happen, in Atlas' terms (Unix seconds, before `spread`): a one-off
// runs once, at start_time or now; a periodic one every `interval` from then until stop_time
// (inclusive), or until the campaign is stopped.
#include <cstddef>
#include <cstdint>
#include <optional>

#include "campaign/measurement_list.h"

namespace mtool::campaign {

// The first run, or nullopt when none is left (a periodic stop_time already passed).
std::optional<std::int64_t> first_run_at(const Schedule& schedule, std::int64_t now_s);
// The run after one at `previous_s`, or nullopt when the schedule is over.
std::optional<std::int64_t> next_run_at(const Schedule& schedule, std::int64_t previous_s);
// How many runs there will be from now; nullopt when unbounded (periodic, no stop_time).
std::optional<std::size_t> run_count(const Schedule& schedule, std::int64_t now_s);

}  // namespace mtool::campaign
