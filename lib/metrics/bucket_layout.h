#pragma once
// The upper bounds of a histogram's buckets, in seconds, from a spec a user can type:
//   LOW:HIGH:N   a log scale: N bounds per decade from LOW to HIGH, both included
//                (each rounded to 3 significant digits, so that `le` labels read well)
//   B1,B2,...    the bounds themselves, increasing
// Durations carry their unit: ns, us, ms or s ("1us", "2.5ms", "10s").
// The default covers a container's virtual network (microseconds) to a lost cause (10 s).
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace mtool::metrics {

inline constexpr const char* kDefaultBuckets = "1us:10s:4";
// More bounds than this is a mistake (and series that every scrape pays for).
inline constexpr std::size_t kMaxBuckets = 100;

// A duration such as "1us" in seconds; nullopt unless a finite, positive number with a unit.
std::optional<double> parse_duration(std::string_view text);

// N bounds per decade from `low` to `high` (seconds; low < high; per_decade >= 1).
std::vector<double> log_scale_bounds(double low, double high, unsigned per_decade);

// The bounds `spec` describes, or nullopt with `error` saying what is wrong in one line.
std::optional<std::vector<double>> parse_buckets(std::string_view spec, std::string& error);

}  // namespace mtool::metrics
