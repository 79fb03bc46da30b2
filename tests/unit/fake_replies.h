#pragma once
// Replies a simulated network has in transit, for fake ProbeMethods: each arrives at its time
// on the fake clock; wait() moves the clock to the first arrival within the timeout (or to the
// timeout) and hands over everything arriving at that instant, as one wake-up of the kernel.
#include <map>
#include <set>
#include <vector>

#include "fake_clock.h"
#include "trace/probe_method.h"

namespace mtool::trace {

class RepliesInTransit {
 public:
  void add(MonoNs arrival, const ProbeReply& reply) { pending_.emplace(arrival, reply); }
  // Probe `index` released: a reply for it still in transit is dropped on arrival.
  void release(std::size_t index) { released_.insert(index); }

  void wait(FakeClock& clock, Nanos timeout, std::vector<ProbeReply>& replies) {
    const MonoNs deadline = clock.mono_now() + timeout;
    if (pending_.empty() || pending_.begin()->first > deadline) {
      clock.advance_to(deadline);
      return;
    }
    const MonoNs at = pending_.begin()->first;
    clock.advance_to(at);
    while (!pending_.empty() && pending_.begin()->first == at) {
      ProbeReply reply = pending_.begin()->second;
      reply.rx = FakeClock::wall_at(at);
      if (!released_.contains(reply.index)) replies.push_back(reply);
      pending_.erase(pending_.begin());
    }
  }

 private:
  std::multimap<MonoNs, ProbeReply> pending_;
  std::set<std::size_t> released_;
};

}  // namespace mtool::trace
