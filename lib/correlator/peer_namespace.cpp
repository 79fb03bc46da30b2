#include "correlator/peer_namespace.h"

#include <sys/socket.h>

#include "net/netns_cookie.h"

namespace mtool::correlator {

std::optional<Peer> identify_peer(int connected_fd) {
  ucred credentials{};
  socklen_t length = sizeof credentials;
  if (getsockopt(connected_fd, SOL_SOCKET, SO_PEERCRED, &credentials, &length) != 0 ||
      credentials.pid <= 0) {
    return std::nullopt;
  }
  // The server end of a Unix connection is made in the connecting socket's network namespace
  // (unix_stream_connect), so this end's cookie is the namespace in which the peer's socket
  // was created: a kernel fact, not the peer's word. Only a process of that namespace (or one
  // it handed the socket to, which could as well ask on its behalf) holds such a socket.
  const std::uint64_t cookie = net::netns_cookie_of_socket(connected_fd);
  if (cookie == 0) return std::nullopt;
  return Peer{cookie, credentials.pid, credentials.uid};
}

}  // namespace mtool::correlator
