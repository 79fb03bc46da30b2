#pragma once
// The correlator's corrections for a burst of ping replies. Replies are read until the shared
// socket is drained, and only then are their overheads asked for, in one take_many: one
// wake-up of the daemon per burst, not one round trip per reply. Each answer becomes the
// Atlas correction of the reply it belongs to.
#include <cstdint>
#include <functional>
#include <vector>

#include "campaign/slot_map.h"
#include "correlate/overhead_batch.h"
#include "report/atlas_results.h"

namespace mtool::campaign {

class CorrectionBatch {
 public:
  // A first reply to a probe: only it can be corrected (the correlator keeps one record per
  // probe).
  struct Reply {
    SlotHandle run;
    unsigned packet = 0;
    std::int64_t rtt_ns = 0;  // the raw RTT the correction starts from
  };
  using Apply = std::function<void(SlotHandle run, unsigned packet, report::AtlasCorrection)>;

  void add(const Reply& reply, const correlate::OverheadSource::Request& request) {
    replies_.push_back(reply);
    overheads_.add(request.probe, request.sent_mono);
  }
  [[nodiscard]] bool empty() const { return replies_.empty(); }
  [[nodiscard]] std::size_t size() const { return replies_.size(); }

  // Asks `source` for every overhead at once, then apply(run, packet, correction) for each
  // reply the correlator measured and whose overhead fits its RTT, in the order added. Empty
  // afterwards.
  void settle(correlate::OverheadSource& source, bool breakdown, const Apply& apply);

 private:
  std::vector<Reply> replies_;
  correlate::OverheadBatch overheads_;  // the same places as replies_
};

}  // namespace mtool::campaign
