#include "metrics/metrics_server.h"

#include <array>

#include "metrics/exporter_module.h"
#include "util/error.h"

namespace mtool::metrics {

MetricsServer::MetricsServer(const ListenAddress& where,
                             std::shared_ptr<const MetricsSource> source)
    : address_(where.address),
      source_(std::move(source)),
      c_source_(c_source(*source_)),
      module_(exporter_module()) {
  std::array<char, 256> why{};
  server_ = module_.start(where.to_string().c_str(), &c_source_, {why.data(), why.size()});
  if (server_ == nullptr) {
    throw FatalError("cannot serve metrics on " + where.to_string() + ": " + why.data(),
                     kExitCannotListen);
  }
  port_ = module_.port(server_);
}

MetricsServer::~MetricsServer() { module_.stop(server_); }

std::string MetricsServer::url() const {
  return "http://" + address_ + ":" + std::to_string(port_) + "/metrics";
}

std::string render_text(const MetricsSource& source) {
  const mtool_exporter_api& module = exporter_module();
  const mtool_metric_source c = c_source(source);
  std::string text;
  std::array<char, 256> why{};
  const auto append = [](void* context, const char* bytes, std::size_t size) noexcept {
    try {
      static_cast<std::string*>(context)->append(bytes, size);
    } catch (...) {  // nothing may unwind into the module; the text is then short
    }
  };
  if (module.render_text(&c, append, &text, {why.data(), why.size()}) != 0)
    throw FatalError(std::string("metrics could not be written: ") + why.data(), 1);
  return text;
}

}  // namespace mtool::metrics
