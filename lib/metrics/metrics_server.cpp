#include "metrics/metrics_server.h"

#include <CivetServer.h>
#include <arpa/inet.h>
#include <netinet/in.h>
#include <prometheus/collectable.h>
#include <prometheus/exposer.h>
#include <sys/socket.h>

#include <cerrno>
#include <vector>

#include "util/error.h"
#include "util/fd.h"

namespace mtool::metrics {
namespace {

// Why `where` cannot be listened on, as the kernel says it: civetweb only logs its reason, so
// the bind it failed is tried once more here (as it binds: SO_REUSEADDR), for the errno.
std::string bind_problem(const ListenAddress& where) {
  const UniqueFd probe(::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0));
  if (!probe) return errno_text(errno);
  const int on = 1;
  ::setsockopt(probe.get(), SOL_SOCKET, SO_REUSEADDR, &on, sizeof on);
  sockaddr_in sin{};
  sin.sin_family = AF_INET;
  sin.sin_port = htons(where.port);
  ::inet_pton(AF_INET, where.address.c_str(), &sin.sin_addr);
  if (::bind(probe.get(), reinterpret_cast<const sockaddr*>(&sin), sizeof sin) != 0)
    return errno_text(errno);
  return "the HTTP server did not start";
}

}  // namespace

MetricsServer::MetricsServer(const ListenAddress& where,
                             std::shared_ptr<prometheus::Collectable> metrics)
    : address_(where.address), metrics_(std::move(metrics)) {
  // civetweb would print its complaints on stderr; the one that matters becomes our message.
  CivetCallbacks quiet;
  quiet.log_message = [](const mg_connection*, const char*) { return 1; };
  try {
    // Two threads: one scrape does not wait for another (two Prometheus servers, a curl).
    exposer_ = std::make_unique<prometheus::Exposer>(
        std::vector<std::string>{"listening_ports", where.to_string(), "num_threads", "2"}, &quiet);
  } catch (const std::exception&) {
    throw FatalError("cannot serve metrics on " + where.to_string() + ": " + bind_problem(where),
                     kExitCannotListen);
  }
  const std::vector<int> ports = exposer_->GetListeningPorts();
  port_ = ports.empty() ? where.port : static_cast<std::uint16_t>(ports.front());
  exposer_->RegisterCollectable(metrics_);
}

MetricsServer::~MetricsServer() = default;

std::string MetricsServer::url() const {
  return "http://" + address_ + ":" + std::to_string(port_) + "/metrics";
}

}  // namespace mtool::metrics
