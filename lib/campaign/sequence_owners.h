#pragma once
// Which run owns each ICMP echo sequence number of one shared socket, and which of its packets
// the number carried. Many runs ping through the same socket (one identifier), so a reply's
// sequence number is all that says whose it is. A run keeps its numbers until it completes, so
// a late duplicate still finds its run; the 65536 numbers go round, skipping owned ones.
#include <cstddef>
#include <cstdint>
#include <vector>

#include "campaign/slot_map.h"

namespace mtool::campaign {

class SequenceOwners {
 public:
  static constexpr std::size_t kSequences = 65536;

  struct Owner {
    SlotHandle run;  // empty: the number is free
    std::uint8_t packet = 0;
  };

  // The next number nobody owns, from just after the last one handed out. With every number
  // owned (65536 echoes awaiting replies) it hands out the next one anyway.
  std::uint16_t next_free();
  void claim(std::uint16_t sequence, Owner owner) { owners_[sequence] = owner; }
  void release(std::uint16_t sequence) { owners_[sequence] = Owner{}; }
  // Who owns `sequence`, or nullptr when nobody does.
  [[nodiscard]] const Owner* owner(std::uint16_t sequence) const {
    const Owner& o = owners_[sequence];
    return o.run.empty() ? nullptr : &o;
  }

 private:
  std::vector<Owner> owners_ = std::vector<Owner>(kSequences);
  std::uint16_t next_ = 0;
};

}  // namespace mtool::campaign
