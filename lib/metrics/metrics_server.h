#pragma once
// A Prometheus endpoint: a MetricsSource served at http://ADDR:PORT/metrics by the exporter
// module (prometheus-cpp's exposer, civetweb underneath; metrics/exporter_module.h), listening
// only on the address asked for. Scrapes are answered on the module's own threads: what it
// serves must be safe to collect while the measuring thread records.
#include <cstdint>
#include <memory>
#include <string>

#include "metrics/listen_address.h"
#include "metrics/metric_writer.h"

namespace mtool::metrics {

class MetricsServer {
 public:
  // Exit code of a server that cannot start (nothing was measured yet, as with a bad option).
  static constexpr int kExitCannotListen = 2;

  // Starts serving `source` on `where`; throws FatalError (one line, kExitCannotListen) when it
  // cannot listen there, or (kExitNoExporter) when the module cannot be loaded. Its threads
  // begin with this thread's signal mask and capabilities: start it once both are as the rest
  // of the run keeps them.
  MetricsServer(const ListenAddress& where, std::shared_ptr<const MetricsSource> source);
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
  std::shared_ptr<const MetricsSource> source_;
  mtool_metric_source c_source_;  // points into *source_
  const mtool_exporter_api& module_;
  void* server_ = nullptr;  // the module's
};

// One scrape of `source` in Prometheus' text format, as the endpoint would serve it (tests;
// throws FatalError as MetricsServer when the module cannot be loaded).
std::string render_text(const MetricsSource& source);

}  // namespace mtool::metrics
