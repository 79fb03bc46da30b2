#pragma once
// The probe engine's transport for ICMP echo: sends numbered echo requests, remembers when each
// left (user-space and kernel transmit timestamps), and turns what the socket delivers into
// events matched to those probes. The ping loop talks only to the EchoTransport interface, so
// tests drive it with a simulated network and clock.
#include <signal.h>

#include <array>
#include <cstdint>
#include <deque>
#include <optional>
#include <variant>
#include <vector>

#include "net/address.h"
#include "net/icmp_socket.h"
#include "util/clock.h"

namespace mtool::probe {

// What the engine knows about one sent echo request.
struct SentEcho {
  std::uint16_t sequence = 0;
  std::uint16_t datalen = 0;        // ICMP data bytes sent
  std::uint64_t number = 0;         // 1-based transmit count; 0 marks an empty slot
  WallNs user_tx{};                 // wall clock just before sendto()
  std::optional<WallNs> kernel_tx;  // kernel software transmit timestamp, when delivered
  MonoNs user_tx_mono{};            // user_tx on the correlator's clock (CLOCK_MONOTONIC)
};

struct EchoReplyEvent {
  std::uint16_t sequence = 0;
  net::IpAddress from;
  int ttl = -1;
  std::size_t icmp_length = 0;  // ICMP header + data as received
  bool checksum_ok = true;
  WallNs rx_time{};  // kernel receive timestamp, or user time when none came
  bool rx_from_kernel = false;
  std::optional<SentEcho> sent;  // the request it answers; nullopt if we never sent it
};

struct IcmpErrorEvent {
  std::uint16_t sequence = 0;
  net::IpAddress offender;
  net::IpAddress original_destination;  // where the echo it reports on was going
  int family = 0;
  std::uint8_t type = 0;
  std::uint8_t code = 0;
  std::uint32_t info = 0;
};

// Redirect or source quench about one of our echoes (informational, raw sockets only).
struct IcmpNoticeEvent {
  std::uint16_t sequence = 0;
  net::IpAddress from;
  int family = 0;
  std::uint8_t type = 0;
  std::uint8_t code = 0;
  std::uint32_t info = 0;
  bool checksum_ok = true;
};

struct LocalErrorEvent {
  int error = 0;
  std::uint32_t info = 0;
  int family = 0;
};

using EchoEvent = std::variant<EchoReplyEvent, IcmpErrorEvent, IcmpNoticeEvent, LocalErrorEvent>;

class EchoTransport {
 public:
  virtual ~EchoTransport() = default;
  // Sends echo request `sequence` (transmit number `number`). Returns 0 or errno.
  virtual int send_echo(std::uint16_t sequence, std::uint64_t number) = 0;
  // Blocks until input may be pending, `timeout` passes (negative: forever), or a signal
  // arrives. Returns true when input may be pending.
  virtual bool wait(Nanos timeout) = 0;
  // The next event, without blocking; nullopt when nothing is pending.
  virtual std::optional<EchoEvent> next_event() = 0;
  // How the network knows these echoes, as the correlator keys them: the address family, and
  // the identifier the kernel puts on the wire (known after the first send).
  [[nodiscard]] virtual int family() const = 0;
  [[nodiscard]] virtual std::uint16_t wire_ident() const = 0;
};

struct EchoConfig {
  // Empty: many destinations (send_echo_to), and the caller checks where replies come from.
  net::IpAddress destination;
  std::uint16_t ident = 0;            // identifier on the wire (raw sockets only)
  std::size_t datalen = 56;           // ICMP data bytes (with many destinations: the most sent)
  std::vector<std::uint8_t> payload;  // datalen bytes: the fill pattern
  bool stamp_payload = true;          // put the send time in the first 16 data bytes
  int max_in_flight = 1;              // preload: how many sends may await replies
  bool user_latency = false;          // -U: take receive time in user space
  const sigset_t* wait_sigmask = nullptr;  // signals to unblock while waiting
};

class SocketEchoTransport final : public EchoTransport {
 public:
  SocketEchoTransport(net::IcmpSocket& socket, EchoConfig config, const Clock& clock);

  int send_echo(std::uint16_t sequence, std::uint64_t number) override;
  // The same to any destination, with `datalen` <= the configured data bytes.
  int send_echo_to(const net::IpAddress& destination, std::size_t datalen, std::uint16_t sequence,
                   std::uint64_t number);
  [[nodiscard]] int family() const override { return socket_.family(); }
  [[nodiscard]] std::uint16_t wire_ident() const override { return wire_ident_; }
  bool wait(Nanos timeout) override;
  std::optional<EchoEvent> next_event() override;

 private:
  // Send records kept: enough for every probe in flight (up to -l 65536), small by default so
  // a flood's resident memory stays low.
  std::size_t ring_size_;
  void drain_error_queue();
  std::optional<EchoEvent> classify(std::size_t length, const net::Datagram& datagram);
  SentEcho* find_sent(std::uint16_t sequence);
  // Whether a quoted echo went where this transport sends (any address when it has many).
  [[nodiscard]] bool to_destination(const net::IpAddress& address) const {
    return config_.destination.empty() || address.same_host(config_.destination);
  }

  net::IcmpSocket& socket_;
  EchoConfig config_;
  const Clock& clock_;
  std::vector<std::uint8_t> packet_;
  std::vector<std::uint8_t> receive_buffer_;
  std::vector<SentEcho> sent_;
  // Kernel timestamp keys (SOF_TIMESTAMPING_OPT_ID) count sends; remember which echo each was.
  std::vector<std::uint16_t> key_to_sequence_;
  std::uint32_t next_key_ = 0;
  bool error_pending_ = false;
  bool filter_installed_ = false;
  std::uint16_t wire_ident_ = 0;  // the identifier the kernel puts on the wire
  std::deque<EchoEvent> pending_;
};

}  // namespace mtool::probe
