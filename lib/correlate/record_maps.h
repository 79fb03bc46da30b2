#pragma once
// Reading the correlator's pinned maps: the one place that knows how a record and its device
// names are laid out there (used by tools reading directly and by the correlator's socket).
#include "correlator_abi.h"

namespace mtool::correlate {

// Takes the record of `key` out of the records map and fills `names` (MTOOL_NAMED_CROSSINGS;
// unknown devices stay empty). False if there is no such record.
bool take_record(int records_fd, int devices_fd, const mtool_probe_key& key, mtool_record& record,
                 mtool_device_name* names);

}  // namespace mtool::correlate
