// libFuzzer target for traceroute's untrusted input: the ICMP extension decoder (bytes a router
// appended to its error) and the command-line parser (argv from a script).
//
// Input: byte 0 picks the target. Extensions: byte 1 the header length the quote starts at,
// byte 2 the data length sent, byte 3 the family, the rest the quote. Command line: the rest,
// split at NUL bytes into arguments.
#include <sys/socket.h>

#include <cstdint>
#include <cstdlib>
#include <memory>
#include <span>
#include <string>
#include <vector>

#include "probe/icmp_extensions.h"
#include "trace/trace_options.h"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  if (size < 4) return 0;
  if ((data[0] & 1) == 0) {
    const std::size_t rest = size - 4;
    auto copy = std::make_unique<std::uint8_t[]>(rest + 1);  // exact-size heap copy for ASan
    std::copy(data + 4, data + size, copy.get());
    const auto text = mtool::probe::decode_icmp_extensions(
        std::span(copy.get(), rest), data[1], data[2], (data[3] & 1) != 0 ? AF_INET6 : AF_INET);
    if (text && text->size() > 64 * rest + 64) std::abort();  // bounded by what it decoded
    return 0;
  }
  std::vector<std::string> args{"traceroute"};
  std::string current;
  for (std::size_t i = 1; i < size; ++i) {
    if (data[i] == 0) {
      args.push_back(current);
      current.clear();
    } else {
      current.push_back(static_cast<char>(data[i]));
    }
  }
  args.push_back(current);
  auto parsed = mtool::trace::parse_trace_options(args);
  if (parsed.outcome == mtool::trace::ParseOutcome::kError && parsed.error.empty()) std::abort();
  if (parsed.outcome == mtool::trace::ParseOutcome::kRun) {
    (void)mtool::trace::validate_trace_options(parsed.options);
  }
  return 0;
}
