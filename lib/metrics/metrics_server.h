#pragma once
// A Prometheus endpoint: one registry served at http://ADDR:PORT/metrics by prometheus-cpp's
// exposer (civetweb underneath), listening only on the address asked for. Scrapes are answered
// on the server's own threads; the metrics themselves are prometheus-cpp's thread-safe types,
// so the measuring thread records without waiting for a scrape.
#include <cstdint>
#include <memory>
#include <string>

#include "metrics/listen_address.h"

namespace prometheus {
class Exposer;
class Registry;
}  // namespace prometheus

namespace mtool::metrics {

class MetricsServer {
 public:
  // Exit code of a server that cannot start (nothing was measured yet, as with a bad option).
  static constexpr int kExitCannotListen = 2;

  // Starts serving `registry` on `where`; throws FatalError (one line, kExitCannotListen)
  // when it cannot listen there. Its threads begin with this thread's signal mask and
  // capabilities: start it once both are as the rest of the run keeps them.
  MetricsServer(const ListenAddress& where, std::shared_ptr<prometheus::Registry> registry);
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
  std::shared_ptr<prometheus::Registry> registry_;
  std::unique_ptr<prometheus::Exposer> exposer_;
};

}  // namespace mtool::metrics
