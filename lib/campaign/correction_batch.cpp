#include "campaign/correction_batch.h"

namespace mtool::campaign {

void CorrectionBatch::settle(correlate::OverheadSource& source, bool breakdown,
                             const Apply& apply) {
  if (replies_.empty()) return;
  overheads_.take(source);
  for (std::size_t i = 0; i < replies_.size(); ++i) {
    const correlate::ProbeOverhead* overhead = overheads_.answer(i);
    if (overhead == nullptr) continue;
    const Reply& r = replies_[i];
    if (auto correction = report::atlas_correction(r.rtt_ns, *overhead, breakdown)) {
      apply(r.run, r.packet, std::move(*correction));
    }
  }
  replies_.clear();
}

}  // namespace mtool::campaign
