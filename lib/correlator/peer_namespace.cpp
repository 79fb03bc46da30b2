#include "correlator/peer_namespace.h"

#include <fcntl.h>
#include <signal.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <cstdio>
#include <fstream>
#include <string>

#include "util/fd.h"

// Not yet in Debian 12's headers (Linux 6.5 and 6.11).
#ifndef SO_PEERPIDFD
#define SO_PEERPIDFD 77
#endif
#ifndef PIDFD_GET_NET_NAMESPACE
#define PIDFD_GET_NET_NAMESPACE _IO(0xFF, 4)
#endif

namespace mtool::correlator {
namespace {

std::optional<std::uint32_t> inode_of(int fd) {
  struct stat st {};
  if (fstat(fd, &st) != 0) return std::nullopt;
  return static_cast<std::uint32_t>(st.st_ino);
}

// The pid a pidfd refers to, in our pid namespace (from /proc/self/fdinfo).
std::optional<pid_t> pid_of(int pidfd) {
  std::ifstream info("/proc/self/fdinfo/" + std::to_string(pidfd));
  std::string line;
  while (std::getline(info, line)) {
    if (line.rfind("Pid:", 0) == 0) {
      const long pid = std::strtol(line.c_str() + 4, nullptr, 10);
      if (pid > 0) return static_cast<pid_t>(pid);
      return std::nullopt;
    }
  }
  return std::nullopt;
}

bool alive(int pidfd) { return syscall(SYS_pidfd_send_signal, pidfd, 0, nullptr, 0) == 0; }

}  // namespace

std::optional<std::uint32_t> peer_netns(int connected_fd) {
  int raw_pidfd = -1;
  socklen_t length = sizeof raw_pidfd;
  if (getsockopt(connected_fd, SOL_SOCKET, SO_PEERPIDFD, &raw_pidfd, &length) != 0 ||
      raw_pidfd < 0) {
    return std::nullopt;
  }
  const UniqueFd pidfd(raw_pidfd);
  // Linux 6.11+: the namespace straight from the pidfd, with no window for pid reuse.
  if (const UniqueFd ns(ioctl(pidfd.get(), PIDFD_GET_NET_NAMESPACE, 0)); ns)
    return inode_of(ns.get());
  // Older kernels: through /proc, then make sure the pid was still the peer's afterwards.
  const auto pid = pid_of(pidfd.get());
  if (!pid) return std::nullopt;
  const UniqueFd ns(
      open(("/proc/" + std::to_string(*pid) + "/ns/net").c_str(), O_RDONLY | O_CLOEXEC));
  if (!ns || !alive(pidfd.get())) return std::nullopt;
  return inode_of(ns.get());
}

}  // namespace mtool::correlator
