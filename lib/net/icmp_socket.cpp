#include "net/icmp_socket.h"

#include <linux/filter.h>
#include <linux/net_tstamp.h>
#include <netinet/icmp6.h>
#include <netinet/in.h>
#include <netinet/ip_icmp.h>

#include <cerrno>
#include <vector>

#include "net/capabilities.h"

#ifndef ICMP_FILTER
#define ICMP_FILTER 1  // linux/icmp.h's raw-socket option; that header clashes with glibc's
#endif

namespace mtool::net {

const char* socket_kind_name(SocketKind kind) {
  return kind == SocketKind::kDatagram ? "SOCK_DGRAM" : "SOCK_RAW";
}

std::optional<IcmpSocket> IcmpSocket::open(int family, bool prefer_datagram, int& error,
                                           SocketKind& tried) {
  const int protocol = family == AF_INET6 ? static_cast<int>(IPPROTO_ICMPV6) : static_cast<int>(IPPROTO_ICMP);
  if (prefer_datagram) {
    tried = SocketKind::kDatagram;
    const int fd = ::socket(family, SOCK_DGRAM | SOCK_CLOEXEC, protocol);
    if (fd >= 0) return IcmpSocket(UniqueFd(fd), family, SocketKind::kDatagram);
    error = errno;
    const bool fallback = error == EACCES || error == EPROTONOSUPPORT ||
                          (error == EAFNOSUPPORT && family == AF_INET);
    if (!fallback) return std::nullopt;
  }
  tried = SocketKind::kRaw;
  const ScopedCapability raw(CAP_NET_RAW);
  const int fd = ::socket(family, SOCK_RAW | SOCK_CLOEXEC, protocol);
  if (fd < 0) {
    error = errno;
    return std::nullopt;
  }
  return IcmpSocket(UniqueFd(fd), family, SocketKind::kRaw);
}

bool IcmpSocket::enable_timestamps(bool tx) {
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

int IcmpSocket::set_option(int level, int name, const void* value, socklen_t length) {
  return ::setsockopt(fd_.get(), level, name, value, length) == 0 ? 0 : errno;
}

void IcmpSocket::install_type_filter() {
  if (!is_raw()) return;
  if (family_ == AF_INET) {
    // ICMP_FILTER: a set bit blocks the type.
    std::uint32_t blocked = ~((1U << ICMP_SOURCE_QUENCH) | (1U << ICMP_DEST_UNREACH) |
                              (1U << ICMP_TIME_EXCEEDED) | (1U << ICMP_PARAMETERPROB) |
                              (1U << ICMP_REDIRECT) | (1U << ICMP_ECHOREPLY));
    set_option(SOL_RAW, ICMP_FILTER, &blocked, sizeof blocked);
  } else {
    icmp6_filter filter{};
    ICMP6_FILTER_SETBLOCKALL(&filter);
    for (int type : {ICMP6_ECHO_REPLY, ICMP6_DST_UNREACH, ICMP6_PACKET_TOO_BIG,
                     ICMP6_TIME_EXCEEDED, ICMP6_PARAM_PROB}) {
      ICMP6_FILTER_SETPASS(type, &filter);
    }
    set_option(IPPROTO_ICMPV6, ICMP6_FILTER, &filter, sizeof filter);
  }
}

void IcmpSocket::install_ident_filter(std::uint16_t ident_network_order) {
  if (!is_raw()) return;
  const std::uint16_t ident = ntohs(ident_network_order);
  if (family_ == AF_INET) {
    // Echo replies must carry our identifier; everything else passes.
    sock_filter code[] = {
        BPF_STMT(BPF_LDX | BPF_B | BPF_MSH, 0),  // X = IP header length
        BPF_STMT(BPF_LD | BPF_H | BPF_IND, 4),   // A = echo identifier
        BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, ident, 0, 1),
        BPF_STMT(BPF_RET | BPF_K, 0xFFFFFFFF),
        BPF_STMT(BPF_LD | BPF_B | BPF_IND, 0),  // A = ICMP type
        BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, ICMP_ECHOREPLY, 1, 0),
        BPF_STMT(BPF_RET | BPF_K, 0xFFFFFFFF),
        BPF_STMT(BPF_RET | BPF_K, 0),
    };
    sock_fprog program{static_cast<unsigned short>(std::size(code)), code};
    set_option(SOL_SOCKET, SO_ATTACH_FILTER, &program, sizeof program);
  } else {
    // ICMPv6 raw sockets see no IP header: the identifier is at offset 4.
    sock_filter code[] = {
        BPF_STMT(BPF_LD | BPF_H | BPF_ABS, 4),
        BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, ident, 0, 1),
        BPF_STMT(BPF_RET | BPF_K, 0xFFFFFFFF),
        BPF_STMT(BPF_LD | BPF_B | BPF_ABS, 0),
        BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, ICMP6_ECHO_REPLY, 1, 0),
        BPF_STMT(BPF_RET | BPF_K, 0xFFFFFFFF),
        BPF_STMT(BPF_RET | BPF_K, 0),
    };
    sock_fprog program{static_cast<unsigned short>(std::size(code)), code};
    set_option(SOL_SOCKET, SO_ATTACH_FILTER, &program, sizeof program);
  }
}

int IcmpSocket::send_to(std::span<const std::uint8_t> bytes, const IpAddress& destination) {
  const ssize_t sent = ::sendto(fd_.get(), bytes.data(), bytes.size(), 0,
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

std::optional<Datagram> IcmpSocket::receive(std::span<std::uint8_t> buffer, int& error) {
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

std::optional<ErrorQueueMessage> IcmpSocket::receive_error(std::span<std::uint8_t> buffer,
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
                           std::min(static_cast<std::size_t>(m.length), buffer.size())};
}

std::uint16_t IcmpSocket::local_port() const {
  sockaddr_storage address{};
  socklen_t length = sizeof address;
  if (getsockname(fd(), reinterpret_cast<sockaddr*>(&address), &length) != 0) return 0;
  if (address.ss_family == AF_INET) return ntohs(reinterpret_cast<const sockaddr_in*>(&address)->sin_port);
  if (address.ss_family == AF_INET6) return ntohs(reinterpret_cast<const sockaddr_in6*>(&address)->sin6_port);
  return 0;
}

}  // namespace mtool::net
