#pragma once
// Where a metrics endpoint listens: exactly one numeric IPv4 address and a port, as the user
// wrote it (ADDR:PORT). Nothing listens on an address nobody asked for: no wildcard is implied,
// no name is resolved. Port 0 asks the kernel for a free port (tests, benchmarks).
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace mtool::metrics {

struct ListenAddress {
  std::string address;  // numeric IPv4, as written ("0.0.0.0" only when asked)
  std::uint16_t port = 0;

  // "198.18.0.2:9101"
  [[nodiscard]] std::string to_string() const;
};

// ADDR:PORT, or nullopt with `error` saying what is wrong in one line (without the option's
// name). IPv6 is refused by name: Debian's civetweb, the HTTP server under prometheus-cpp, is
// built without it.
std::optional<ListenAddress> parse_listen_address(std::string_view text, std::string& error);

}  // namespace mtool::metrics
