#pragma once
// The descriptors one wait of the loop watches, each with who reads it, and the wait itself
// (ppoll, letting in only the signals the caller names). Rebuilt before every wait: runs come
// and go, and a traceroute's sockets with them.
#include <poll.h>
#include <signal.h>

#include <algorithm>
#include <cstdint>
#include <vector>

#include "util/clock.h"

namespace mtool::campaign {

template <typename Reader>
class PollSet {
 public:
  void clear() {
    fds_.clear();
    readers_.clear();
  }
  void add(int fd, const Reader& reader) {
    fds_.push_back(pollfd{fd, POLLIN, 0});
    readers_.push_back(reader);
  }
  [[nodiscard]] std::size_t size() const { return fds_.size(); }

  // Waits up to `timeout` (0: only looks) for input on any descriptor, with `sigmask` as the
  // signal mask meanwhile (nullptr: unchanged). Returns whether any has input; a signal or the
  // timeout ends the wait with none.
  bool wait(Nanos timeout, const sigset_t* sigmask) {
    const timespec limit = to_timespec(std::max(timeout, Nanos::zero()));
    return ppoll(fds_.data(), fds_.size(), &limit, sigmask) > 0;
  }

  // f(reader) for each descriptor with input (or an error to read), in the order added.
  template <typename F>
  void for_each_ready(F&& f) const {
    for (std::size_t i = 0; i < fds_.size(); ++i) {
      if (fds_[i].revents != 0) f(readers_[i]);
    }
  }

 private:
  std::vector<pollfd> fds_;
  std::vector<Reader> readers_;
};

}  // namespace mtool::campaign
