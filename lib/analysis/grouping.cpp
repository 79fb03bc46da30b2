#include "analysis/grouping.h"

#include <algorithm>
#include <ctime>

#include "util/printable.h"

namespace mtool::analysis {

namespace {

constexpr std::int64_t kHour = 3600;

std::int64_t hour_of(std::int64_t timestamp) { return timestamp - timestamp % kHour; }

// A field written with its length first, so that no two different keys read the same.
void append_field(std::string& out, std::string_view value) {
  const auto size = static_cast<std::uint32_t>(value.size());
  out.append(reinterpret_cast<const char*>(&size), sizeof size);
  out.append(value);
}

void append_number(std::string& out, std::uint64_t value) {
  out.append(reinterpret_cast<const char*>(&value), sizeof value);
}

}  // namespace

bool Grouping::has(GroupField field) const {
  return std::find(fields.begin(), fields.end(), field) != fields.end();
}

const char* group_field_name(GroupField field) {
  switch (field) {
    case GroupField::kTarget:
      return "target";
    case GroupField::kVantage:
      return "vantage";
    case GroupField::kMsm:
      return "msm";
    case GroupField::kHour:
      return "hour";
  }
  return "?";
}

std::optional<Grouping> parse_grouping(std::string_view text, std::string& error) {
  Grouping grouping;
  grouping.fields.clear();
  while (!text.empty()) {
    const std::size_t comma = text.find(',');
    const std::string_view name = text.substr(0, comma);
    text = comma == std::string_view::npos ? std::string_view() : text.substr(comma + 1);
    std::optional<GroupField> field;
    for (const GroupField f :
         {GroupField::kTarget, GroupField::kVantage, GroupField::kMsm, GroupField::kHour}) {
      if (name == group_field_name(f)) field = f;
    }
    if (!field) {
      error = "--by: '" + printable(name) + "' is not one of target, vantage, msm, hour";
      return std::nullopt;
    }
    if (grouping.has(*field)) {
      error = "--by: '" + printable(name) + "' is named twice";
      return std::nullopt;
    }
    grouping.fields.push_back(*field);
  }
  if (grouping.fields.empty()) {
    error = "--by: name at least one of target, vantage, msm, hour";
    return std::nullopt;
  }
  return grouping;
}

void append_vantage(std::string& out, const ResultRecord& record, std::string_view source) {
  out += std::to_string(record.prb_id);
  out += '@';
  out += record.from.empty() ? source : record.from;
}

const char* type_name(ResultType type) { return type == ResultType::kPing ? "ping" : "traceroute"; }

std::string hour_text(std::int64_t hour_start) {
  const auto seconds = static_cast<std::time_t>(hour_start);
  std::tm utc{};
  if (gmtime_r(&seconds, &utc) == nullptr) return std::to_string(hour_start);
  char text[32];
  std::strftime(text, sizeof text, "%Y-%m-%dT%H:00Z", &utc);
  return text;
}

std::string_view GroupKeyer::lookup(const ResultRecord& record, std::string_view source) {
  buffer_.clear();
  buffer_ += record.type == ResultType::kPing ? 'p' : 't';
  for (const GroupField field : grouping_.fields) {
    switch (field) {
      case GroupField::kTarget:
        append_field(buffer_, record.target());
        break;
      case GroupField::kVantage:
        vantage_.clear();
        append_vantage(vantage_, record, source);
        append_field(buffer_, vantage_);
        break;
      case GroupField::kMsm:
        append_number(buffer_, record.msm_id);
        break;
      case GroupField::kHour:
        append_number(buffer_, static_cast<std::uint64_t>(hour_of(record.timestamp)));
        break;
    }
  }
  return buffer_;
}

GroupKey GroupKeyer::key(const ResultRecord& record, std::string_view source) const {
  GroupKey key;
  key.type = record.type;
  if (grouping_.has(GroupField::kTarget)) key.target = record.target();
  if (grouping_.has(GroupField::kVantage)) append_vantage(key.vantage, record, source);
  if (grouping_.has(GroupField::kMsm)) key.msm = record.msm_id;
  if (grouping_.has(GroupField::kHour)) key.hour = hour_of(record.timestamp);
  return key;
}

}  // namespace mtool::analysis
