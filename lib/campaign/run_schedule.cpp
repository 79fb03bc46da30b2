#include "campaign/run_schedule.h"

#include <algorithm>

namespace mtool::campaign {

std::optional<std::int64_t> first_run_at(const Schedule& s, std::int64_t now_s) {
  const std::int64_t first = std::max(now_s, s.start_time.value_or(now_s));
  if (!s.is_oneoff && s.stop_time && first > *s.stop_time) return std::nullopt;
  return first;
}

std::optional<std::int64_t> next_run_at(const Schedule& s, std::int64_t previous_s) {
  if (s.is_oneoff || s.interval_s <= 0) return std::nullopt;
  const std::int64_t next = previous_s + s.interval_s;
  if (s.stop_time && next > *s.stop_time) return std::nullopt;
  return next;
}

std::optional<std::size_t> run_count(const Schedule& s, std::int64_t now_s) {
  const auto first = first_run_at(s, now_s);
  if (!first) return 0;
  if (s.is_oneoff) return 1;
  if (!s.stop_time || s.interval_s <= 0) return std::nullopt;
  return static_cast<std::size_t>((*s.stop_time - *first) / s.interval_s + 1);
}

}  // namespace mtool::campaign
