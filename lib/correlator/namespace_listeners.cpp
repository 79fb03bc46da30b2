#include "correlator/namespace_listeners.h"

#include <fcntl.h>
#include <sched.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include <cerrno>
#include <cstddef>
#include <cstring>

#include "correlator/namespace_scan.h"
#include "correlator_abi.h"
#include "net/capabilities.h"
#include "net/netns_cookie.h"
#include "util/error.h"

namespace mtool::correlator {
namespace {

constexpr int kBacklog = 16;
constexpr Nanos kRetryTaken = std::chrono::seconds{10};  // the squatter may leave
constexpr Nanos kRetryFailed = std::chrono::seconds{30};

}  // namespace

NamespaceListeners::NamespaceListeners() {
  if (!net::Capabilities::permitted(CAP_SYS_ADMIN)) {
    disabled_ = "no CAP_SYS_ADMIN to enter them (setns)";
    return;
  }
  home_.reset(::open("/proc/self/ns/net", O_RDONLY | O_CLOEXEC));
  const auto id = namespace_id("/proc/self/ns/net");
  if (!home_ || !id) {
    disabled_ = with_errno("cannot open its own network namespace", errno);
    return;
  }
  home_id_ = *id;
}

NamespaceListeners::Outcome NamespaceListeners::open_in(const std::string& ns_path, Listener& out) {
  const UniqueFd ns(::open(ns_path.c_str(), O_RDONLY | O_CLOEXEC));
  if (!ns || ::setns(ns.get(), CLONE_NEWNET) != 0) return Outcome::kFailed;
  // Inside the container's namespace from here until the setns back: only make the socket.
  UniqueFd socket(::socket(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC | SOCK_NONBLOCK, 0));
  const int socket_error = errno;
  if (::setns(home_.get(), CLONE_NEWNET) != 0) {
    // Stuck in a container's namespace: nothing the daemon does would be right any more.
    throw FatalError(with_errno("cannot return to the host's network namespace", errno), 1);
  }
  if (!socket) {
    errno = socket_error;
    return Outcome::kFailed;
  }
  out.cookie = net::netns_cookie_of_socket(socket.get());
  sockaddr_un address{};
  address.sun_family = AF_UNIX;
  constexpr std::size_t kNameLength = sizeof(MTOOL_SOCKET_ABSTRACT_NAME) - 1;
  std::memcpy(address.sun_path + 1, MTOOL_SOCKET_ABSTRACT_NAME, kNameLength);
  const auto length = static_cast<socklen_t>(offsetof(sockaddr_un, sun_path) + 1 + kNameLength);
  // The socket belongs to the container's namespace whatever ours is now: so does its name.
  if (::bind(socket.get(), reinterpret_cast<sockaddr*>(&address), length) != 0) {
    return errno == EADDRINUSE ? Outcome::kTaken : Outcome::kFailed;
  }
  if (::listen(socket.get(), kBacklog) != 0) return Outcome::kFailed;
  out.socket = std::move(socket);
  return Outcome::kListening;
}

NamespaceListeners::Changes NamespaceListeners::rescan(MonoNs now) {
  Changes changes;
  if (!disabled_.empty()) return changes;
  const auto alive = namespaces_in_use(BindMounts::kDocker);
  // Gone: no process left in it.
  for (auto it = listeners_.begin(); it != listeners_.end();) {
    if (alive.count(it->first) != 0) {
      ++it;
      continue;
    }
    changes.closed.push_back(it->second.socket.get());
    fds_.erase(it->second.socket.get());
    ++counters_.closed;
    it = listeners_.erase(it);  // closes the socket, which releases the namespace
  }
  std::erase_if(taken_, [&](const auto& t) { return alive.count(t.first) == 0; });
  std::erase_if(failed_, [&](const auto& f) { return alive.count(f.first) == 0; });
  // New, or due for another try.
  for (const auto& [id, seen] : alive) {
    const std::string& path = seen.path;
    if (id == home_id_ || listeners_.count(id) != 0) continue;
    if (const auto t = taken_.find(id); t != taken_.end() && now < t->second.retry_at) continue;
    if (const auto f = failed_.find(id); f != failed_.end() && now < f->second) continue;
    Listener listener;
    switch (open_in(path, listener)) {
      case Outcome::kListening:
        taken_.erase(id);
        failed_.erase(id);
        changes.opened.push_back(listener.socket.get());
        fds_.insert(listener.socket.get());
        ++counters_.opened;
        listeners_.emplace(id, std::move(listener));
        break;
      case Outcome::kTaken:
        if (taken_.count(id) == 0) {
          ++counters_.taken;
          changes.notes.push_back("the name " MTOOL_SOCKET_ABSTRACT_NAME
                                  " is taken in network namespace " +
                                  std::to_string(listener.cookie) + " (seen from " + path +
                                  "): its tools will not be answered there");
        }
        taken_[id] = Taken{listener.cookie, now + kRetryTaken};
        break;
      case Outcome::kFailed:
        ++counters_.failed;
        failed_[id] = now + kRetryFailed;
        break;
    }
  }
  return changes;
}

std::vector<std::uint64_t> NamespaceListeners::taken_namespaces() const {
  std::vector<std::uint64_t> out;
  for (const auto& [id, t] : taken_) out.push_back(t.cookie);
  return out;
}

}  // namespace mtool::correlator
