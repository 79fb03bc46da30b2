// libFuzzer target for the parsers of untrusted bytes: parse_icmp (what an ICMP socket hands
// us) and the control-message decoders (what recvmsg() puts in msg_control).
//
// Input: byte 0 chooses how parse_icmp sees the rest (IPv4 raw with IP header, IPv4 datagram
// socket, ICMPv6); the rest is the datagram. The same bytes are then used as a control buffer.
// Every buffer is an exact-size heap copy, so AddressSanitizer catches any read past the end.
#include <sys/socket.h>

#include <cstdint>
#include <cstdlib>
#include <cstring>
#include <memory>
#include <span>
#include <variant>

#include "net/socket_messages.h"
#include "probe/icmp_codec.h"

namespace {

[[noreturn]] void fail() { std::abort(); }

void check_icmp(std::span<const std::uint8_t> datagram, int family, bool with_ip_header) {
  const mtool::probe::IcmpMessage m = mtool::probe::parse_icmp(datagram, family, with_ip_header);
  if (m.kind == mtool::probe::IcmpKind::kMalformed) {
    if (!m.icmp.empty() || m.quoted) fail();
    return;
  }
  // The ICMP view must lie inside the datagram and hold at least a header.
  if (m.icmp.size() < mtool::probe::kIcmpHeaderLength) fail();
  if (m.icmp.data() < datagram.data() ||
      m.icmp.data() + m.icmp.size() > datagram.data() + datagram.size()) {
    fail();
  }
  if (m.type != m.icmp[0] || m.code != m.icmp[1]) fail();
  if (with_ip_header && (m.ttl < 0 || m.ttl > 255)) fail();
  if (m.quoted) {
    const bool is_error =
        m.kind == mtool::probe::IcmpKind::kError || m.kind == mtool::probe::IcmpKind::kNotice;
    if (!is_error || m.quoted->destination.family() != family) fail();
    (void)m.quoted->destination.to_string();
  }
  // Touch every byte the view claims, so a bad span shows up under ASan.
  volatile std::uint8_t sink = 0;
  for (const std::uint8_t b : m.icmp) sink = static_cast<std::uint8_t>(sink ^ b);
  (void)sink;
}

void check_control(const std::uint8_t* data, std::size_t size) {
  // Exact-size, suitably aligned copy (operator new[] aligns for any fundamental type).
  std::unique_ptr<unsigned char[]> control(size != 0 ? new unsigned char[size] : nullptr);
  if (size != 0) std::memcpy(control.get(), data, size);
  msghdr msg{};
  msg.msg_control = control.get();
  msg.msg_controllen = size;

  const mtool::net::ReceiveMeta meta = mtool::net::parse_receive_meta(msg);
  if (meta.ttl < -1 || meta.ttl > 255) fail();

  if (const auto entry = mtool::net::parse_error_queue_meta(msg)) {
    if (const auto* icmp = std::get_if<mtool::net::IcmpErrorReport>(&*entry)) {
      if (!icmp->offender.empty() && !icmp->offender.is_v4() && !icmp->offender.is_v6()) fail();
      (void)icmp->offender.to_string();
    }
  }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  if (size == 0) return 0;
  const std::uint8_t selector = data[0];
  const std::size_t length = size - 1;

  std::unique_ptr<std::uint8_t[]> datagram(new std::uint8_t[length == 0 ? 1 : length]);
  if (length != 0) std::memcpy(datagram.get(), data + 1, length);
  const std::span<const std::uint8_t> bytes(datagram.get(), length);
  switch (selector % 3) {
    case 0:
      check_icmp(bytes, AF_INET, true);
      break;
    case 1:
      check_icmp(bytes, AF_INET, false);
      break;
    default:
      check_icmp(bytes, AF_INET6, false);
      break;
  }

  check_control(data + 1, length);
  return 0;
}
