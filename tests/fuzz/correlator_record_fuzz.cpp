// Fuzzes what a tool does with a record it did not write: the answer from the correlator's
// socket (or the pinned map) -> overhead -> corrected RTT. Whatever the bytes, no crash, no
// out-of-bounds read, and a correction that is printed never exceeds the RTT it corrects.
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <cstring>

#include "correlate/correction.h"
#include "correlate/probe_overhead.h"
#include "correlator_abi.h"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  mtool_answer answer{};
  std::memcpy(&answer, data, size < sizeof answer ? size : sizeof answer);
  std::int64_t raw_ns = 0;
  if (size > sizeof answer)
    std::memcpy(&raw_ns, data + sizeof answer, std::min(size - sizeof answer, sizeof raw_ns));
  const auto overhead = mtool::correlate::overhead_from_record(answer.record, answer.names);
  if (!overhead) return 0;
  for (const auto& c : overhead->egress) (void)c.device.size();
  if (raw_ns < 0) return 0;
  if (const auto corrected = mtool::correlate::correct_rtt(raw_ns, *overhead)) {
    if (corrected->corrected_ns < 0 || corrected->corrected_ns > raw_ns) std::abort();
  }
  return 0;
}
