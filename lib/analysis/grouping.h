#pragma once
// How a report groups results (--by): by target, vantage point, measurement and hour, in the
// order given; results of different types (ping, traceroute) are never grouped together.
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "analysis/result_record.h"

namespace mtool::analysis {

enum class GroupField { kTarget, kVantage, kMsm, kHour };

struct Grouping {
  std::vector<GroupField> fields{GroupField::kTarget, GroupField::kVantage};
  [[nodiscard]] bool has(GroupField field) const;
  bool operator==(const Grouping&) const = default;
};

// "target,vantage,msm,hour" (any of them, in any order, each once); nullopt with `error` set
// otherwise.
std::optional<Grouping> parse_grouping(std::string_view text, std::string& error);
const char* group_field_name(GroupField field);

// One group's identity: the fields its grouping names, the others empty.
struct GroupKey {
  ResultType type = ResultType::kPing;
  std::string target;
  std::string vantage;
  std::optional<std::uint64_t> msm;
  std::optional<std::int64_t> hour;  // Unix seconds at the start of the hour (UTC)

  auto operator<=>(const GroupKey&) const = default;
};

// A vantage point: the probe id with the vantage point's public address ("from"), or with the
// input it came from when the result has none (mtool's probe ids may equal real Atlas ones).
void append_vantage(std::string& out, const ResultRecord& record, std::string_view source);

// "ping", "traceroute".
const char* type_name(ResultType type);
// "2026-11-03T14:00Z".
std::string hour_text(std::int64_t hour_start);

// The key of `record` under `grouping`, and the same as one string (written into a buffer it
// reuses) to find its group by, without building the key itself for every result.
class GroupKeyer {
 public:
  explicit GroupKeyer(Grouping grouping) : grouping_(std::move(grouping)) {}
  [[nodiscard]] const Grouping& grouping() const { return grouping_; }
  std::string_view lookup(const ResultRecord& record, std::string_view source);
  [[nodiscard]] GroupKey key(const ResultRecord& record, std::string_view source) const;

 private:
  Grouping grouping_;
  std::string buffer_;
  std::string vantage_;
};

}  // namespace mtool::analysis
