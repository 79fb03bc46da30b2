#pragma once
// The correlator's socket: answers queries from tools that cannot read the pinned maps
// (bpf/correlator_abi.h, struct mtool_query). Each connection's peer (namespace, process,
// user) is established once, from the kernel, and every record lookup is keyed with it.
//
// Every tenant shares this daemon, so none may exhaust it: connections are bounded per
// process, per namespace and in all (with room kept for the host's administrator), idle ones
// are closed, and each refusal is counted by its reason.
#include <cstdint>
#include <functional>
#include <string>
#include <unordered_map>

#include "correlator/peer_namespace.h"
#include "pinned_maps/record_reader.h"
#include "util/clock.h"
#include "util/fd.h"

namespace mtool::correlator {

struct QueryCounters {
  std::uint64_t connections = 0;
  std::uint64_t refused_unknown_peer = 0;  // the kernel could not say who connected
  std::uint64_t refused_per_process = 0;
  std::uint64_t refused_per_namespace = 0;
  std::uint64_t refused_total = 0;
  std::uint64_t closed_idle = 0;
  std::uint64_t queries = 0;
  std::uint64_t found = 0;
  std::uint64_t withheld = 0;  // records of another process of the caller's namespace
};

struct ConnectionLimits {
  std::size_t per_process = 16;    // a tool needs one or two
  std::size_t per_namespace = 64;  // a container's or pod's processes together
  std::size_t total = 4096;        // lowered to what the descriptor limit allows
  std::size_t host_reserve = 16;   // of `total`, kept for root on the host (status, probes)
  Nanos idle_timeout = std::chrono::seconds{300};
};

class QueryServer {
 public:
  struct Setup {
    std::string path;
    int records_fd = -1;
    int devices_fd = -1;
    std::uint64_t host_netns = 0;
    bool match_sender_pid = false;  // records name their sender in our pid namespace
    bool host_measured = false;     // --follow-host-probes: the host is served as a namespace
    ConnectionLimits limits;
  };
  // Binds `setup.path`, mode 0666: any local user, or any container that has the socket
  // mounted, may ask for its own records. Throws FatalError.
  // `status_text(full)` is the status (full: for root on the host; else the short form).
  // `subscribe` is called with a client's namespace when it connects and by refresh().
  QueryServer(Setup setup, std::function<std::string(bool full)> status_text,
              std::function<void(std::uint64_t)> subscribe);
  ~QueryServer();
  QueryServer(const QueryServer&) = delete;
  QueryServer& operator=(const QueryServer&) = delete;

  [[nodiscard]] int listen_fd() const { return listener_.get(); }
  // Accepts one connection on `listener` (the path socket, or a namespace's listener); returns
  // its fd (owned by the server), or -1 when none is waiting. A refused connection is closed
  // at once and accept_one() goes on to the next.
  int accept_one(int listener, MonoNs now);
  // Answers what the client sent. False when the client is gone (the fd is then closed).
  bool serve(int client_fd, MonoNs now);
  // Closes connections idle for longer than the limit; returns how many.
  std::size_t close_idle(MonoNs now);

  // Renews the subscriptions of every connected client's namespace.
  void refresh() const;

  [[nodiscard]] const QueryCounters& counters() const { return counters_; }
  [[nodiscard]] std::size_t clients() const { return clients_.size(); }
  [[nodiscard]] const ConnectionLimits& limits() const { return setup_.limits; }

 private:
  // Whether probes from `netns` are followed (every namespace but the host's, unless the
  // host is measured too).
  [[nodiscard]] bool followed(std::uint64_t netns) const {
    return netns != setup_.host_netns || setup_.host_measured;
  }

  struct Client {
    Peer peer;
    MonoNs last_active{};
  };
  [[nodiscard]] bool trusted(const Peer& peer) const;
  [[nodiscard]] bool admit(const Peer& peer);
  void drop(int fd);

  Setup setup_;
  UniqueFd listener_;
  pinned_maps::RecordReader reader_;
  std::function<std::string(bool)> status_text_;
  std::function<void(std::uint64_t)> subscribe_;
  std::unordered_map<int, Client> clients_;
  std::unordered_map<std::uint64_t, std::size_t> per_namespace_;
  std::unordered_map<pid_t, std::size_t> per_process_;
  QueryCounters counters_;
};

}  // namespace mtool::correlator
