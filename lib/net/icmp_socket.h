#pragma once
// An ICMP/ICMPv6 socket for echo probes: an unprivileged ICMP datagram ("ping") socket when
// net.ipv4.ping_group_range allows it, else a raw socket (needs CAP_NET_RAW), exactly in
// iputils' order. The receive and error-queue plumbing is ProbeSocket's.
#include <sys/socket.h>

#include <cstdint>
#include <optional>
#include <span>
#include <string>

#include "net/address.h"
#include "net/probe_socket.h"
#include "util/fd.h"

namespace mtool::net {

enum class SocketKind { kDatagram, kRaw };

const char* socket_kind_name(SocketKind kind);  // "SOCK_DGRAM" / "SOCK_RAW"

class IcmpSocket : public ProbeSocket {
 public:
  // Opens a socket of `family`. With `prefer_datagram`, tries SOCK_DGRAM first and falls back
  // to SOCK_RAW on EACCES/EPROTONOSUPPORT (and EAFNOSUPPORT for IPv4), as iputils does.
  // On failure returns nullopt with errno in `error` and the kind last tried in `tried`.
  static std::optional<IcmpSocket> open(int family, bool prefer_datagram, int& error,
                                        SocketKind& tried);

  [[nodiscard]] SocketKind kind() const { return kind_; }
  [[nodiscard]] bool is_raw() const { return kind_ == SocketKind::kRaw; }

  // Deliver only echo replies and the errors ping reports to a raw socket (ICMP_FILTER /
  // ICMP6_FILTER: free, checked before queueing).
  void install_type_filter();
  // Also drop echo replies that do not carry `ident` (classic BPF), for when other pings run
  // on the host.
  void install_ident_filter(std::uint16_t ident_network_order);

 private:
  IcmpSocket(UniqueFd fd, int family, SocketKind kind)
      : ProbeSocket(std::move(fd), family), kind_(kind) {}
  SocketKind kind_;
};

}  // namespace mtool::net
