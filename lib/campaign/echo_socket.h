#pragma once
// The real EchoEndpoint: one ICMP socket (datagram first, raw fallback) set up for a whole
// campaign's pings, to any destination, through the probe engine's SocketEchoTransport.
#include <cstdint>
#include <memory>
#include <string>

#include "campaign/echo_channel.h"
#include "net/icmp_socket.h"
#include "util/clock.h"

namespace mtool::campaign {

class EchoSocket final : public EchoEndpoint {
 public:
  // Atlas' largest ping size: every payload is a prefix of one pattern this long.
  static constexpr std::size_t kMaxEchoData = 2048;

  // Opens the family's socket (needs CAP_NET_RAW or net.ipv4.ping_group_range); nullptr and
  // why in `unavailable` when it cannot. `ident`: the identifier on a raw socket.
  static std::unique_ptr<EchoSocket> open(int family, std::uint16_t ident, const Clock& clock,
                                          std::string& unavailable);

  EchoSocket(net::IcmpSocket socket, std::uint16_t ident, const Clock& clock);

  int send_echo_to(const net::IpAddress& destination, std::size_t datalen, std::uint16_t sequence,
                   std::uint64_t number) override {
    return transport_.send_echo_to(destination, datalen, sequence, number);
  }
  std::optional<probe::EchoEvent> next_event() override { return transport_.next_event(); }
  [[nodiscard]] std::uint16_t wire_ident() const override { return transport_.wire_ident(); }
  [[nodiscard]] int fd() const override { return socket_.fd(); }

 private:
  net::IcmpSocket socket_;  // before transport_, which keeps a reference to it
  probe::SocketEchoTransport transport_;
};

}  // namespace mtool::campaign
