#include "correlator/query_server.h"

#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <filesystem>

#include "correlate/record_maps.h"
#include "correlator/peer_namespace.h"
#include "correlator_abi.h"
#include "util/error.h"

namespace mtool::correlator {
namespace {

constexpr int kExitFailure = 1;
constexpr int kBacklog = 128;

}  // namespace

QueryServer::QueryServer(std::string path, int records_fd, int devices_fd, std::uint32_t host_netns,
                         std::function<std::string()> status_text,
                         std::function<void(std::uint32_t)> subscribe)
    : path_(std::move(path)),
      reader_(records_fd, devices_fd),
      host_netns_(host_netns),
      status_text_(std::move(status_text)),
      subscribe_(std::move(subscribe)) {
  sockaddr_un address{};
  address.sun_family = AF_UNIX;
  if (path_.size() >= sizeof(address.sun_path)) {
    throw FatalError("socket path too long: " + path_, kExitFailure);
  }
  std::memcpy(address.sun_path, path_.c_str(), path_.size() + 1);
  std::error_code ec;
  std::filesystem::create_directories(std::filesystem::path(path_).parent_path(), ec);
  listener_.reset(::socket(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC | SOCK_NONBLOCK, 0));
  if (!listener_) throw FatalError(with_errno("socket", errno), kExitFailure);
  ::unlink(path_.c_str());  // a previous run's socket; a live correlator is checked by the caller
  if (::bind(listener_.get(), reinterpret_cast<sockaddr*>(&address), sizeof address) != 0) {
    throw FatalError(with_errno("cannot bind " + path_, errno), kExitFailure);
  }
  ::chmod(path_.c_str(), 0666);
  if (::listen(listener_.get(), kBacklog) != 0)
    throw FatalError(with_errno("listen", errno), kExitFailure);
}

QueryServer::~QueryServer() {
  for (const auto& [fd, netns] : clients_) ::close(fd);
  ::unlink(path_.c_str());
}

int QueryServer::accept_one() {
  const int fd = ::accept4(listener_.get(), nullptr, nullptr, SOCK_CLOEXEC | SOCK_NONBLOCK);
  if (fd < 0) return -1;
  const auto netns = peer_netns(fd);
  if (!netns) {
    ++counters_.refused;
    ::close(fd);
    return -1;
  }
  ++counters_.connections;
  clients_[fd] = *netns;
  if (*netns != host_netns_) subscribe_(*netns);
  return fd;
}

void QueryServer::refresh() const {
  for (const auto& [fd, netns] : clients_) {
    if (netns != host_netns_) subscribe_(netns);
  }
}

bool QueryServer::serve(int client_fd) {
  const auto client = clients_.find(client_fd);
  if (client == clients_.end()) return false;
  for (;;) {
    mtool_query query{};
    const ssize_t n = ::recv(client_fd, &query, sizeof query, 0);
    if (n < 0 && (errno == EAGAIN || errno == EINTR)) return true;
    if (n <= 0) {
      ::close(client_fd);
      clients_.erase(client);
      return false;
    }
    ++counters_.queries;
    mtool_answer answer{};
    answer.version = MTOOL_ABI_VERSION;
    answer.caller_netns = client->second;
    answer.caller_in_host_netns = client->second == host_netns_ ? 1 : 0;
    answer.status = MTOOL_ANSWER_BAD_QUERY;
    std::string text;
    if (n == static_cast<ssize_t>(sizeof query) && query.version == MTOOL_ABI_VERSION) {
      switch (query.kind) {
        case MTOOL_QUERY_RECORD: {
          mtool_probe_key key{};
          key.netns = client->second;  // the peer's own namespace, never one it names
          key.family = query.family;
          key.protocol = query.protocol;
          key.flow = query.flow;
          key.sequence = query.sequence;
          const bool found = reader_.take(key, answer.record, answer.names);
          answer.status = found ? MTOOL_ANSWER_FOUND : MTOOL_ANSWER_NOT_FOUND;
          if (found) ++counters_.found;
          break;
        }
        case MTOOL_QUERY_HELLO:
          answer.status = MTOOL_ANSWER_FOUND;
          break;
        case MTOOL_QUERY_STATUS:
          answer.status = MTOOL_ANSWER_FOUND;
          text = status_text_();
          break;
        default:
          break;
      }
    }
    if (::send(client_fd, &answer, sizeof answer, MSG_NOSIGNAL) !=
            static_cast<ssize_t>(sizeof answer) ||
        (!text.empty() && ::send(client_fd, text.data(), text.size(), MSG_NOSIGNAL) < 0)) {
      ::close(client_fd);
      clients_.erase(client);
      return false;
    }
  }
}

}  // namespace mtool::correlator
