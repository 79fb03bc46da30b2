#pragma once
// A real Prometheus server (Debian's `prometheus`) beside a test: listening on 127.0.0.1 at a
// free port, scraping what the test's config says, its database in a temporary directory; the
// process stopped and the directory removed by the destructor, also when the test fails.
// Queried through its HTTP API as Grafana queries it.
#include <gtest/gtest.h>

#include <cstdint>
#include <memory>
#include <nlohmann/json.hpp>
#include <string>
#include <utility>
#include <vector>

#include "processes.h"

namespace mtool::testing {

// The body of GET http://host:port/target (HTTP/1.0), or "" when there was no answer.
std::string http_get(const std::string& host, std::uint16_t port, const std::string& target);
// A port nothing listens on at 127.0.0.1 right now.
std::uint16_t free_loopback_port();

class PrometheusServer {
 public:
  static constexpr const char* kBinary = "/usr/bin/prometheus";

  // `scrape_configs`: the YAML list under scrape_configs:, scraped every `interval`.
  PrometheusServer(std::string scrape_configs, std::string interval);
  ~PrometheusServer();
  PrometheusServer(const PrometheusServer&) = delete;
  PrometheusServer& operator=(const PrometheusServer&) = delete;

  // Starts it and waits (up to 20 s) until it says it is ready.
  ::testing::AssertionResult start();
  // GET /api/v1/<endpoint> with URL-encoded `parameters`: the parsed answer (null if none).
  nlohmann::json api(const std::string& endpoint,
                     const std::vector<std::pair<std::string, std::string>>& parameters) const;
  // An instant query at the present: its answer, {"status": "success"|"error", ...}.
  nlohmann::json query(const std::string& promql) const {
    return api("query", {{"query", promql}});
  }
  [[nodiscard]] std::string log() const { return process_ ? process_->err() : ""; }

 private:
  std::string scrape_configs_;
  std::string interval_;
  std::string dir_;
  std::uint16_t port_ = 0;
  std::unique_ptr<Background> process_;
};

}  // namespace mtool::testing
