#include "net/netns_cookie.h"

#include <sys/socket.h>

#include "util/fd.h"

// Not yet in Debian 12's headers (Linux 5.14).
#ifndef SO_NETNS_COOKIE
#define SO_NETNS_COOKIE 71
#endif

namespace mtool::net {

std::uint64_t netns_cookie_of_socket(int fd) {
  std::uint64_t cookie = 0;
  socklen_t length = sizeof cookie;
  if (getsockopt(fd, SOL_SOCKET, SO_NETNS_COOKIE, &cookie, &length) != 0) return 0;
  return cookie;
}

std::uint64_t own_netns_cookie() {
  // A socket is made in the creator's current namespace; a Unix one needs no privilege.
  const UniqueFd probe(socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0));
  return probe ? netns_cookie_of_socket(probe.get()) : 0;
}

}  // namespace mtool::net
