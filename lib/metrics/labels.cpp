#include "metrics/labels.h"

#include <algorithm>

#include "util/printable.h"

namespace mtool::metrics {
namespace {

// Whether `text` is well-formed UTF-8 (shortest forms, no surrogates, at most U+10FFFF).
bool valid_utf8(std::string_view text) {
  for (std::size_t i = 0; i < text.size();) {
    const auto byte = [&](std::size_t at) { return static_cast<unsigned char>(text[at]); };
    const unsigned char lead = byte(i);
    std::size_t length = 0;
    unsigned code = 0;
    if (lead < 0x80) {
      ++i;
      continue;
    }
    if (lead >= 0xC2 && lead <= 0xDF) {
      length = 2;
      code = lead & 0x1Fu;
    } else if (lead >= 0xE0 && lead <= 0xEF) {
      length = 3;
      code = lead & 0x0Fu;
    } else if (lead >= 0xF0 && lead <= 0xF4) {
      length = 4;
      code = lead & 0x07u;
    } else {
      return false;
    }
    if (i + length > text.size()) return false;
    for (std::size_t k = 1; k < length; ++k) {
      if ((byte(i + k) & 0xC0u) != 0x80u) return false;
      code = (code << 6) | (byte(i + k) & 0x3Fu);
    }
    if ((length == 3 && code < 0x800) || (length == 4 && code < 0x10000) || code > 0x10FFFF ||
        (code >= 0xD800 && code <= 0xDFFF))
      return false;
    i += length;
  }
  return true;
}

}  // namespace

bool is_label_name(std::string_view name) {
  if (name.empty() || name.substr(0, 2) == "__") return false;
  for (std::size_t i = 0; i < name.size(); ++i) {
    const char c = name[i];
    const bool letter = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '_';
    const bool digit = c >= '0' && c <= '9';
    if (!letter && !(digit && i > 0)) return false;
  }
  return true;
}

bool add_label(std::string_view assignment, std::span<const std::string_view> reserved,
               LabelMap& labels, std::string& error) {
  const auto equals = assignment.find('=');
  if (equals == std::string_view::npos) {
    error = quoted(assignment) + " is not NAME=VALUE";
    return false;
  }
  const std::string name(assignment.substr(0, equals));
  const std::string_view value = assignment.substr(equals + 1);
  if (!is_label_name(name)) {
    error = quoted(name) + " is not a label name ([a-zA-Z_][a-zA-Z0-9_]*, not beginning with __)";
    return false;
  }
  const auto among = [&](std::span<const std::string_view> names) {
    return std::find(names.begin(), names.end(), name) != names.end();
  };
  if (among(reserved) || among(kPrometheusLabelNames)) {
    error = quoted(name) + " is a label mtool or Prometheus sets itself";
    return false;
  }
  if (labels.count(name) != 0) {
    error = quoted(name) + " is given twice";
    return false;
  }
  if (value.empty()) {
    error = quoted(name) + " has an empty value (Prometheus reads that as no label)";
    return false;
  }
  if (value.size() > kMaxLabelValueBytes || !valid_utf8(value) || first_control_character(value)) {
    error = "the value of " + quoted(name) + " is not up to " +
            std::to_string(kMaxLabelValueBytes) + " bytes of UTF-8 without control characters";
    return false;
  }
  if (labels.size() >= kMaxUserLabels) {
    error = "more than " + std::to_string(kMaxUserLabels) + " labels";
    return false;
  }
  labels.emplace(name, value);
  return true;
}

}  // namespace mtool::metrics
