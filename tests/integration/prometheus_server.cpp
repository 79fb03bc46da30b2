#include "prometheus_server.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <stdlib.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cctype>
#include <chrono>
#include <fstream>

#include "harness.h"

namespace mtool::testing {
namespace {

std::string url_encode(const std::string& text) {
  static const char* const kHex = "0123456789ABCDEF";
  std::string out;
  for (const unsigned char c : text) {
    if (std::isalnum(c) != 0 || c == '-' || c == '_' || c == '.' || c == '~') {
      out += static_cast<char>(c);
    } else {
      out += '%';
      out += kHex[c >> 4];
      out += kHex[c & 15];
    }
  }
  return out;
}

}  // namespace

std::string http_get(const std::string& host, std::uint16_t port, const std::string& target) {
  const int fd = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (fd < 0) return "";
  sockaddr_in sin{};
  sin.sin_family = AF_INET;
  sin.sin_port = htons(port);
  ::inet_pton(AF_INET, host.c_str(), &sin.sin_addr);
  const timeval timeout{5, 0};
  ::setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &timeout, sizeof timeout);
  std::string response;
  if (::connect(fd, reinterpret_cast<const sockaddr*>(&sin), sizeof sin) == 0) {
    const std::string request = "GET " + target + " HTTP/1.0\r\nHost: " + host + "\r\n\r\n";
    if (::write(fd, request.data(), request.size()) == static_cast<ssize_t>(request.size())) {
      char buffer[8192];
      for (ssize_t n = 0; (n = ::read(fd, buffer, sizeof buffer)) > 0;)
        response.append(buffer, static_cast<std::size_t>(n));
    }
  }
  ::close(fd);
  const auto body = response.find("\r\n\r\n");
  return body == std::string::npos ? "" : response.substr(body + 4);
}

std::uint16_t free_loopback_port() {
  const int fd = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  sockaddr_in sin{};
  sin.sin_family = AF_INET;
  sin.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  socklen_t length = sizeof sin;
  std::uint16_t port = 0;
  if (::bind(fd, reinterpret_cast<const sockaddr*>(&sin), sizeof sin) == 0 &&
      ::getsockname(fd, reinterpret_cast<sockaddr*>(&sin), &length) == 0)
    port = ntohs(sin.sin_port);
  ::close(fd);
  return port;
}

PrometheusServer::PrometheusServer(std::string scrape_configs, std::string interval)
    : scrape_configs_(std::move(scrape_configs)), interval_(std::move(interval)) {}

PrometheusServer::~PrometheusServer() {
  process_.reset();  // stopped before its database goes
  if (!dir_.empty()) run("rm -rf " + dir_);
}

::testing::AssertionResult PrometheusServer::start() {
  if (::access(kBinary, X_OK) != 0)
    return ::testing::AssertionFailure() << kBinary << " is missing (scripts/setup.sh installs it)";
  char dir[] = "/tmp/mtool-prometheus.XXXXXX";
  if (::mkdtemp(dir) == nullptr) return ::testing::AssertionFailure() << "mkdtemp failed";
  dir_ = dir;
  std::ofstream(dir_ + "/prometheus.yml")
      << "global:\n  scrape_interval: " << interval_ << "\n  scrape_timeout: " << interval_
      << "\n  evaluation_interval: " << interval_ << "\nscrape_configs:\n"
      << scrape_configs_;
  port_ = free_loopback_port();
  process_ = std::make_unique<Background>(
      std::string("exec ") + kBinary + " --config.file=" + dir_ + "/prometheus.yml" +
          " --storage.tsdb.path=" + dir_ +
          "/data --web.listen-address=127.0.0.1:" + std::to_string(port_) + " --log.level=warn",
      "prometheus");
  const bool ready = wait_until(
      [&] {
        return !process_->running() ||
               http_get("127.0.0.1", port_, "/-/ready").find("Ready") != std::string::npos;
      },
      std::chrono::milliseconds(20000));
  if (!ready || !process_->running())
    return ::testing::AssertionFailure() << "prometheus did not start:\n" << log();
  return ::testing::AssertionSuccess();
}

nlohmann::json PrometheusServer::api(
    const std::string& endpoint,
    const std::vector<std::pair<std::string, std::string>>& parameters) const {
  std::string target = "/api/v1/" + endpoint;
  char separator = '?';
  for (const auto& [name, value] : parameters) {
    target += separator + url_encode(name) + "=" + url_encode(value);
    separator = '&';
  }
  auto answer = nlohmann::json::parse(http_get("127.0.0.1", port_, target), nullptr, false);
  return answer.is_discarded() ? nlohmann::json() : answer;
}

}  // namespace mtool::testing
