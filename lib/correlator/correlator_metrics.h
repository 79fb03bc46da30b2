#pragma once
// `mtool correlator --metrics ADDR:PORT`: the daemon's figures (daemon_figures.h) served to
// Prometheus by prometheus-cpp (its exposer, civetweb, listening on that address only). The
// only file of the daemon that knows the library: names, help texts and label sets live here.
#include <functional>
#include <memory>
#include <optional>
#include <string>

#include "correlator/daemon_figures.h"

namespace prometheus {
class Exposer;
class Collectable;
}  // namespace prometheus

namespace mtool::correlator {

// "ADDR:PORT" with ADDR an IPv4 address or a bracketed IPv6 one ("[::1]:9462") and PORT
// 1-65535, as civetweb's listening_ports wants it; nullopt (and `error` says why) for anything
// else: no host names, no "all interfaces" by omission, no list.
std::optional<std::string> metrics_listen_address(const std::string& text, std::string& error);

class CorrelatorMetrics {
 public:
  // Listens on `address` (as metrics_listen_address() gave it) and serves /metrics, each scrape
  // calling `gather` on the exposer's thread. Histogram buckets: `per_octave` of the kernel's
  // (1, 2 or 4) per power of two. Throws FatalError when it cannot listen.
  CorrelatorMetrics(const std::string& address, unsigned per_octave,
                    std::function<DaemonFigures()> gather);
  ~CorrelatorMetrics();
  CorrelatorMetrics(const CorrelatorMetrics&) = delete;
  CorrelatorMetrics& operator=(const CorrelatorMetrics&) = delete;

  // The port it listens on (what the system chose, for port 0).
  [[nodiscard]] int port() const;

 private:
  std::shared_ptr<prometheus::Collectable> collectable_;
  std::unique_ptr<prometheus::Exposer> exposer_;
};

}  // namespace mtool::correlator
