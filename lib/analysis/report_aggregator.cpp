#include "analysis/report_aggregator.h"

#include <algorithm>

namespace mtool::analysis {

void ReportAggregator::add(const ResultRecord& record, std::string_view source) {
  const std::string_view lookup = keyer_.lookup(record, source);
  auto found = groups_.find(lookup);
  if (found == groups_.end()) {
    auto group = std::make_unique<Group>();
    group->key = keyer_.key(record, source);
    if (record.type == ResultType::kTraceroute) group->path = std::make_unique<PathAccumulator>();
    found = groups_.emplace(std::string(lookup), std::move(group)).first;
  }
  Group& group = *found->second;
  group.summary.add(record);
  if (group.path) group.path->add(record);
}

std::vector<const Group*> ReportAggregator::groups() const {
  std::vector<const Group*> out;
  out.reserve(groups_.size());
  for (const auto& [lookup, group] : groups_) out.push_back(group.get());
  std::sort(out.begin(), out.end(), [](const Group* a, const Group* b) { return a->key < b->key; });
  return out;
}

}  // namespace mtool::analysis
