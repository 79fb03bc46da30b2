#include "campaign/sequence_owners.h"

namespace mtool::campaign {

std::uint16_t SequenceOwners::next_free() {
  std::uint16_t sequence = next_;
  for (std::size_t tries = 0; !owners_[sequence].run.empty() && tries < kSequences; ++tries)
    ++sequence;
  next_ = static_cast<std::uint16_t>(sequence + 1);
  return sequence;
}

}  // namespace mtool::campaign
