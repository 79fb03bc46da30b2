#include "probe/icmp_extensions.h"

#include <sys/socket.h>

#include <cstdio>

#include "probe/icmp_codec.h"
#include "util/bytes.h"

namespace mtool::probe {
namespace {

constexpr std::size_t kRfc4884Offset = 128;
constexpr std::size_t kExtensionHeader = 4;  // version/reserved, reserved, checksum
constexpr std::size_t kObjectHeader = 4;     // length, class, c-type
constexpr std::uint8_t kMplsClass = 1;
constexpr std::uint8_t kMplsType = 1;

std::optional<std::string> try_extension(std::span<const std::uint8_t> bytes) {
  if (bytes.size() < 8) return std::nullopt;
  if ((bytes[0] >> 4) != 2) return std::nullopt;  // version 2
  const std::uint16_t checksum = static_cast<std::uint16_t>((bytes[2] << 8) | bytes[3]);
  if (checksum != 0 && internet_checksum(bytes) != 0) return std::nullopt;
  std::string text;
  auto rest = bytes.subspan(kExtensionHeader);
  while (rest.size() >= kObjectHeader) {
    const std::size_t length = static_cast<std::size_t>((rest[0] << 8) | rest[1]);
    if (length < kObjectHeader || length > rest.size()) return std::nullopt;
    const std::size_t data_length = length - kObjectHeader;
    if (data_length % 4 != 0) return std::nullopt;
    const std::size_t words = data_length / 4;
    const std::uint8_t object_class = rest[2];
    const std::uint8_t object_type = rest[3];
    const std::uint8_t* data = rest.data() + kObjectHeader;
    if (!text.empty()) text += ';';
    char item[64];
    if (object_class == kMplsClass && object_type == kMplsType && words >= 1) {
      text += "MPLS:";
      for (std::size_t i = 0; i < words; ++i) {
        const std::uint32_t entry = load32(data + 4 * i);
        std::snprintf(item, sizeof item, "%sL=%u,E=%u,S=%u,T=%u", i != 0 ? "/" : "", entry >> 12,
                      (entry >> 9) & 0x7, (entry >> 8) & 0x1, entry & 0xff);
        text += item;
      }
    } else {
      std::snprintf(item, sizeof item, "%u/%u:", object_class, object_type);
      text += item;
      for (std::size_t i = 0; i < words; ++i) {
        std::snprintf(item, sizeof item, "%s%08x", i != 0 ? "," : "", load32(data + 4 * i));
        text += item;
      }
    }
    rest = rest.subspan(length);
  }
  if (!rest.empty()) return std::nullopt;
  return text;
}

}  // namespace

std::optional<std::string> decode_icmp_extensions(std::span<const std::uint8_t> payload,
                                                  std::size_t header_length,
                                                  std::size_t data_length, int family) {
  if (header_length > kRfc4884Offset || header_length + payload.size() < kRfc4884Offset + 8) {
    return std::nullopt;
  }
  auto at = payload.subspan(kRfc4884Offset - header_length);
  if (payload.size() > data_length) return try_extension(at);  // the quote was padded
  const std::size_t step = family == AF_INET ? 4 : 8;
  for (; at.size() >= 8; at = at.subspan(std::min(step, at.size()))) {
    if (auto text = try_extension(at)) return text;
  }
  return std::nullopt;
}

}  // namespace mtool::probe
