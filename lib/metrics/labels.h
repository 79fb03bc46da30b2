#pragma once
// Labels a user adds to every series (`--label k=v`), checked as Prometheus wants them: a
// name of [a-zA-Z_][a-zA-Z0-9_]* that does not begin with "__" (reserved for Prometheus), not
// one the exporter sets itself, and a UTF-8 value without control characters.
#include <array>
#include <cstddef>
#include <map>
#include <optional>
#include <span>
#include <string>
#include <string_view>

namespace mtool::metrics {

using LabelMap = std::map<std::string, std::string>;

// Bounds on what a user may add: every series repeats these.
inline constexpr std::size_t kMaxUserLabels = 16;
inline constexpr std::size_t kMaxLabelValueBytes = 256;

// Names no exporter should set: Prometheus adds `job` and `instance` to every scraped series,
// and `le` / `quantile` belong to histograms and summaries.
// (Arrays of views, not sets of strings: constant, so no command runs an initializer for them.)
inline constexpr std::array<std::string_view, 4> kPrometheusLabelNames = {"job", "instance", "le",
                                                                          "quantile"};

bool is_label_name(std::string_view name);

// Adds `assignment` ("NAME=VALUE") to `labels`, or returns false with `error` in one line.
// `reserved`: the names the caller's own series use.
bool add_label(std::string_view assignment, std::span<const std::string_view> reserved,
               LabelMap& labels, std::string& error);

}  // namespace mtool::metrics
