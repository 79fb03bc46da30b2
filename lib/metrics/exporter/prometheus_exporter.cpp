// mtool-prometheus-exporter.so: prometheus-cpp's exposer (civetweb underneath) behind the C
// interface of modules/exporter_abi.h. mtool loads it only for --metrics, so no other command
// maps prometheus-cpp, civetweb or the shared libstdc++ they need. Built against the shared
// libstdc++, as those libraries are; only C types cross to and from mtool, and no exception
// leaves this file.
#include <CivetServer.h>
#include <arpa/inet.h>
#include <netinet/in.h>
#include <prometheus/collectable.h>
#include <prometheus/exposer.h>
#include <prometheus/metric_family.h>
#include <prometheus/text_serializer.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <memory>
#include <string>
#include <vector>

#include "modules/exporter_abi.h"

namespace {

// Two threads: one scrape does not wait for another (two Prometheus servers, a curl). A client
// that stalls holds one no longer than the request timeout; keep-alive off, so an idle client
// holds none.
const std::vector<std::string> kServerOptions = {
    "num_threads", "2", "request_timeout_ms", "5000", "enable_keep_alive", "no"};

void set_error(mtool_exporter_error error, const std::string& text) {
  if (error.text == nullptr || error.size == 0) return;
  const std::size_t n = std::min(text.size(), error.size - 1);
  std::memcpy(error.text, text.data(), n);
  error.text[n] = '\0';
}

std::vector<prometheus::ClientMetric::Label> labels_of(const mtool_metric_label* labels,
                                                       std::size_t count) {
  std::vector<prometheus::ClientMetric::Label> out;
  out.reserve(count);
  for (std::size_t i = 0; i < count; ++i) out.push_back({labels[i].name, labels[i].value});
  return out;
}

// One collect's families, built from the source's calls into the sink. A call that cannot be
// honoured (no family yet, a type that does not match, memory) marks the collect failed rather
// than throwing through the source's frames, which belong to the other runtime.
class FamilyBuilder {
 public:
  std::vector<prometheus::MetricFamily> families;
  bool failed = false;

  [[nodiscard]] mtool_metric_sink sink() {
    return mtool_metric_sink{this, &FamilyBuilder::on_family, &FamilyBuilder::on_sample,
                             &FamilyBuilder::on_histogram};
  }

 private:
  static FamilyBuilder& of(void* self) { return *static_cast<FamilyBuilder*>(self); }

  // Runs `add` on a new sample of the family being written, if that family is a histogram just
  // when `histogram` says so; any failure marks the collect.
  template <typename Add>
  void add_to_current(bool histogram, Add&& add) noexcept {
    if (failed) return;
    if (families.empty() || (type_of_current_ == MTOOL_METRIC_HISTOGRAM) != histogram) {
      failed = true;
      return;
    }
    try {
      prometheus::ClientMetric m;
      add(m);
      families.back().metric.push_back(std::move(m));
    } catch (...) {
      failed = true;
    }
  }

  static void on_family(void* self, const char* name, const char* help, int type) noexcept {
    FamilyBuilder& b = of(self);
    if (b.failed) return;
    try {
      prometheus::MetricType t{};
      switch (type) {
        case MTOOL_METRIC_COUNTER:
          t = prometheus::MetricType::Counter;
          break;
        case MTOOL_METRIC_GAUGE:
          t = prometheus::MetricType::Gauge;
          break;
        case MTOOL_METRIC_HISTOGRAM:
          t = prometheus::MetricType::Histogram;
          break;
        default:
          b.failed = true;
          return;
      }
      b.families.push_back(prometheus::MetricFamily{name, help, t, {}});
      b.type_of_current_ = static_cast<mtool_metric_type>(type);
    } catch (...) {
      b.failed = true;
    }
  }

  static void on_sample(void* self, const mtool_metric_label* labels, std::size_t label_count,
                        double value) noexcept {
    FamilyBuilder& b = of(self);
    b.add_to_current(false, [&](prometheus::ClientMetric& m) {
      m.label = labels_of(labels, label_count);
      if (b.type_of_current_ == MTOOL_METRIC_GAUGE)
        m.gauge.value = value;
      else
        m.counter.value = value;
    });
  }

