#pragma once
// Reading the correlator's pinned maps: the one place that knows how a record and its device
// names are laid out there (used by tools reading directly and by the correlator's socket).
#include <cstdint>
#include <unordered_map>

#include "correlator_abi.h"

namespace mtool::correlate {

class RecordReader {
 public:
  RecordReader(int records_fd, int devices_fd) : records_fd_(records_fd), devices_fd_(devices_fd) {}

  // Takes the record of `key` out of the records map and fills `names` (MTOOL_NAMED_CROSSINGS;
  // unknown devices stay empty). False if there is no such record.
  bool take(const mtool_probe_key& key, mtool_record& record, mtool_device_name* names);

 private:
  void name_devices(const mtool_crossing* list, std::size_t count, mtool_device_name* out);

  int records_fd_;
  int devices_fd_;
  // Names seen before: one map lookup per reply instead of one per crossing. Bounded; an
  // interface renamed while cached shows its old name until the cache is cleared.
  std::unordered_map<std::uint64_t, mtool_device_name> names_;
};

}  // namespace mtool::correlate
