#pragma once
// Who answers at the correlator's abstract name ("\0mtool-correlator" in the tool's own network
// namespace). An abstract name has no owner and no permissions: any process in the namespace
// may bind it first and answer its neighbours with made-up corrections. The correlator binds
// it from outside the container (the host's pid namespace, the host's network namespace for
// its own process), so a tool trusts the peer only when:
//  - SO_PEERCRED shows pid 0: the peer is outside the caller's pid namespace (a container
//    never sees the host's processes); or
//  - the pid is visible (a squatter in our pid namespace, or a container sharing the host's),
//    the peer runs as uid 0 and its network namespace is not ours (a process of the container
//    lives in the container's namespace). Unknown facts are not trusted.
#include <sys/types.h>

#include <optional>

namespace mtool::correlate {

// What the kernel tells about the process that holds a listening socket.
struct PeerFacts {
  pid_t pid = 0;  // SO_PEERCRED, in the caller's pid namespace: 0 when it is not visible there
  uid_t uid = 0;  // SO_PEERCRED, in the caller's user namespace
  // Whether /proc/<pid>/ns/net is the caller's own network namespace; nullopt: unreadable.
  std::optional<bool> shares_our_netns;
};

// Pure: whether the peer may be the correlator (see above).
bool trust_abstract_peer(const PeerFacts& peer);

// The facts about the peer of the connected Unix socket `fd`; nullopt when SO_PEERCRED fails.
// The namespace comparison is read only when the pid is visible.
std::optional<PeerFacts> peer_facts(int fd);

}  // namespace mtool::correlate
