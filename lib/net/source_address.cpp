#include "net/source_address.h"

#include <ifaddrs.h>
#include <net/if.h>
#include <sys/socket.h>

#include <cerrno>

#include "net/capabilities.h"
#include "util/fd.h"

namespace mtool::net {

SourceSelection select_source_address(const IpAddress& destination, const std::string& device,
                                      bool allow_broadcast) {
  SourceSelection result;
  UniqueFd probe(::socket(destination.family(), SOCK_DGRAM | SOCK_CLOEXEC, 0));
  if (!probe) return {{}, errno, "socket"};
  if (!device.empty()) {
    if (const int err = bind_to_device(probe.get(), device)) return {{}, err, "SO_BINDTODEVICE"};
  }
  if (allow_broadcast) {
    const int on = 1;
    ::setsockopt(probe.get(), SOL_SOCKET, SO_BROADCAST, &on, sizeof on);
  }
  IpAddress dst = destination;
  dst.set_port(1025);
  if (::connect(probe.get(), dst.sockaddr_ptr(), dst.sockaddr_len()) != 0) {
    return {{}, errno, "connect"};
  }
  sockaddr_storage local{};
  socklen_t length = sizeof local;
  if (::getsockname(probe.get(), reinterpret_cast<sockaddr*>(&local), &length) != 0) {
    return {{}, errno, "getsockname"};
  }
  result.source = IpAddress::from_sockaddr(reinterpret_cast<sockaddr*>(&local), length);
  result.source.set_port(0);
  return result;
}

int bind_to_device(int fd, const std::string& device) {
  const ScopedCapability raw(CAP_NET_RAW);
  return ::setsockopt(fd, SOL_SOCKET, SO_BINDTODEVICE, device.c_str(),
                      static_cast<socklen_t>(device.size() + 1)) == 0
             ? 0
             : errno;
}

bool address_on_device(const IpAddress& address, const std::string& device) {
  ifaddrs* list = nullptr;
  if (getifaddrs(&list) != 0) return false;
  bool found = false;
  for (const ifaddrs* ifa = list; ifa != nullptr && !found; ifa = ifa->ifa_next) {
    if (ifa->ifa_addr == nullptr || ifa->ifa_name == nullptr) continue;
    if (device != ifa->ifa_name || ifa->ifa_addr->sa_family != address.family()) continue;
    const socklen_t len = address.is_v4() ? sizeof(sockaddr_in) : sizeof(sockaddr_in6);
    found = IpAddress::from_sockaddr(ifa->ifa_addr, len).same_host(address);
  }
  freeifaddrs(list);
  return found;
}

}  // namespace mtool::net
