#pragma once
// Network namespaces by their cookie (SO_NETNS_COOKIE; the kernel's net->net_cookie, which the
// correlator's programs read): unique while the machine runs, unlike inode numbers, which the
// kernel hands to the next namespace as soon as one is gone.
#include <cstdint>

namespace mtool::net {

// The cookie of the namespace socket `fd` was created in; 0 if the kernel cannot say.
std::uint64_t netns_cookie_of_socket(int fd);

// The cookie of the calling thread's network namespace; 0 if unknown.
std::uint64_t own_netns_cookie();

}  // namespace mtool::net
