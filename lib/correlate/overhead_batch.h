#pragma once
// The overheads of a burst of replies, asked of the correlator together (take_many: one
// wake-up of the daemon through its socket, not one round trip per reply). ping, traceroute
// and mtool run each collect their burst here. Requests and answers are kept from burst to
// burst, so a burst allocates nothing once they have grown.
#include <cstddef>
#include <vector>

#include "correlate/overhead_source.h"
#include "util/clock.h"

namespace mtool::correlate {

class OverheadBatch {
 public:
  // Adds a probe to the next burst; returns its place in it, for answer().
  std::size_t add(const ProbeIdentity& probe, MonoNs sent_mono) {
    requests_.push_back({probe, sent_mono});
    return requests_.size() - 1;
  }
  [[nodiscard]] bool empty() const { return requests_.empty(); }

  // Asks `source` for every probe added since the last take (nothing when none was); their
  // answers stay readable by place until the next take.
  void take(OverheadSource& source) {
    answers_.clear();
    if (requests_.empty()) return;
    source.take_many(requests_, answers_);
    requests_.clear();
  }

  // The overhead at `place` of the burst just taken, or nullptr when the correlator had none
  // (the caller may move it out: each answer serves one reply).
  [[nodiscard]] ProbeOverhead* answer(std::size_t place) {
    return place < answers_.size() && answers_[place] ? &*answers_[place] : nullptr;
  }

 private:
  std::vector<OverheadSource::Request> requests_;
  OverheadSource::Answers answers_;
};

}  // namespace mtool::correlate
