#include "metrics/listen_address.h"

#include <arpa/inet.h>

#include <charconv>

#include "util/printable.h"

namespace mtool::metrics {

std::string ListenAddress::to_string() const { return address + ":" + std::to_string(port); }

std::optional<ListenAddress> parse_listen_address(std::string_view text, std::string& error) {
  const std::string expected =
      "expected ADDR:PORT with a numeric IPv4 address, e.g. 127.0.0.1:9101";
  if (!text.empty() && text.front() == '[') {
    error = "IPv6 is not supported (the HTTP server, Debian's civetweb, is built without it); " +
            expected;
    return std::nullopt;
  }
  const auto colon = text.rfind(':');
  if (colon == std::string_view::npos || colon == 0) {
    error = expected;
    return std::nullopt;
  }
  ListenAddress out;
  out.address = std::string(text.substr(0, colon));
  in_addr parsed{};
  if (::inet_pton(AF_INET, out.address.c_str(), &parsed) != 1) {
    error = out.address.find(':') != std::string::npos
                ? "IPv6 is not supported (the HTTP server, Debian's civetweb, is built without "
                  "it); " +
                      expected
                : quoted(out.address) + " is not a numeric IPv4 address; " + expected;
    return std::nullopt;
  }
  const std::string_view port = text.substr(colon + 1);
  unsigned value = 0;
  const auto [end, ec] = std::from_chars(port.data(), port.data() + port.size(), value);
  if (port.empty() || ec != std::errc() || end != port.data() + port.size() || value > 65535) {
    error = quoted(port) + " is not a port (0..65535); " + expected;
    return std::nullopt;
  }
  out.port = static_cast<std::uint16_t>(value);
  return out;
}

}  // namespace mtool::metrics
