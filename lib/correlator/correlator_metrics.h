#pragma once
// `mtool correlator --metrics ADDR:PORT`: the daemon's figures (daemon_figures.h) served to
// Prometheus through the metrics layer (the exporter module, loaded only then, listening on
// that address only). Names, help texts and label sets live here.
#include <functional>
#include <memory>

#include "correlator/daemon_figures.h"
#include "metrics/listen_address.h"
#include "metrics/metrics_server.h"

namespace mtool::correlator {

// The figures as Prometheus families, each scrape calling `gather` (on a server thread).
// Histogram buckets: `per_octave` of the kernel's (1, 2 or 4) per power of two.
class CorrelatorFigures final : public metrics::MetricsSource {
 public:
  CorrelatorFigures(unsigned per_octave, std::function<DaemonFigures()> gather)
      : per_octave_(per_octave), gather_(std::move(gather)) {}
  void collect(metrics::MetricWriter& out) const override;

 private:
  unsigned per_octave_;
  std::function<DaemonFigures()> gather_;
};

class CorrelatorMetrics {
 public:
  // Listens on `where` and serves /metrics with CorrelatorFigures. Throws FatalError when it
  // cannot listen or the exporter module cannot be loaded.
  CorrelatorMetrics(const metrics::ListenAddress& where, unsigned per_octave,
                    std::function<DaemonFigures()> gather)
      : server_(where, std::make_shared<CorrelatorFigures>(per_octave, std::move(gather))) {}

  // The port it listens on (what the system chose, for port 0).
  [[nodiscard]] int port() const { return server_.port(); }
  [[nodiscard]] std::string url() const { return server_.url(); }

 private:
  metrics::MetricsServer server_;
};

}  // namespace mtool::correlator
