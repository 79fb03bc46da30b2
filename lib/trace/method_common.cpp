#include "trace/method_common.h"

#include <fcntl.h>
#include <linux/in6.h>
#include <netinet/in.h>
#include <netinet/ip_icmp.h>

#include <cerrno>
#include <cstring>

#include "net/capabilities.h"
#include "net/source_address.h"
#include "probe/icmp_extensions.h"

namespace mtool::trace {

void fail_runtime(const std::string& what, int err) {
  throw FatalError("\n" + with_errno(what, err), 1);
}

void fail_runtime_or_permission(const std::string& what, int err) {
  if (err == EPERM) {
    throw FatalError("You do not have enough privileges to use this traceroute method.\n" +
                         with_errno(what, err),
                     1);
  }
  fail_runtime(what, err);
}

void bind_probe_socket(int fd, const MethodSetup& setup) {
  if (!setup.device.empty()) {
    if (const int err = net::bind_to_device(fd, setup.device); err != 0) {
      fail_runtime("setsockopt SO_BINDTODEVICE", err);
    }
  }
  net::IpAddress address = setup.source;
  if (address.empty()) {
    address = setup.family == AF_INET6 ? net::IpAddress::v6(in6addr_any)
                                       : net::IpAddress::v4(in_addr{INADDR_ANY});
  }
  address.set_port(static_cast<std::uint16_t>(setup.source_port));
  if (::bind(fd, address.sockaddr_ptr(), address.sockaddr_len()) != 0) fail_runtime("bind", errno);
}

void tune_socket(net::ProbeSocket& socket, const MethodSetup& s, bool opened_nonblocking) {
  const bool v6 = s.family == AF_INET6;
  if (s.debug && socket.set_int_option(SOL_SOCKET, SO_DEBUG, 1) != 0) {
    fail_runtime("setsockopt SO_DEBUG", errno);
  }
  if (s.fwmark != 0) {
    const net::ScopedCapability admin(CAP_NET_ADMIN);
    if (const int err = socket.set_option(SOL_SOCKET, SO_MARK, &s.fwmark, sizeof s.fwmark)) {
      fail_runtime("setsockopt SO_MARK", err);
    }
  }
  bind_probe_socket(socket.fd(), s);
  // Without -F the probes may be fragmented; with it, never (and the kernel reports the MTU).
  const int level = v6 ? IPPROTO_IPV6 : IPPROTO_IP;
  const int option = v6 ? IPV6_MTU_DISCOVER : IP_MTU_DISCOVER;
  // NOLINTBEGIN(bugprone-branch-clone): the IPv4 and IPv6 constants happen to be equal
  const int mode = s.dont_fragment ? (v6 ? IPV6_PMTUDISC_PROBE : IP_PMTUDISC_PROBE)
                                   : (v6 ? IPV6_PMTUDISC_DONT : IP_PMTUDISC_DONT);
  const int fallback = v6 ? IPV6_PMTUDISC_DO : IP_PMTUDISC_DO;
  // NOLINTEND(bugprone-branch-clone)
  if (socket.set_int_option(level, option, mode) != 0) {
    if (!s.dont_fragment || socket.set_int_option(level, option, fallback) != 0) {
      fail_runtime(v6 ? "setsockopt IPV6_MTU_DISCOVER" : "setsockopt IP_MTU_DISCOVER", errno);
    }
  }
  if (s.tos != 0) {
    if (const int err =
            socket.set_int_option(level, v6 ? IPV6_TCLASS : IP_TOS, static_cast<int>(s.tos))) {
      fail_runtime(v6 ? "setsockopt IPV6_TCLASS" : "setsockopt IP_TOS", err);
    }
  }
  if (v6 && s.flow_label != 0) {
    in6_flowlabel_req request{};
    request.flr_label = htonl(s.flow_label & 0x000FFFFF);
    request.flr_action = IPV6_FL_A_GET;
    request.flr_flags = IPV6_FL_F_CREATE;
    request.flr_share = IPV6_FL_S_ANY;
    request.flr_dst = s.destination.in6();
    if (const int err =
            socket.set_option(IPPROTO_IPV6, IPV6_FLOWLABEL_MGR, &request, sizeof request)) {
      fail_runtime("setsockopt IPV6_FLOWLABEL_MGR", err);
    }
  }
  if (v6 && (s.tos != 0 || s.flow_label != 0)) {
    if (const int err = socket.set_int_option(IPPROTO_IPV6, IPV6_FLOWINFO_SEND, 1)) {
      fail_runtime("setsockopt IPV6_FLOWINFO_SEND", err);
    }
  }
  if (s.dont_route && socket.set_int_option(SOL_SOCKET, SO_DONTROUTE, 1) != 0) {
    fail_runtime("setsockopt SO_DONTROUTE", errno);
  }
  socket.enable_timestamps(false);  // kernel receive stamps: the RTT ends at the device
  if (v6) {
    socket.set_int_option(IPPROTO_IPV6, IPV6_RECVHOPLIMIT, 1);
  } else {
    socket.set_int_option(IPPROTO_IP, IP_RECVTTL, 1);
  }
  if (!opened_nonblocking)
    ::fcntl(socket.fd(), F_SETFL, ::fcntl(socket.fd(), F_GETFL) | O_NONBLOCK);
}

void use_recverr(net::ProbeSocket& socket) {
  const bool v6 = socket.family() == AF_INET6;
  if (const int err = socket.set_int_option(v6 ? IPPROTO_IPV6 : IPPROTO_IP,
                                            v6 ? IPV6_RECVERR : IP_RECVERR, 1)) {
    fail_runtime(v6 ? "setsockopt IPV6_RECVERR" : "setsockopt IP_RECVERR", err);
  }
}

std::optional<ProbeReply> reply_from_error(const net::ErrorQueueMessage& message, std::size_t index,
                                           std::span<const std::uint8_t> quote,
                                           const MethodSetup& setup, std::size_t sent_length,
                                           const Clock& clock) {
  ProbeReply reply;
  reply.index = index;
  reply.rx = arrival_time(message.meta, clock);
  reply.reply_ttl = message.meta.ttl > 0 ? message.meta.ttl : 0;
  reply.size = setup.header_length + message.payload_length;  // the quote: IP header onwards
  if (const auto* icmp = std::get_if<net::IcmpErrorReport>(&message.entry)) {
    // Datagram sockets also report redirects and source quenches: not about the path.
    if (setup.family == AF_INET &&
        (icmp->type == ICMP_SOURCE_QUENCH || icmp->type == ICMP_REDIRECT)) {
      return std::nullopt;
    }
    reply.from = icmp->offender;
    reply.icmp = report::IcmpReport{icmp->type, icmp->code, icmp->info};
    if (setup.extensions) {
      if (auto text = probe::decode_icmp_extensions(quote, setup.header_length, sent_length,
                                                    setup.family)) {
        reply.extension = std::move(*text);
      }
    }
    return reply;
  }
  if (const auto* local = std::get_if<net::LocalErrorReport>(&message.entry)) {
    reply.local_error = local->error;
    reply.local_info = local->info;
    return reply;
  }
  return std::nullopt;
}

net::IpAddress local_address(int fd) {
  sockaddr_storage local{};
  socklen_t length = sizeof local;
  if (::getsockname(fd, reinterpret_cast<sockaddr*>(&local), &length) != 0)
    fail_runtime("getsockname", errno);
  return net::IpAddress::from_sockaddr(reinterpret_cast<const sockaddr*>(&local), length);
}

void fill_payload(std::span<std::uint8_t> bytes, std::size_t first) {
  for (std::size_t i = first; i < bytes.size(); ++i)
    bytes[i] = static_cast<std::uint8_t>(0x40 + (i & 0x3F));
}

WallNs arrival_time(const net::ReceiveMeta& meta, const Clock& clock) {
  return meta.kernel_rx ? *meta.kernel_rx : clock.wall_now();
}

std::optional<std::span<const std::uint8_t>> raw_transport_segment(
    std::span<const std::uint8_t> received, int family) {
  if (family != AF_INET) return received;
  if (received.size() < 20) return std::nullopt;
  const std::size_t header_length = static_cast<std::size_t>(received[0] & 0x0F) * 4;
  if (header_length < 20 || received.size() < header_length) return std::nullopt;
  return received.subspan(header_length);
}

int wait_for_sockets(std::vector<pollfd>& fds, Nanos timeout, const sigset_t* sigmask) {
  for (auto& fd : fds) fd.revents = 0;
  const timespec limit = to_timespec(timeout);
  if (fds.empty()) {
    // Nothing to hear from; still honour the timeout (a probe may be due later).
    ppoll(nullptr, 0, &limit, sigmask);
    return 0;
  }
  const int n = ppoll(fds.data(), fds.size(), &limit, sigmask);
  return n < 0 ? 0 : n;
}

}  // namespace mtool::trace
