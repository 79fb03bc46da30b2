#include "campaign/correction_batch.h"

namespace mtool::campaign {

void CorrectionBatch::settle(correlate::OverheadSource& source, bool breakdown,
                             const Apply& apply) {
  if (replies_.empty()) return;
  source.take_many(requests_, answers_);
  for (std::size_t i = 0; i < replies_.size() && i < answers_.size(); ++i) {
    if (!answers_[i]) continue;
    const Reply& r = replies_[i];
    if (auto correction = report::atlas_correction(r.rtt_ns, *answers_[i], breakdown)) {
      apply(r.run, r.packet, std::move(*correction));
    }
  }
  replies_.clear();
  requests_.clear();
}

}  // namespace mtool::campaign
