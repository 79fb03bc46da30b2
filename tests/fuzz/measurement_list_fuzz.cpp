// libFuzzer target for measurement lists (`mtool run LIST`): any bytes are parsed; every
// definition kept must satisfy the ranges the parser promises, and every refused one must come
// with a problem.
#include <cstdint>
#include <cstdlib>
#include <string>

#include "campaign/measurement_list.h"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::string text(reinterpret_cast<const char*>(data), size);
  const auto list = mtool::campaign::parse_measurement_list(text);
  if (list.definitions.size() + list.problems.size() < list.total) std::abort();
  if (list.definitions.empty() && list.problems.empty()) std::abort();
  for (const auto& d : list.definitions) {
    if (d.target.empty() || (d.af != 4 && d.af != 6)) std::abort();
    if (d.ping.packets < 1 || d.ping.packets > 16 || d.traceroute.first_hop > d.traceroute.max_hops) std::abort();
  }
  return 0;
}
