#pragma once
// Where the campaign's results go: each Atlas result written as one JSON object the moment its
// run is over (and then forgotten), shown to an observer if there is one (--metrics), and the
// tally of what they held, for the summary.
#include <cstddef>
#include <cstdint>
#include <functional>
#include <nlohmann/json.hpp>
#include <utility>

#include "campaign/measurement_list.h"
#include "campaign/result_observer.h"
#include "report/atlas_results.h"

namespace mtool::campaign {

class ResultOutput {
 public:
  using Writer = std::function<void(const nlohmann::json&)>;
  // `observer` (may be null) must outlive this.
  ResultOutput(Writer write, ResultObserver* observer)
      : write_(std::move(write)), observer_(observer) {}

  // The result of a run of `d`.
  void write(const MeasurementDefinition& d, const report::AtlasPingResult& result);
  void write(const MeasurementDefinition& d, const report::AtlasTracerouteResult& result);

  [[nodiscard]] std::size_t results() const { return results_; }
  // Ping replies and traceroute probes answered (duplicates, errors and timeouts not counted).
  [[nodiscard]] std::uint64_t replies() const { return replies_; }
  // Of which the correlator corrected.
  [[nodiscard]] std::uint64_t corrected() const { return corrected_; }

 private:
  void count_reply(bool corrected) {
    ++replies_;
    if (corrected) ++corrected_;
  }
  Writer write_;
  ResultObserver* observer_;
  std::size_t results_ = 0;
  std::uint64_t replies_ = 0;
  std::uint64_t corrected_ = 0;
};

}  // namespace mtool::campaign
