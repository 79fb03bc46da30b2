#pragma once
// A simulated network for multipath discovery's unit tests: routers by TTL, each balancing
// per flow over its next hops the way a router hashes a header (a fixed hash of the flow and
// the router, so one flow always takes one path), some routers silent, the last one the
// destination.
#include <cstdint>
#include <map>
#include <optional>
#include <set>
#include <string>
#include <vector>

#include "trace/probe_method.h"

namespace mtool::trace::testing {

class SimulatedNetwork {
 public:
  // Adds a router at `ttl` (1-based) reached from each of `from` (addresses at ttl - 1; empty
  // at ttl 1: the source). Returns its address.
  std::string add(unsigned ttl, const std::string& address, const std::vector<std::string>& from,
                  bool silent = false, bool destination = false) {
    routers_[address] = Router{ttl, silent, destination, {}};
    for (const auto& f : from) routers_.at(f).next.push_back(address);
    if (ttl == 1) first_.push_back(address);
    return address;
  }
  // Every router of `ttl`, joined to every router of `ttl - 1`.
  void stage(unsigned ttl, const std::vector<std::string>& addresses, bool destination = false) {
    std::vector<std::string> previous;
    for (const auto& [address, router] : routers_) {
      if (router.ttl + 1 == ttl) previous.push_back(address);
    }
    for (const auto& a : addresses) add(ttl, a, previous, false, destination);
  }

  // Who a probe on `flow` with `ttl` reaches, and whether it answers.
  struct Outcome {
    std::string address;
    bool answers = false;
    bool destination = false;
  };
  [[nodiscard]] std::optional<Outcome> reach(FlowId flow, unsigned ttl) const {
    std::string at = pick(first_, flow, "");
    for (unsigned t = 1; t < ttl; ++t) {
      const Router& r = routers_.at(at);
      if (r.destination) break;
      if (r.next.empty()) return std::nullopt;
      at = pick(r.next, flow, at);
    }
    const Router& r = routers_.at(at);
    return Outcome{at, !r.silent, r.destination};
  }

  // The true graph: every router by TTL, every link.
  [[nodiscard]] std::map<unsigned, std::set<std::string>> routers_by_ttl() const {
    std::map<unsigned, std::set<std::string>> out;
    for (const auto& [address, r] : routers_) out[r.ttl].insert(address);
    return out;
  }
  [[nodiscard]] std::set<std::pair<std::string, std::string>> links() const {
    std::set<std::pair<std::string, std::string>> out;
    for (const auto& [address, r] : routers_) {
      for (const auto& n : r.next) out.emplace(address, n);
    }
    return out;
  }

 private:
  struct Router {
    unsigned ttl = 0;
    bool silent = false;
    bool destination = false;
    std::vector<std::string> next;
  };
  // A router's hash of a flow: fixed per (router, flow), spread evenly.
  static std::string pick(const std::vector<std::string>& next, FlowId flow,
                          const std::string& router) {
    std::uint64_t h = 0x9E3779B97F4A7C15ULL * (flow + 1);
    for (const char c : router) h = (h ^ static_cast<unsigned char>(c)) * 0x100000001B3ULL;
    h ^= h >> 31;
    h *= 0xBF58476D1CE4E5B9ULL;
    h ^= h >> 29;
    return next[h % next.size()];
  }
  std::map<std::string, Router> routers_;
  std::vector<std::string> first_;
};

}  // namespace mtool::trace::testing
