// libFuzzer target for measurement lists (`mtool run LIST`): any bytes are parsed; every
// definition kept must satisfy the ranges the parser promises, every refused one must come
// with a problem, and no problem may carry a control character to the terminal. The seeds
// (corpus/measurement_list) reach the nesting bound, NUL bytes and numbers beyond every range;
// `make fuzz` runs it with -max_len=4096, far beyond the 64 levels of nesting allowed.
#include <cstdint>
#include <cstdlib>
#include <string>

#include "campaign/measurement_list.h"

namespace {

bool has_control(const std::string& text) {
  for (const char c : text) {
    if (static_cast<unsigned char>(c) < 0x20 || c == 0x7f) return true;
  }
  return false;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::string text(reinterpret_cast<const char*>(data), size);
  const auto list = mtool::campaign::parse_measurement_list(text);
  if (list.definitions.size() + list.problems.size() < list.total) std::abort();
  if (list.definitions.empty() && list.problems.empty()) std::abort();
  for (const auto& problem : list.problems) {
    if (problem.text.empty() || has_control(problem.text)) std::abort();
  }
  for (const auto& d : list.definitions) {
    if (d.target.empty() || (d.af != 4 && d.af != 6)) std::abort();
    if (has_control(d.target) || has_control(d.description)) std::abort();
    if (d.ping.packets < 1 || d.ping.packets > 16 || d.traceroute.first_hop > d.traceroute.max_hops)
      std::abort();
  }
  return 0;
}
