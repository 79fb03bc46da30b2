#pragma once
// The network namespaces in use on the host, found without entering any: every process's
// /proc/PID/ns/net (the daemon runs in the host's pid namespace, so it sees every container's
// processes) and the bind mounts that hold namespaces with no process yet or any more. What the
// namespace listeners open sockets in, and what the metrics keep a namespace's series for.
#include <sys/types.h>

#include <map>
#include <optional>
#include <string>
#include <utility>

namespace mtool::correlator {

// A namespace file's identity: (device, inode) of nsfs.
using NamespaceId = std::pair<dev_t, ino_t>;

struct NamespaceSeen {
  std::string path;  // opens the namespace: /proc/PID/ns/net, or a bind mount
  pid_t pid = 0;     // a process in it (the first found), 0 if only a bind mount holds it
};

// Where to look besides the processes.
enum class BindMounts {
  kDocker,          // Docker's /run/docker/netns (there before a container's first process)
  kDockerAndNamed,  // and `ip netns`'s /run/netns (which CNI plugins use for pods too)
};

// The namespaces in use now, each with one way to open it; the processes' paths come first.
std::map<NamespaceId, NamespaceSeen> namespaces_in_use(BindMounts mounts);

// The identity of the namespace file at `path`, if it exists.
std::optional<NamespaceId> namespace_id(const std::string& path);

}  // namespace mtool::correlator
