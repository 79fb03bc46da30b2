#pragma once
// A socket that sends probes and hears what comes back: the descriptor, kernel timestamps, and
// the receive and error-queue plumbing every probe method shares (ping's ICMP socket,
// traceroute's UDP, ICMP and TCP sockets).
#include <sys/socket.h>

#include <cstdint>
#include <optional>
#include <span>

#include "net/address.h"
#include "net/socket_messages.h"
#include "util/fd.h"

namespace mtool::net {

struct Datagram {
  std::size_t length = 0;  // bytes written into the caller's buffer
  IpAddress from;
  ReceiveMeta meta;
};

struct ErrorQueueMessage {
  ErrorQueueEntry entry;
  IpAddress original_destination;  // msg_name: where the offending datagram was going
  std::size_t payload_length = 0;  // bytes of the offending datagram copied to the buffer
  ReceiveMeta meta;                // for an ICMP error: when it arrived, and its TTL
};

class ProbeSocket {
 public:
  ProbeSocket(UniqueFd fd, int family) : fd_(std::move(fd)), family_(family) {}

  [[nodiscard]] int fd() const { return fd_.get(); }
  [[nodiscard]] int family() const { return family_; }
  // The local port (a datagram ICMP socket's identifier), 0 before binding or on error.
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
  // The unicast TTL / hop limit of what is sent next. Returns 0 or errno.
  int set_hop_limit(int hops);

  // sendto() (send() when `destination` is empty: a connected socket); 0 on a complete send,
  // else errno.
  int send_to(std::span<const std::uint8_t> bytes, const IpAddress& destination);
  // Non-blocking receive of one datagram into `buffer`.
  std::optional<Datagram> receive(std::span<std::uint8_t> buffer, int& error);
  // Non-blocking read of one error-queue message; the offending datagram's start lands in
  // `buffer`. nullopt with error 0: an entry nobody uses was consumed; read on.
  std::optional<ErrorQueueMessage> receive_error(std::span<std::uint8_t> buffer, int& error);

 private:
  UniqueFd fd_;
  int family_;
  bool tx_timestamps_ = false;
};

}  // namespace mtool::net
