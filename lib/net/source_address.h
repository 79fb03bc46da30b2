#pragma once
// Which local address the kernel would use to reach a destination, the way iputils and
// traceroute find out: connect a UDP socket (optionally bound to a device) and ask.
#include <string>

#include "net/address.h"

namespace mtool::net {

struct SourceSelection {
  IpAddress source;
  int error = 0;          // errno of the failing step, 0 on success
  std::string failed_at;  // "socket", "SO_BINDTODEVICE", "connect", "getsockname"
};

SourceSelection select_source_address(const IpAddress& destination, const std::string& device,
                                      bool allow_broadcast);

// SO_BINDTODEVICE with CAP_NET_RAW raised for just that call. Returns 0 or errno.
int bind_to_device(int fd, const std::string& device);

// Whether `address` is configured on interface `device`.
bool address_on_device(const IpAddress& address, const std::string& device);

}  // namespace mtool::net
