#include "metrics/bucket_layout.h"

#include <charconv>
#include <cmath>
#include <cstdio>
#include <cstdlib>

#include "util/printable.h"

namespace mtool::metrics {
namespace {

// `value` rounded to 3 significant digits, as the nearest double to that decimal.
double three_digits(double value) {
  char text[32];
  std::snprintf(text, sizeof text, "%.3g", value);
  return std::strtod(text, nullptr);
}

std::vector<std::string_view> split(std::string_view text, char separator) {
  std::vector<std::string_view> parts;
  for (;;) {
    const auto at = text.find(separator);
    parts.push_back(text.substr(0, at));
    if (at == std::string_view::npos) return parts;
    text.remove_prefix(at + 1);
  }
}

}  // namespace

std::optional<double> parse_duration(std::string_view text) {
  // The unit as a decimal exponent, so that "50us" is the double nearest to 50e-6 (what a
  // bound's `le` label then prints), not 50 times the double nearest to 1e-6.
  static constexpr struct {
    const char* suffix;
    const char* exponent;
  } kUnits[] = {{"ns", "e-9"}, {"us", "e-6"}, {"ms", "e-3"}, {"s", "e0"}};
  for (const auto& unit : kUnits) {
    const std::string_view suffix = unit.suffix;
    if (text.size() <= suffix.size() || text.substr(text.size() - suffix.size()) != suffix)
      continue;
    const std::string_view number = text.substr(0, text.size() - suffix.size());
    // Digits and one point only: no sign, exponent, "inf" or "nan" of the user's own.
    if (number.find_first_not_of("0123456789.") != std::string_view::npos ||
        number.find_first_of("0123456789") == std::string_view::npos)
      return std::nullopt;
    // strtod, not std::from_chars: libstdc++'s floating-point from_chars brings a static
    // initializer (its pmr pool) that every command, a plain ping included, would run. Both are
    // correctly rounded; mtool never sets a locale, so the point is '.'.
    const std::string decimal = std::string(number) + unit.exponent;
    char* end = nullptr;
    const double value = std::strtod(decimal.c_str(), &end);
    if (end != decimal.c_str() + decimal.size() || !std::isfinite(value) || value <= 0)
      return std::nullopt;
    return value;
  }
  return std::nullopt;
}

std::vector<double> log_scale_bounds(double low, double high, unsigned per_decade) {
  std::vector<double> bounds;
  const double step = 1.0 / per_decade;
  // Exponents counted, not accumulated: 10^(k/N) from LOW, so HIGH is hit exactly.
  const double decades = std::log10(high / low);
  for (unsigned k = 0; static_cast<double>(k) * step <= decades + 1e-9; ++k) {
    bounds.push_back(three_digits(low * std::pow(10.0, static_cast<double>(k) * step)));
  }
  return bounds;
}

std::optional<std::vector<double>> parse_buckets(std::string_view spec, std::string& error) {
  const std::string usage = " (LOW:HIGH:N, N bounds per decade, e.g. " +
                            std::string(kDefaultBuckets) + "; or B1,B2,... e.g. 50us,1ms,1s)";
  std::vector<double> bounds;
  if (spec.find(':') != std::string_view::npos) {
    const auto parts = split(spec, ':');
    const auto low = parts.size() == 3 ? parse_duration(parts[0]) : std::nullopt;
    const auto high = parts.size() == 3 ? parse_duration(parts[1]) : std::nullopt;
    unsigned per_decade = 0;
    const bool n_ok =
        parts.size() == 3 &&
        std::from_chars(parts[2].data(), parts[2].data() + parts[2].size(), per_decade).ptr ==
            parts[2].data() + parts[2].size() &&
        per_decade >= 1 && per_decade <= 20;
    if (!low || !high || !n_ok) {
      error = quoted(spec) + " is not a bucket layout" + usage;
      return std::nullopt;
    }
    if (*low >= *high) {
      error = quoted(spec) + ": LOW must be below HIGH" + usage;
      return std::nullopt;
    }
    bounds = log_scale_bounds(*low, *high, per_decade);
  } else {
    for (const std::string_view part : split(spec, ',')) {
      const auto bound = parse_duration(part);
      if (!bound) {
        error = quoted(part) + " is not a duration such as 50us, 1ms or 1s" + usage;
        return std::nullopt;
      }
      if (!bounds.empty() && *bound <= bounds.back()) {
        error = quoted(spec) + ": bounds must increase" + usage;
        return std::nullopt;
      }
      bounds.push_back(*bound);
    }
  }
  if (bounds.size() > kMaxBuckets) {
    error = quoted(spec) + " makes " + std::to_string(bounds.size()) + " buckets, more than " +
            std::to_string(kMaxBuckets);
    return std::nullopt;
  }
  return bounds;
}

}  // namespace mtool::metrics