  static void on_histogram(void* self, const mtool_metric_label* labels, std::size_t label_count,
                           const mtool_metric_bucket* buckets, std::size_t bucket_count,
                           double sum) noexcept {
    of(self).add_to_current(true, [&](prometheus::ClientMetric& m) {
      m.label = labels_of(labels, label_count);
      for (std::size_t i = 0; i < bucket_count; ++i)
        m.histogram.bucket.push_back({buckets[i].cumulative_count, buckets[i].upper_bound});
      m.histogram.sample_count = bucket_count == 0 ? 0 : buckets[bucket_count - 1].cumulative_count;
      m.histogram.sample_sum = sum;
    });
  }

  mtool_metric_type type_of_current_ = MTOOL_METRIC_COUNTER;
};

// The families of one collect of `source`; empty when the collect failed (a scrape then shows
// nothing rather than half a measurement).
std::vector<prometheus::MetricFamily> collect(const mtool_metric_source& source) {
  FamilyBuilder builder;
  const mtool_metric_sink sink = builder.sink();
  source.collect(source.self, &sink);
  if (builder.failed) return {};
  return std::move(builder.families);
}

class SourceCollectable final : public prometheus::Collectable {
 public:
  explicit SourceCollectable(const mtool_metric_source& source) : source_(source) {}
  std::vector<prometheus::MetricFamily> Collect() const override { return collect(source_); }

 private:
  mtool_metric_source source_;
};

// Why `listen` cannot be listened on, as the kernel says it: civetweb only logs its reason, so
// the bind it failed is tried once more here (as it binds: SO_REUSEADDR), for the errno.
std::string bind_problem(const std::string& listen) {
  const std::size_t colon = listen.rfind(':');
  sockaddr_in sin{};
  sin.sin_family = AF_INET;
  sin.sin_port = htons(static_cast<std::uint16_t>(std::stoul(listen.substr(colon + 1))));
  if (::inet_pton(AF_INET, listen.substr(0, colon).c_str(), &sin.sin_addr) != 1)
    return "not a numeric IPv4 address";
  const int fd = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (fd < 0) return std::strerror(errno);
  const int on = 1;
  ::setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &on, sizeof on);
  std::string why = "the HTTP server did not start";
  if (::bind(fd, reinterpret_cast<const sockaddr*>(&sin), sizeof sin) != 0)
    why = std::strerror(errno);
  ::close(fd);
  return why;
}

struct Server {
  std::shared_ptr<SourceCollectable> collectable;
  std::unique_ptr<prometheus::Exposer> exposer;
  std::uint16_t port = 0;
};

void* start(const char* listen, const mtool_metric_source* source,
            mtool_exporter_error error) noexcept {
  try {
    auto server = std::make_unique<Server>();
    server->collectable = std::make_shared<SourceCollectable>(*source);
    std::vector<std::string> options = {"listening_ports", listen};
    options.insert(options.end(), kServerOptions.begin(), kServerOptions.end());
    // civetweb would print its complaints on stderr; the one that matters becomes our message.
    CivetCallbacks quiet;
    quiet.log_message = [](const mg_connection*, const char*) { return 1; };
    try {
      server->exposer = std::make_unique<prometheus::Exposer>(options, &quiet);
    } catch (const std::exception&) {
      set_error(error, bind_problem(listen));
      return nullptr;
    }
    const std::vector<int> ports = server->exposer->GetListeningPorts();
    server->port = ports.empty() ? 0 : static_cast<std::uint16_t>(ports.front());
    server->exposer->RegisterCollectable(server->collectable);
    return server.release();
  } catch (const std::exception& e) {
    set_error(error, e.what());
  } catch (...) {
    set_error(error, "the HTTP server did not start");
  }
  return nullptr;
}

std::uint16_t port(const void* server) noexcept { return static_cast<const Server*>(server)->port; }

void stop(void* server) noexcept {
  try {
    delete static_cast<Server*>(server);  // the C handle start() released
  } catch (...) {  // civetweb's shutdown does not throw; nothing may cross back if it did
  }
}

int render_text(const mtool_metric_source* source,
                void (*write)(void* context, const char* bytes, std::size_t size), void* context,
                mtool_exporter_error error) noexcept {
  try {
    const std::string text = prometheus::TextSerializer().Serialize(collect(*source));
    write(context, text.data(), text.size());
    return 0;
  } catch (const std::exception& e) {
    set_error(error, e.what());
  } catch (...) {
    set_error(error, "the exposition could not be written");
  }
  return -1;
}

const mtool_exporter_api kApi = {
    MTOOL_EXPORTER_ABI_VERSION, sizeof(mtool_exporter_api), &start, &port, &stop, &render_text};

}  // namespace

extern "C" __attribute__((visibility("default"))) const mtool_exporter_api*
mtool_prometheus_exporter_v1() {
  return &kApi;
}
