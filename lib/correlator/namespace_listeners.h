#pragma once
// The correlator's socket inside every container, with nothing to configure: for each network
// namespace that has a process, the daemon enters it (setns, CAP_SYS_ADMIN), binds the abstract
// name MTOOL_SOCKET_ABSTRACT_NAME there, and comes back. A tool in that namespace connects to
// the name; the daemon answers as on its path socket (the caller's namespace from the kernel).
//
// Namespaces are found by scanning /proc and Docker's namespace bind mounts (namespace_scan). A
// listener is closed as soon as neither is left: a listening socket keeps its namespace (and the
// container's host-side veth) alive, so closing must not wait for the namespace to die. While the
// listener is open, the namespace is held, so its inode number cannot be handed to a new one.
#include <sys/types.h>

#include <cstdint>
#include <map>
#include <string>
#include <unordered_set>
#include <utility>
#include <vector>

#include "correlator/namespace_scan.h"
#include "util/clock.h"
#include "util/fd.h"

namespace mtool::correlator {

struct ListenerCounters {
  std::uint64_t opened = 0;
  std::uint64_t closed = 0;
  std::uint64_t taken = 0;   // namespaces where another process held the name first
  std::uint64_t failed = 0;  // namespaces that could not be entered or bound
};

class NamespaceListeners {
 public:
  // Throws nothing: without CAP_SYS_ADMIN (or when entering a namespace is refused) it stays
  // idle and says why in `disabled_reason()`.
  NamespaceListeners();

  struct Changes {
    std::vector<int> opened;         // listening descriptors to watch
    std::vector<int> closed;         // descriptors closed (already removed from any epoll)
    std::vector<std::string> notes;  // one log line per name found taken
  };
  // Finds the namespaces with processes now; opens what is new, closes what is gone.
  Changes rescan(MonoNs now);

  [[nodiscard]] bool is_listener(int fd) const { return fds_.count(fd) != 0; }
  [[nodiscard]] std::size_t count() const { return listeners_.size(); }
  [[nodiscard]] const ListenerCounters& counters() const { return counters_; }
  [[nodiscard]] const std::string& disabled_reason() const { return disabled_; }
  // Namespaces (by cookie) whose name another process held when last tried.
  [[nodiscard]] std::vector<std::uint64_t> taken_namespaces() const;

 private:
  struct Listener {
    UniqueFd socket;
    std::uint64_t cookie = 0;
  };
  struct Taken {
    std::uint64_t cookie = 0;
    MonoNs retry_at{};
  };
  enum class Outcome { kListening, kTaken, kFailed };
  // Enters the namespace at `ns_path`, binds the name there, comes back.
  Outcome open_in(const std::string& ns_path, Listener& out);

  UniqueFd home_;  // the daemon's own network namespace, to come back to
  NamespaceId home_id_{};
  std::string disabled_;
  std::map<NamespaceId, Listener> listeners_;
  std::map<NamespaceId, Taken> taken_;
  std::map<NamespaceId, MonoNs> failed_;  // not retried until then
  std::unordered_set<int> fds_;           // the listeners' descriptors
  ListenerCounters counters_;
};

}  // namespace mtool::correlator
