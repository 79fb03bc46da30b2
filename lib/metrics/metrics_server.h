#pragma once
// A Prometheus endpoint: one collectable (a prometheus::Registry, or a Collectable of the
// caller's) served at http://ADDR:PORT/metrics by prometheus-cpp's exposer (civetweb
// underneath), listening only on the address asked for. Scrapes are answered on the server's
// own threads: what it serves must be safe to collect while the measuring thread records.
#include <cstdint>
#include <memory>
#include <string>

#include "metrics/listen_address.h"

namespace prometheus {
class Collectable;
class Exposer;
}  // namespace prometheus

namespace mtool::metrics {

class MetricsServer {
 public:
  // Exit code of a server that cannot start (nothing was measured yet, as with a bad option).
  static constexpr int kExitCannotListen = 2;

  // Starts serving `metrics` on `where`; throws FatalError (one line, kExitCannotListen)
  // when it cannot listen there. Its threads begin with this thread's signal mask and
  // capabilities: start it once both are as the rest of the run keeps them.
  MetricsServer(const ListenAddress& where, std::shared_ptr<prometheus::Collectable> metrics);
  ~MetricsServer();
  MetricsServer(const MetricsServer&) = delete;
  MetricsServer& operator=(const MetricsServer&) = delete;

  // The port it listens on (the kernel's choice when asked for port 0).
  [[nodiscard]] std::uint16_t port() const { return port_; }
  // "http://127.0.0.1:9101/metrics"
  [[nodiscard]] std::string url() const;

 private:
  std::string address_;
  std::uint16_t port_ = 0;
  std::shared_ptr<prometheus::Collectable> metrics_;
  std::unique_ptr<prometheus::Exposer> exposer_;
};

}  // namespace mtool::metrics
