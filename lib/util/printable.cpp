#include "util/printable.h"

#include <cstdio>

namespace mtool {
namespace {

// The length of the control character at `text[i]` (1: C0 or DEL, 2: C1 in UTF-8), or 0.
std::size_t control_length(std::string_view text, std::size_t i) {
  const auto c = static_cast<unsigned char>(text[i]);
  if (c < 0x20 || c == 0x7f) return 1;
  if (c == 0xc2 && i + 1 < text.size()) {
    const auto next = static_cast<unsigned char>(text[i + 1]);
    if (next >= 0x80 && next <= 0x9f) return 2;
  }
  return 0;
}

std::string escape(std::string_view text, std::size_t i, std::size_t length) {
  char buf[8];
  if (length == 1) {
    std::snprintf(buf, sizeof buf, "\\x%02x", static_cast<unsigned char>(text[i]));
  } else {
    std::snprintf(buf, sizeof buf, "\\u00%02x", static_cast<unsigned char>(text[i + 1]));
  }
  return buf;
}

}  // namespace

std::string printable(std::string_view text) {
  std::string out;
  out.reserve(text.size());
  for (std::size_t i = 0; i < text.size();) {
    if (const std::size_t length = control_length(text, i)) {
      out += escape(text, i, length);
      i += length;
    } else {
      out += text[i++];
    }
  }
  return out;
}

std::optional<std::string> first_control_character(std::string_view text) {
  for (std::size_t i = 0; i < text.size(); ++i) {
    if (const std::size_t length = control_length(text, i)) return escape(text, i, length);
  }
  return std::nullopt;
}

std::string quoted(std::string_view text) {
  std::string out = "'";
  out += printable(text);
  out += '\'';
  return out;
}

}  // namespace mtool
