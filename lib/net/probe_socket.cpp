#include "net/probe_socket.h"

#include <linux/net_tstamp.h>
#include <netinet/in.h>

#include <algorithm>
#include <cerrno>

namespace mtool::net {

bool ProbeSocket::enable_timestamps(bool tx) {
  int flags = SOF_TIMESTAMPING_RX_SOFTWARE | SOF_TIMESTAMPING_SOFTWARE;
  if (tx) {
    flags |= SOF_TIMESTAMPING_TX_SOFTWARE | SOF_TIMESTAMPING_OPT_ID | SOF_TIMESTAMPING_OPT_TSONLY;
  }
  if (set_int_option(SOL_SOCKET, SO_TIMESTAMPING, flags) != 0) {
    // Older kernels: receive stamps alone still make the RTT end at the device.
    tx_timestamps_ = false;
    return set_int_option(SOL_SOCKET, SO_TIMESTAMPNS, 1) == 0;
  }
  tx_timestamps_ = tx;
  return true;
}

int ProbeSocket::set_option(int level, int name, const void* value, socklen_t length) {
  return ::setsockopt(fd_.get(), level, name, value, length) == 0 ? 0 : errno;
}

int ProbeSocket::set_hop_limit(int hops) {
  return family_ == AF_INET6 ? set_int_option(IPPROTO_IPV6, IPV6_UNICAST_HOPS, hops)
                             : set_int_option(IPPROTO_IP, IP_TTL, hops);
}

int ProbeSocket::send_to(std::span<const std::uint8_t> bytes, const IpAddress& destination) {
  const ssize_t sent = destination.empty()
                           ? ::send(fd_.get(), bytes.data(), bytes.size(), 0)
                           : ::sendto(fd_.get(), bytes.data(), bytes.size(), 0,
                                      destination.sockaddr_ptr(), destination.sockaddr_len());
  if (sent < 0) return errno;
  return static_cast<std::size_t>(sent) == bytes.size() ? 0 : EMSGSIZE;
}

namespace {

// One recvmsg() with room for the peer address and ancillary data; both receive paths use it.
struct ReceivedMessage {
  sockaddr_storage name{};
  alignas(cmsghdr) char control[512]{};
  msghdr header{};
  ssize_t length = -1;
};

void receive_message(int fd, std::span<std::uint8_t> buffer, int flags, ReceivedMessage& m) {
  iovec iov{buffer.data(), buffer.size()};
  m.header.msg_name = &m.name;
  m.header.msg_namelen = sizeof m.name;
  m.header.msg_iov = &iov;
  m.header.msg_iovlen = 1;
  m.header.msg_control = m.control;
  m.header.msg_controllen = sizeof m.control;
  m.length = ::recvmsg(fd, &m.header, flags | MSG_DONTWAIT);
  m.header.msg_iov = nullptr;  // iov dies with this frame
  m.header.msg_iovlen = 0;
}

IpAddress peer_of(const ReceivedMessage& m) {
  return IpAddress::from_sockaddr(reinterpret_cast<const sockaddr*>(&m.name), m.header.msg_namelen);
}

}  // namespace

std::optional<Datagram> ProbeSocket::receive(std::span<std::uint8_t> buffer, int& error) {
  ReceivedMessage m;
  receive_message(fd_.get(), buffer, 0, m);
  if (m.length < 0) {
    error = errno;
    return std::nullopt;
  }
  Datagram d;
  d.length = std::min(static_cast<std::size_t>(m.length), buffer.size());
  d.from = peer_of(m);
  d.meta = parse_receive_meta(m.header);
  return d;
}

std::optional<ErrorQueueMessage> ProbeSocket::receive_error(std::span<std::uint8_t> buffer,
                                                            int& error) {
  ReceivedMessage m;
  receive_message(fd_.get(), buffer, MSG_ERRQUEUE, m);
  if (m.length < 0) {
    error = errno;
    return std::nullopt;
  }
  error = 0;
  auto entry = parse_error_queue_meta(m.header);
  if (!entry) return std::nullopt;
  return ErrorQueueMessage{*entry, peer_of(m),
                           std::min(static_cast<std::size_t>(m.length), buffer.size()),
                           parse_receive_meta(m.header)};
}

std::uint16_t ProbeSocket::local_port() const {
  sockaddr_storage address{};
  socklen_t length = sizeof address;
  if (getsockname(fd(), reinterpret_cast<sockaddr*>(&address), &length) != 0) return 0;
  return IpAddress::from_sockaddr(reinterpret_cast<const sockaddr*>(&address), length).port();
}

}  // namespace mtool::net
