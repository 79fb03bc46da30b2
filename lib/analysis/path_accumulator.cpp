#include "analysis/path_accumulator.h"

#include <algorithm>
#include <cmath>
#include <string_view>

#include "analysis/summary_accumulator.h"

namespace mtool::analysis {

namespace {

// FNV-1a, 64 bits: a path's identity, compared between runs.
class Fnv1a {
 public:
  void add(std::string_view bytes) {
    for (const char c : bytes) {
      hash_ ^= static_cast<unsigned char>(c);
      hash_ *= 0x100000001b3ULL;
    }
  }
  [[nodiscard]] std::uint64_t value() const { return hash_; }

 private:
  std::uint64_t hash_ = 0xcbf29ce484222325ULL;
};

void note_error(std::string& errors, std::string_view code) {
  if (code.empty()) return;
  std::string_view rest = errors;
  while (!rest.empty()) {
    const std::size_t comma = rest.find(',');
    if (rest.substr(0, comma) == code) return;
    rest = comma == std::string_view::npos ? std::string_view() : rest.substr(comma + 1);
  }
  if (!errors.empty()) errors += ',';
  errors += code;
}

}  // namespace

std::uint64_t PathAccumulator::path_signature(const ResultRecord& record) {
  // Per hop, the set of addresses that answered it (sorted: the order of replies is not the
  // path), "*" when none did.
  Fnv1a hash;
  std::vector<std::string_view> addresses;
  for (const Hop& hop : record.hops) {
    addresses.clear();
    for (std::size_t i = 0; i < hop.replies; ++i) {
      const HopReply& r = record.hop_replies[hop.first_reply + i];
      if (r.kind == HopReply::Kind::kReply) addresses.push_back(r.from);
    }
    std::sort(addresses.begin(), addresses.end());
    addresses.erase(std::unique(addresses.begin(), addresses.end()), addresses.end());
    const std::string number = std::to_string(hop.number);
    hash.add(number);
    hash.add(":");
    if (addresses.empty()) hash.add("*");
    for (const std::string_view a : addresses) {
      hash.add(a);
      hash.add(",");
    }
    hash.add(";");
  }
  return hash.value();
}

void PathAccumulator::add_reply(HopStats& hop, const HopReply& reply) {
  switch (reply.kind) {
    case HopReply::Kind::kDuplicate:
      ++hop.duplicates;
      return;
    case HopReply::Kind::kLate:
      ++hop.late;
      return;
    case HopReply::Kind::kTimeout:
      ++hop.probes;
      ++hop.timeouts;
      return;
    case HopReply::Kind::kError:
      ++hop.probes;
      ++hop.errors;
      return;
    case HopReply::Kind::kReply:
      break;
  }
  ++hop.probes;
  ++hop.replies;
  hop.raw.add(to_ns(reply.figures.rtt_ms));
  if (!reply.figures.inside_host && !std::isnan(reply.figures.corrected_ms))
    hop.corrected.add(to_ns(reply.figures.corrected_ms));
  auto known = std::find_if(hop.addresses.begin(), hop.addresses.end(),
                            [&](const Address& a) { return a.address == reply.from; });
  if (known == hop.addresses.end()) {
    if (hop.addresses.size() >= kMaxAddresses) {
      ++hop.other_replies;
      return;
    }
    hop.addresses.push_back(
        {.address = std::string(reply.from), .replies = 0, .inside_host = 0, .errors = {}});
    known = hop.addresses.end() - 1;
  }
  ++known->replies;
  if (reply.figures.inside_host) ++known->inside_host;
  note_error(known->errors, reply.err);
}

void PathAccumulator::add(const ResultRecord& record) {
  if (record.type != ResultType::kTraceroute || record.failed) return;
  ++runs_;
  for (const Hop& hop : record.hops) {
    HopStats& stats = hops_[hop.number];
    if (hop.error) ++stats.unsent;
    for (std::size_t i = 0; i < hop.replies; ++i)
      add_reply(stats, record.hop_replies[hop.first_reply + i]);
  }
  const std::uint64_t signature = path_signature(record);
  if (distinct_.size() < kMaxDistinctPaths) {
    distinct_.insert(signature);
  } else if (distinct_.count(signature) == 0) {
    distinct_capped_ = true;
  }
  const auto [last, first_of_paris] =
      last_path_.try_emplace(record.paris_id.value_or(0), signature);
  if (!first_of_paris && last->second != signature) {
    ++changes_;
    last->second = signature;
  }
}

}  // namespace mtool::analysis
