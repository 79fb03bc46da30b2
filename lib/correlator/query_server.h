#pragma once
// The correlator's socket: answers queries from tools that cannot read the pinned maps
// (bpf/correlator_abi.h, struct mtool_query). Each connection's namespace is established once,
// from the peer, and every record lookup is keyed with it.
#include <cstdint>
#include <functional>
#include <string>
#include <unordered_map>

#include "correlate/record_maps.h"
#include "util/fd.h"

namespace mtool::correlator {

struct QueryCounters {
  std::uint64_t connections = 0;
  std::uint64_t refused = 0;  // peers whose namespace could not be established
  std::uint64_t queries = 0;
  std::uint64_t found = 0;
};

class QueryServer {
 public:
  // Binds `path` (replacing a stale socket file), mode 0666: any local user, or any container
  // that has the socket mounted, may ask for its own records. Throws FatalError.
  // `subscribe` is called with a client's namespace when it connects and by refresh().
  QueryServer(std::string path, int records_fd, int devices_fd, std::uint32_t host_netns,
              std::function<std::string()> status_text,
              std::function<void(std::uint32_t)> subscribe);
  ~QueryServer();
  QueryServer(const QueryServer&) = delete;
  QueryServer& operator=(const QueryServer&) = delete;

  [[nodiscard]] int listen_fd() const { return listener_.get(); }
  // Accepts one connection; returns its fd (owned by the server) or -1.
  int accept_one();
  // Answers what the client sent. False when the client is gone (the fd is then closed).
  bool serve(int client_fd);

  // Renews the subscriptions of every connected client's namespace.
  void refresh() const;

  [[nodiscard]] const QueryCounters& counters() const { return counters_; }
  [[nodiscard]] std::size_t clients() const { return clients_.size(); }

 private:
  std::string path_;
  UniqueFd listener_;
  correlate::RecordReader reader_;
  std::uint32_t host_netns_;
  std::function<std::string()> status_text_;
  std::function<void(std::uint32_t)> subscribe_;
  std::unordered_map<int, std::uint32_t> clients_;  // fd -> netns
  QueryCounters counters_;
};

}  // namespace mtool::correlator
