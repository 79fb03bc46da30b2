#include "correlator/namespace_scan.h"

#include <dirent.h>
#include <sys/stat.h>

#include <cstdlib>

namespace mtool::correlator {
namespace {

// Seen through the host's root (pid 1's, as the daemon runs in the host's pid namespace), so a
// daemon in a container with its own /run still finds them.
constexpr const char* kDockerNamespaces = "/proc/1/root/run/docker/netns";
// `ip netns`'s, from the host's root and from ours (pid 1's root may be out of reach, when the
// daemon runs in a sandbox that shares the host's /run).
constexpr const char* kNamedNamespaces[] = {"/proc/1/root/run/netns", "/run/netns"};

void add_entries(const std::string& dir, const char* suffix, bool processes,
                 std::map<NamespaceId, NamespaceSeen>& found) {
  DIR* d = ::opendir(dir.c_str());
  if (d == nullptr) return;
  while (const dirent* entry = ::readdir(d)) {
    if (entry->d_name[0] == '.') continue;
    if (processes && (entry->d_name[0] < '1' || entry->d_name[0] > '9')) continue;
    const std::string path = dir + "/" + entry->d_name + suffix;
    if (const auto id = namespace_id(path)) {
      const pid_t pid = processes ? static_cast<pid_t>(std::atol(entry->d_name)) : 0;
      found.emplace(*id, NamespaceSeen{path, pid});
    }
  }
  ::closedir(d);
}

}  // namespace

std::optional<NamespaceId> namespace_id(const std::string& path) {
  struct stat st {};
  if (::stat(path.c_str(), &st) != 0) return std::nullopt;
  return std::make_pair(st.st_dev, st.st_ino);
}

std::map<NamespaceId, NamespaceSeen> namespaces_in_use(BindMounts mounts) {
  std::map<NamespaceId, NamespaceSeen> found;
  add_entries("/proc", "/ns/net", true, found);
  add_entries(kDockerNamespaces, "", false, found);
  if (mounts == BindMounts::kDockerAndNamed) {
    for (const char* dir : kNamedNamespaces) add_entries(dir, "", false, found);
  }
  return found;
}

}  // namespace mtool::correlator
