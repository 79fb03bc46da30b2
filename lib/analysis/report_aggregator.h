#pragma once
// The groups of a report, each with its summary and (traceroutes) its path, found result by
// result under one grouping: memory grows with the number of groups, never with the results.
#include <memory>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "analysis/grouping.h"
#include "analysis/path_accumulator.h"
#include "analysis/summary_accumulator.h"

namespace mtool::analysis {

struct Group {
  GroupKey key;
  SummaryAccumulator summary;
  std::unique_ptr<PathAccumulator> path;  // traceroute groups only
};

class ReportAggregator {
 public:
  explicit ReportAggregator(Grouping grouping) : keyer_(std::move(grouping)) {}

  // One result, read from `source` (the input's name, a vantage point's when "from" is empty).
  void add(const ResultRecord& record, std::string_view source);

  [[nodiscard]] const Grouping& grouping() const { return keyer_.grouping(); }
  // Every group, ordered by type, then by its key's fields.
  [[nodiscard]] std::vector<const Group*> groups() const;

 private:
  struct Hash {
    using is_transparent = void;
    std::size_t operator()(std::string_view key) const {
      return std::hash<std::string_view>{}(key);
    }
  };
  GroupKeyer keyer_;
  std::unordered_map<std::string, std::unique_ptr<Group>, Hash, std::equal_to<>> groups_;
};

}  // namespace mtool::analysis
