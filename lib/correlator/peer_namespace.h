#pragma once
// Who is on the other end of a Unix socket: established by the correlator from the kernel's
// record of the peer (its credentials, the namespace its socket was made in), never from what
// the peer says.
#include <sys/types.h>

#include <cstdint>
#include <optional>

namespace mtool::correlator {

struct Peer {
  std::uint64_t netns = 0;  // cookie of the peer's network namespace
  pid_t pid = 0;            // at connect(), in the correlator's pid namespace
  uid_t uid = 0;
};

// The peer of a connected Unix socket, or nullopt if the kernel cannot say (no credentials, a
// kernel without SO_NETNS_COOKIE).
std::optional<Peer> identify_peer(int connected_fd);

}  // namespace mtool::correlator
