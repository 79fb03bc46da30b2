#pragma once
// Decoding of the ancillary data the kernel attaches to received datagrams and to error-queue
// messages. Pure functions over a msghdr, so they are unit-tested and fuzzed without sockets.
#include <sys/socket.h>

#include <cstdint>
#include <optional>
#include <variant>

#include "net/address.h"
#include "util/clock.h"

namespace mtool::net {

struct ReceiveMeta {
  std::optional<WallNs> kernel_rx;  // software receive timestamp (SO_TIMESTAMPING), wall clock
  int ttl = -1;                     // IP_TTL / IPV6_HOPLIMIT when delivered, else -1
};

// Kernel transmit timestamp of the datagram with the given SOF_TIMESTAMPING_OPT_ID key.
struct TxTimestamp {
  std::uint32_t key = 0;
  WallNs time{};
};

// An ICMP error about a datagram we sent (IP_RECVERR / IPV6_RECVERR, origin ICMP or ICMP6).
struct IcmpErrorReport {
  IpAddress offender;  // who sent the error
  std::uint8_t type = 0;
  std::uint8_t code = 0;
  std::uint32_t info = 0;  // MTU for "fragmentation needed", pointer for parameter problems
};

// A local send error, e.g. EMSGSIZE with the path MTU in `info`.
struct LocalErrorReport {
  int error = 0;
  std::uint32_t info = 0;
};

using ErrorQueueEntry = std::variant<TxTimestamp, IcmpErrorReport, LocalErrorReport>;

ReceiveMeta parse_receive_meta(const msghdr& msg);

// nullopt when the message carries no extended error we understand.
std::optional<ErrorQueueEntry> parse_error_queue_meta(const msghdr& msg);

}  // namespace mtool::net
