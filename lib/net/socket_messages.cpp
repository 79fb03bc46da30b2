#include "net/socket_messages.h"

#include <linux/errqueue.h>
#include <linux/net_tstamp.h>
#include <netinet/in.h>

#include <cstring>

namespace mtool::net {
namespace {

// Whether the cmsg's claimed length stays inside the control buffer. CMSG_NXTHDR checks this
// for the headers it returns, but CMSG_FIRSTHDR does not for the first one.
bool fits(const msghdr& msg, const cmsghdr* c) {
  const auto offset = static_cast<std::size_t>(reinterpret_cast<const unsigned char*>(c) -
                                               static_cast<const unsigned char*>(msg.msg_control));
  return c->cmsg_len <= msg.msg_controllen - offset;
}

template <typename T>
bool read_cmsg(const cmsghdr* c, T& out) {
  if (c->cmsg_len < CMSG_LEN(sizeof(T))) return false;
  std::memcpy(&out, CMSG_DATA(c), sizeof(T));
  return true;
}

// A kernel software timestamp (CLOCK_REALTIME), if it is one (the kernel's always are; garbage
// would overflow).
std::optional<WallNs> wall_stamp(const timespec& ts) {
  if (ts.tv_sec < 0 || ts.tv_sec >= INT64_MAX / kNsPerSec || ts.tv_nsec < 0 ||
      ts.tv_nsec >= kNsPerSec) {
    return std::nullopt;
  }
  return WallNs{timespec_duration(ts)};
}

// SCM_TIMESTAMPING carries three timespecs; the software stamp is the first.
std::optional<WallNs> software_stamp(const cmsghdr* c) {
  timespec ts[3]{};
  if (!read_cmsg(c, ts)) return std::nullopt;
  if (ts[0].tv_sec == 0 && ts[0].tv_nsec == 0) return std::nullopt;
  return wall_stamp(ts[0]);
}

}  // namespace

ReceiveMeta parse_receive_meta(const msghdr& msg) {
  ReceiveMeta meta;
  for (const cmsghdr* c = CMSG_FIRSTHDR(&msg); c != nullptr;
       c = CMSG_NXTHDR(const_cast<msghdr*>(&msg), const_cast<cmsghdr*>(c))) {
    if (!fits(msg, c)) break;
    if (c->cmsg_level == SOL_SOCKET && c->cmsg_type == SO_TIMESTAMPING) {
      meta.kernel_rx = software_stamp(c);
    } else if (c->cmsg_level == SOL_SOCKET && c->cmsg_type == SO_TIMESTAMPNS) {
      timespec ts{};
      if (read_cmsg(c, ts)) meta.kernel_rx = wall_stamp(ts);
    } else if ((c->cmsg_level == SOL_IP && c->cmsg_type == IP_TTL) ||
               (c->cmsg_level == SOL_IPV6 && c->cmsg_type == IPV6_HOPLIMIT)) {
      int ttl = -1;
      if (read_cmsg(c, ttl) && ttl >= 0 && ttl <= 255) meta.ttl = ttl;
    }
  }
  return meta;
}

std::optional<ErrorQueueEntry> parse_error_queue_meta(const msghdr& msg) {
  std::optional<WallNs> stamp;
  const sock_extended_err* ee = nullptr;
  sock_extended_err ee_copy{};
  IpAddress offender;
  for (const cmsghdr* c = CMSG_FIRSTHDR(&msg); c != nullptr;
       c = CMSG_NXTHDR(const_cast<msghdr*>(&msg), const_cast<cmsghdr*>(c))) {
    if (!fits(msg, c)) break;
    if (c->cmsg_level == SOL_SOCKET && c->cmsg_type == SO_TIMESTAMPING) {
      stamp = software_stamp(c);
    } else if ((c->cmsg_level == SOL_IP && c->cmsg_type == IP_RECVERR) ||
               (c->cmsg_level == SOL_IPV6 && c->cmsg_type == IPV6_RECVERR)) {
      if (!read_cmsg(c, ee_copy)) continue;
      ee = &ee_copy;
      // The offender's sockaddr follows the extended error inside the same cmsg.
      const std::size_t room = c->cmsg_len - CMSG_LEN(sizeof(sock_extended_err));
      if (room >= sizeof(sockaddr_in)) {
        sockaddr_storage ss{};
        std::memcpy(&ss, CMSG_DATA(c) + sizeof(sock_extended_err),
                    std::min(room, sizeof(sockaddr_storage)));
        if ((ss.ss_family == AF_INET && room >= sizeof(sockaddr_in)) ||
            (ss.ss_family == AF_INET6 && room >= sizeof(sockaddr_in6))) {
          offender = IpAddress::from_sockaddr(reinterpret_cast<const sockaddr*>(&ss),
                                              static_cast<socklen_t>(room));
        }
      }
    }
  }
  if (ee == nullptr) return std::nullopt;
  switch (ee->ee_origin) {
    case SO_EE_ORIGIN_TIMESTAMPING:
      if (!stamp) return std::nullopt;
      return TxTimestamp{ee->ee_data, *stamp};
    case SO_EE_ORIGIN_ICMP:
    case SO_EE_ORIGIN_ICMP6:
      return IcmpErrorReport{offender, ee->ee_type, ee->ee_code, ee->ee_info};
    case SO_EE_ORIGIN_LOCAL:
      return LocalErrorReport{static_cast<int>(ee->ee_errno), ee->ee_info};
    default:
      return std::nullopt;
  }
}

}  // namespace mtool::net
