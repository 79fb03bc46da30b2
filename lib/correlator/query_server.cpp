#include "correlator/query_server.h"

#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

#include "correlator/private_paths.h"
#include "correlator_abi.h"
#include "pinned_maps/record_reader.h"
#include "util/error.h"

namespace mtool::correlator {
namespace {

constexpr int kExitFailure = 1;
constexpr int kBacklog = 128;

}  // namespace

QueryServer::QueryServer(Setup setup, std::function<std::string(bool)> status_text,
                         std::function<void(std::uint64_t)> subscribe)
    : setup_(std::move(setup)),
      reader_(setup_.records_fd, setup_.devices_fd),
      status_text_(std::move(status_text)),
      subscribe_(std::move(subscribe)) {
  const std::string& path = setup_.path;
  sockaddr_un address{};
  address.sun_family = AF_UNIX;
  if (path.size() >= sizeof(address.sun_path)) {
    throw FatalError("socket path too long: " + path, kExitFailure);
  }
  std::memcpy(address.sun_path, path.c_str(), path.size() + 1);
  prepare_socket_path(path);  // throws unless the place is ours and holds no foreign file
  listener_.reset(::socket(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC | SOCK_NONBLOCK, 0));
  if (!listener_) throw FatalError(with_errno("socket", errno), kExitFailure);
  // Made 0666 by bind itself: a chmod afterwards would follow whatever is at the path by then.
  const mode_t previous = ::umask(0111);
  const int bound = ::bind(listener_.get(), reinterpret_cast<sockaddr*>(&address), sizeof address);
  const int bind_error = errno;
  ::umask(previous);
  if (bound != 0) throw FatalError(with_errno("cannot bind " + path, bind_error), kExitFailure);
  if (::listen(listener_.get(), kBacklog) != 0)
    throw FatalError(with_errno("listen", errno), kExitFailure);
}

QueryServer::~QueryServer() {
  for (const auto& [fd, client] : clients_) ::close(fd);
  remove_socket_file(setup_.path);
}

bool QueryServer::trusted(const Peer& peer) const {
  return peer.netns == setup_.host_netns && peer.uid == 0;
}

bool QueryServer::admit(const Peer& peer) {
  const ConnectionLimits& l = setup_.limits;
  if (trusted(peer)) {
    if (clients_.size() < l.total) return true;
    ++counters_.refused_total;
    return false;
  }
  if (clients_.size() + l.host_reserve >= l.total) {
    ++counters_.refused_total;
    return false;
  }
  if (per_namespace_[peer.netns] >= l.per_namespace) {
    ++counters_.refused_per_namespace;
    return false;
  }
  if (per_process_[peer.pid] >= l.per_process) {
    ++counters_.refused_per_process;
    return false;
  }
  return true;
}

int QueryServer::accept_one(int listener, MonoNs now) {
  for (;;) {
    const int fd = ::accept4(listener, nullptr, nullptr, SOCK_CLOEXEC | SOCK_NONBLOCK);
    if (fd < 0) return -1;
    const auto peer = identify_peer(fd);
    if (!peer) {
      ++counters_.refused_unknown_peer;
      ::close(fd);
      continue;
    }
    if (!admit(*peer)) {
      ::close(fd);
      continue;
    }
    ++counters_.connections;
    clients_[fd] = Client{*peer, now};
    ++per_namespace_[peer->netns];
    ++per_process_[peer->pid];
    if (followed(peer->netns)) subscribe_(peer->netns);
    return fd;
  }
}

void QueryServer::drop(int fd) {
  const auto client = clients_.find(fd);
  if (client == clients_.end()) return;
  const Peer& peer = client->second.peer;
  if (auto n = per_namespace_.find(peer.netns); n != per_namespace_.end() && --n->second == 0)
    per_namespace_.erase(n);
  if (auto p = per_process_.find(peer.pid); p != per_process_.end() && --p->second == 0)
    per_process_.erase(p);
  clients_.erase(client);
  ::close(fd);
}

std::size_t QueryServer::close_idle(MonoNs now) {
  std::vector<int> idle;
  for (const auto& [fd, client] : clients_) {
    if (now - client.last_active > setup_.limits.idle_timeout) idle.push_back(fd);
  }
  for (const int fd : idle) drop(fd);
  counters_.closed_idle += idle.size();
  return idle.size();
}

void QueryServer::refresh() const {
  for (const auto& [fd, client] : clients_) {
    if (followed(client.peer.netns)) subscribe_(client.peer.netns);
  }
}

bool QueryServer::serve(int client_fd, MonoNs now) {
  const auto client = clients_.find(client_fd);
  if (client == clients_.end()) return false;
  client->second.last_active = now;
  const Peer peer = client->second.peer;
  for (;;) {
    mtool_query query{};
    const ssize_t n = ::recv(client_fd, &query, sizeof query, 0);
    if (n < 0 && (errno == EAGAIN || errno == EINTR)) return true;
    if (n <= 0) {
      drop(client_fd);
      return false;
    }
    ++counters_.queries;
    mtool_answer answer{};
    answer.version = MTOOL_ABI_VERSION;
    answer.caller_netns = peer.netns;
    answer.caller_in_host_netns = followed(peer.netns) ? 0 : 1;
    answer.status = MTOOL_ANSWER_BAD_QUERY;
    std::string text;
    if (n == static_cast<ssize_t>(sizeof query) && query.version == MTOOL_ABI_VERSION) {
      switch (query.kind) {
        case MTOOL_QUERY_RECORD: {
          mtool_probe_key key{};
          key.netns = peer.netns;  // the peer's own namespace, never one it names
          key.family = query.family;
          key.protocol = query.protocol;
          key.flow = query.flow;
          key.sequence = query.sequence;
          key.checksum = query.checksum;
          const auto taker = setup_.match_sender_pid ? static_cast<std::uint32_t>(peer.pid) : 0U;
          const bool found = reader_.take(key, answer.record, answer.names, taker);
          answer.status = found ? MTOOL_ANSWER_FOUND : MTOOL_ANSWER_NOT_FOUND;
          if (found) ++counters_.found;
          break;
        }
        case MTOOL_QUERY_HELLO:
          answer.status = MTOOL_ANSWER_FOUND;
          break;
        case MTOOL_QUERY_STATUS:
          answer.status = MTOOL_ANSWER_FOUND;
          text = status_text_(trusted(peer));
          break;
        default:
          break;
      }
    }
    if (::send(client_fd, &answer, sizeof answer, MSG_NOSIGNAL) !=
            static_cast<ssize_t>(sizeof answer) ||
        (!text.empty() && ::send(client_fd, text.data(), text.size(), MSG_NOSIGNAL) < 0)) {
      drop(client_fd);
      return false;
    }
  }
}

}  // namespace mtool::correlator
