#pragma once
// An ICMP/ICMPv6 socket for echo probes: an unprivileged ICMP datagram ("ping") socket when
// net.ipv4.ping_group_range allows it, else a raw socket (needs CAP_NET_RAW), exactly in
// iputils' order. Owns the descriptor and the receive/error-queue plumbing.
#include <sys/socket.h>

#include <cstdint>
#include <optional>
#include <span>
#include <string>

#include "net/address.h"
#include "net/socket_messages.h"
#include "util/fd.h"

namespace mtool::net {

enum class SocketKind { kDatagram, kRaw };

const char* socket_kind_name(SocketKind kind);  // "SOCK_DGRAM" / "SOCK_RAW"

struct Datagram {
  std::size_t length = 0;  // bytes written into the caller's buffer
  IpAddress from;
  ReceiveMeta meta;
};

struct ErrorQueueMessage {
  ErrorQueueEntry entry;
  IpAddress original_destination;  // msg_name: where the offending datagram was going
  std::size_t payload_length = 0;  // bytes of the offending datagram copied to the buffer
};

class IcmpSocket {
 public:
  // Opens a socket of `family`. With `prefer_datagram`, tries SOCK_DGRAM first and falls back
  // to SOCK_RAW on EACCES/EPROTONOSUPPORT (and EAFNOSUPPORT for IPv4), as iputils does.
  // On failure returns nullopt with errno in `error` and the kind last tried in `tried`.
  static std::optional<IcmpSocket> open(int family, bool prefer_datagram, int& error,
                                        SocketKind& tried);

  [[nodiscard]] int fd() const { return fd_.get(); }
  [[nodiscard]] int family() const { return family_; }
  [[nodiscard]] SocketKind kind() const { return kind_; }
  [[nodiscard]] bool is_raw() const { return kind_ == SocketKind::kRaw; }
  // A datagram socket's ICMP identifier: its local port, chosen by the kernel at first send
  // (0 before that, or on error).
  [[nodiscard]] std::uint16_t local_port() const;

  // Ask for kernel software receive timestamps and, when `tx` is set, transmit timestamps
  // keyed by send order (SOF_TIMESTAMPING_OPT_ID). Returns false if the kernel refuses.
  bool enable_timestamps(bool tx);
  [[nodiscard]] bool tx_timestamps_enabled() const { return tx_timestamps_; }

  // setsockopt(); returns 0 or errno.
  int set_option(int level, int name, const void* value, socklen_t length);
  int set_int_option(int level, int name, int value) {
    return set_option(level, name, &value, sizeof value);
  }

  // Deliver only echo replies and the errors ping reports to a raw socket (ICMP_FILTER /
  // ICMP6_FILTER: free, checked before queueing).
  void install_type_filter();
  // Also drop echo replies that do not carry `ident` (classic BPF), for when other pings run
  // on the host.
  void install_ident_filter(std::uint16_t ident_network_order);

  // sendto(); returns 0 on a complete send, else errno.
  int send_to(std::span<const std::uint8_t> bytes, const IpAddress& destination);

  // Non-blocking receive of one datagram into `buffer`.
  std::optional<Datagram> receive(std::span<std::uint8_t> buffer, int& error);
  // Non-blocking read of one error-queue message; the offending datagram's start lands in
  // `buffer`.
  std::optional<ErrorQueueMessage> receive_error(std::span<std::uint8_t> buffer, int& error);

 private:
  IcmpSocket(UniqueFd fd, int family, SocketKind kind)
      : fd_(std::move(fd)), family_(family), kind_(kind) {}
  UniqueFd fd_;
  int family_;
  SocketKind kind_;
  bool tx_timestamps_ = false;
};

}  // namespace mtool::net
