#include "campaign/echo_socket.h"

#include <netinet/in.h>

#include "campaign/sequence_owners.h"
#include "util/error.h"

namespace mtool::campaign {
namespace {

probe::EchoConfig shared_config(std::uint16_t ident) {
  probe::EchoConfig config;
  config.ident = ident;
  config.datalen = EchoSocket::kMaxEchoData;
  config.payload.resize(EchoSocket::kMaxEchoData);
  for (std::size_t i = 0; i < EchoSocket::kMaxEchoData; ++i)
    config.payload[i] = static_cast<std::uint8_t>(i);
  config.max_in_flight = static_cast<int>(SequenceOwners::kSequences);
  return config;
}

}  // namespace

std::unique_ptr<EchoSocket> EchoSocket::open(int family, std::uint16_t ident, const Clock& clock,
                                             std::string& unavailable) {
  int error = 0;
  net::SocketKind tried = net::SocketKind::kDatagram;
  auto socket = net::IcmpSocket::open(family, true, error, tried);
  if (!socket) {
    unavailable = with_errno(std::string("socket ") + net::socket_kind_name(tried), error);
    return nullptr;
  }
  socket->enable_timestamps(false);
  // The replies' TTL, for Atlas' "ttl" (a raw IPv4 socket reads it from the IP header), and
  // ICMP errors about our echoes in the error queue (unreachable: Atlas' per-packet "error").
  if (family == AF_INET6) {
    socket->set_int_option(IPPROTO_IPV6, IPV6_RECVHOPLIMIT, 1);
    socket->set_int_option(IPPROTO_IPV6, IPV6_RECVERR, 1);
  } else {
    if (!socket->is_raw()) socket->set_int_option(IPPROTO_IP, IP_RECVTTL, 1);
    socket->set_int_option(IPPROTO_IP, IP_RECVERR, 1);
  }
  if (socket->is_raw()) socket->install_type_filter();
  // Many runs in flight: a deep receive queue rides out bursts of replies.
  socket->set_int_option(SOL_SOCKET, SO_RCVBUF, 4 << 20);
  return std::make_unique<EchoSocket>(std::move(*socket), ident, clock);
}

EchoSocket::EchoSocket(net::IcmpSocket socket, std::uint16_t ident, const Clock& clock)
    : socket_(std::move(socket)), transport_(socket_, shared_config(ident), clock) {}

}  // namespace mtool::campaign
