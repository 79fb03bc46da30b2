#pragma once
// One group's traceroute path, accumulated run by run in bounded state: per hop, the probes,
// the addresses that answered (up to kMaxAddresses each, the rest counted together) with their
// replies, whether the host answered them itself ([virtual]), Atlas' error codes, and
// histograms of the raw and corrected RTTs; across runs, the distinct paths and how often the
// path changed from one run to the next of the same paris_id (in the order the runs are read:
// a vantage point's own results are in time order).
#include <cstdint>
#include <map>
#include <string>
#include <unordered_set>
#include <vector>

#include "analysis/result_record.h"
#include "stats/rtt_statistics.h"

namespace mtool::analysis {

class PathAccumulator {
 public:
  static constexpr std::size_t kMaxAddresses = 16;
  static constexpr std::size_t kMaxDistinctPaths = 1000;

  void add(const ResultRecord& record);

  struct Address {
    std::string address;
    std::uint64_t replies = 0;
    std::uint64_t inside_host = 0;
    std::string errors;  // Atlas' codes seen, each once ("N", "H", ... or digits), comma-separated
  };
  struct HopStats {
    std::uint64_t probes = 0;  // replies + timeouts + errors (duplicates and late ones apart)
    std::uint64_t replies = 0;
    std::uint64_t timeouts = 0;
    std::uint64_t errors = 0;
    std::uint64_t late = 0;
    std::uint64_t duplicates = 0;
    std::uint64_t unsent = 0;         // runs in which this hop was not probed (a hop-level error)
    std::vector<Address> addresses;   // in the order first seen
    std::uint64_t other_replies = 0;  // from addresses beyond kMaxAddresses
    stats::LatencyHistogram raw;
    stats::LatencyHistogram corrected;
  };
  [[nodiscard]] const std::map<unsigned, HopStats>& hops() const { return hops_; }
  [[nodiscard]] std::uint64_t runs() const { return runs_; }
  // Distinct paths seen (at most kMaxDistinctPaths: then "at least").
  [[nodiscard]] std::size_t distinct_paths() const { return distinct_.size(); }
  [[nodiscard]] bool distinct_paths_capped() const { return distinct_capped_; }
  [[nodiscard]] std::uint64_t changes() const { return changes_; }
  [[nodiscard]] std::size_t paris_ids() const { return last_path_.size(); }

 private:
  void add_reply(HopStats& hop, const HopReply& reply);
  static std::uint64_t path_signature(const ResultRecord& record);

  std::map<unsigned, HopStats> hops_;
  std::uint64_t runs_ = 0;
  std::unordered_set<std::uint64_t> distinct_;
  bool distinct_capped_ = false;
  std::map<unsigned, std::uint64_t> last_path_;  // per paris_id: the last run's signature
  std::uint64_t changes_ = 0;
};

}  // namespace mtool::analysis
