#pragma once
// Who is on the other end of a Unix socket, as far as the network namespace goes: established
// by the correlator from the kernel's record of the peer (a pidfd), never from what the peer
// says.
#include <cstdint>
#include <optional>

namespace mtool::correlator {

// The inode number of the peer's network namespace, or nullopt if it cannot be established
// (the peer exited, or the kernel lacks SO_PEERPIDFD and /proc is not ours).
std::optional<std::uint32_t> peer_netns(int connected_fd);

}  // namespace mtool::correlator
