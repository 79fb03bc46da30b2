#include "net/icmp_socket.h"

#include <linux/filter.h>
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
  const int protocol =
      family == AF_INET6 ? static_cast<int>(IPPROTO_ICMPV6) : static_cast<int>(IPPROTO_ICMP);
  if (prefer_datagram) {
    tried = SocketKind::kDatagram;
    const int fd = ::socket(family, SOCK_DGRAM | SOCK_CLOEXEC, protocol);
    if (fd >= 0) return IcmpSocket(UniqueFd(fd), family, SocketKind::kDatagram);
    error = errno;
    const bool fallback =
        error == EACCES || error == EPROTONOSUPPORT || (error == EAFNOSUPPORT && family == AF_INET);
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

void IcmpSocket::install_type_filter() {
  if (!is_raw()) return;
  if (family() == AF_INET) {
    // ICMP_FILTER: a set bit blocks the type.
    std::uint32_t blocked =
        ~((1U << ICMP_SOURCE_QUENCH) | (1U << ICMP_DEST_UNREACH) | (1U << ICMP_TIME_EXCEEDED) |
          (1U << ICMP_PARAMETERPROB) | (1U << ICMP_REDIRECT) | (1U << ICMP_ECHOREPLY));
    set_option(SOL_RAW, ICMP_FILTER, &blocked, sizeof blocked);
  } else {
    icmp6_filter filter{};
    ICMP6_FILTER_SETBLOCKALL(&filter);
    for (int type : {ICMP6_ECHO_REPLY, ICMP6_DST_UNREACH, ICMP6_PACKET_TOO_BIG, ICMP6_TIME_EXCEEDED,
                     ICMP6_PARAM_PROB}) {
      ICMP6_FILTER_SETPASS(type, &filter);
    }
    set_option(IPPROTO_ICMPV6, ICMP6_FILTER, &filter, sizeof filter);
  }
}

void IcmpSocket::install_ident_filter(std::uint16_t ident_network_order) {
  if (!is_raw()) return;
  const std::uint16_t ident = ntohs(ident_network_order);
  if (family() == AF_INET) {
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

}  // namespace mtool::net
