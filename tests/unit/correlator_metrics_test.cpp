// The correlator's Prometheus exposition (lib/correlator/correlator_metrics): what a scrape of
// given figures returns, fetched over loopback.
#include "correlator/correlator_metrics.h"

#include <arpa/inet.h>
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <string>

#include "util/error.h"
#include "util/fd.h"

namespace mtool::correlator {
namespace {

// GET /metrics on loopback port `port`: the body.
std::string scrape(int port) {
  const UniqueFd fd(::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0));
  sockaddr_in address{};
  address.sin_family = AF_INET;
  address.sin_port = htons(static_cast<std::uint16_t>(port));
  address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  if (!fd || ::connect(fd.get(), reinterpret_cast<sockaddr*>(&address), sizeof address) != 0)
    return "";
  const std::string request = "GET /metrics HTTP/1.0\r\nHost: 127.0.0.1\r\n\r\n";
  if (::send(fd.get(), request.data(), request.size(), MSG_NOSIGNAL) !=
      static_cast<ssize_t>(request.size()))
    return "";
  // Up to Content-Length: the server closes only after the client (civetweb's graceful close).
  std::string response;
  char buffer[4096];
  for (ssize_t n; (n = ::recv(fd.get(), buffer, sizeof buffer, 0)) > 0;) {
    response.append(buffer, static_cast<std::size_t>(n));
    const std::size_t body = response.find("\r\n\r\n");
    const std::size_t length = response.find("Content-Length: ");
    if (body == std::string::npos || length == std::string::npos || length > body) continue;
    const std::size_t wanted = std::stoul(response.substr(length + 16));
    if (response.size() >= body + 4 + wanted) return response.substr(body + 4, wanted);
  }
  return "";
}

bool has_line(const std::string& text, const std::string& line) {
  return text.find("\n" + line + "\n") != std::string::npos;
}

TEST(CorrelatorMetrics, ServesTheFiguresUnderTheirNames) {
  DaemonFigures figures;
  figures.kernel[MTOOL_CTR_EGRESS_STARTED] = 12;
  figures.kernel[MTOOL_CTR_RECORDS_WRITTEN] = 10;
  figures.kernel[MTOOL_CTR_SLOT_COLLISIONS] = 1;
  figures.loop.socket.found = 7;
  figures.loop.evicted.histograms = 2;
  figures.loop.maps.push_back({"records", 10, MTOOL_RECORDS_MAX});
  figures.program_stats = true;
  figures.programs.push_back({"net_dev_queue", 1000, 150000});
  NamespaceDistributions ns;
  ns.netns = 4242;
  ns.workload = {std::string(64, 'a'), "1b2c3d4e-5f60-4718-92a3-b4c5d6e7f809"};
  auto& egress = ns.kind[MTOOL_HISTOGRAM_EGRESS];
  egress.buckets[mtool_histogram_bucket(3000)] = 4;   // <= 3.072 us
  egress.buckets[mtool_histogram_bucket(20000)] = 6;  // <= 20.48 us
  egress.sum_ns = 4 * 3000 + 6 * 20000;
  figures.namespaces.push_back(ns);

  int gathered = 0;
  CorrelatorMetrics served(metrics::ListenAddress{"127.0.0.1", 0}, 2, [&] {
    ++gathered;
    return figures;
  });
  ASSERT_GT(served.port(), 0);
  const std::string text = "\n" + scrape(served.port());
  EXPECT_EQ(gathered, 1);
  EXPECT_TRUE(has_line(text, "mtool_correlator_probes_followed_total 12")) << text;
  EXPECT_TRUE(has_line(text, "mtool_correlator_records_written_total 10"));
  EXPECT_TRUE(has_line(text, "mtool_correlator_collisions_total 1"));
  EXPECT_TRUE(has_line(text, "mtool_correlator_records_served_total 7"));
  EXPECT_TRUE(has_line(text, "mtool_correlator_evictions_total{map=\"histograms\"} 2"));
  EXPECT_TRUE(has_line(text, "mtool_correlator_map_entries{map=\"records\"} 10"));
  EXPECT_TRUE(has_line(text, "mtool_correlator_map_capacity_entries{map=\"records\"} 16384"));
  EXPECT_TRUE(
      has_line(text, "mtool_correlator_program_runs_total{program=\"net_dev_queue\"} 1000"));
  EXPECT_TRUE(has_line(
      text, "mtool_correlator_program_run_seconds_total{program=\"net_dev_queue\"} 0.00015"));
  EXPECT_TRUE(has_line(text, "# TYPE mtool_correlator_egress_overhead_seconds histogram"));
  const std::string labels = "container_id=\"" + std::string(64, 'a') +
                             "\",netns=\"4242\",pod_uid=\"1b2c3d4e-5f60-4718-92a3-b4c5d6e7f809\"";
  EXPECT_TRUE(has_line(text, "mtool_correlator_egress_overhead_seconds_count{" + labels + "} 10"))
      << text;
  EXPECT_TRUE(
      has_line(text, "mtool_correlator_egress_overhead_seconds_sum{" + labels + "} 0.000132"));
  // Two bounds per octave: 3 us falls in (2.048, 3.072], 20 us in (16.384, 24.576].
  const std::string bucket = "mtool_correlator_egress_overhead_seconds_bucket{" + labels;
  EXPECT_TRUE(has_line(text, bucket + ",le=\"2.048e-06\"} 0"));
  EXPECT_TRUE(has_line(text, bucket + ",le=\"3.072e-06\"} 4"));
  EXPECT_TRUE(has_line(text, bucket + ",le=\"1.6384e-05\"} 4"));
  EXPECT_TRUE(has_line(text, bucket + ",le=\"2.4576e-05\"} 10"));
  EXPECT_TRUE(has_line(text, bucket + ",le=\"+Inf\"} 10"));
  EXPECT_TRUE(has_line(text, "mtool_correlator_wire_rtt_seconds_count{" + labels + "} 0"));

  // Each scrape gathers anew (one exposer: stopping one takes civetweb's 2 s poll quantum).
  // Without run-time statistics, no program cost is shown rather than zeros.
  figures.program_stats = false;
  figures.kernel[MTOOL_CTR_EGRESS_STARTED] = 13;
  const std::string again = "\n" + scrape(served.port());
  EXPECT_EQ(gathered, 2);
  EXPECT_TRUE(has_line(again, "mtool_correlator_probes_followed_total 13")) << again;
  EXPECT_EQ(again.find("mtool_correlator_program_runs_total"), std::string::npos) << again;
}

TEST(CorrelatorMetrics, AnAddressInUseIsAOneLineError) {
  const UniqueFd taken(::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0));
  sockaddr_in address{};
  address.sin_family = AF_INET;
  address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  ASSERT_EQ(::bind(taken.get(), reinterpret_cast<sockaddr*>(&address), sizeof address), 0);
  ASSERT_EQ(::listen(taken.get(), 1), 0);
  socklen_t length = sizeof address;
  ASSERT_EQ(::getsockname(taken.get(), reinterpret_cast<sockaddr*>(&address), &length), 0);
  const std::string where = "127.0.0.1:" + std::to_string(ntohs(address.sin_port));
  try {
    CorrelatorMetrics served(metrics::ListenAddress{"127.0.0.1", ntohs(address.sin_port)}, 2,
                             [] { return DaemonFigures{}; });
    FAIL() << "listened on a port in use";
  } catch (const FatalError& e) {
    EXPECT_NE(std::string(e.what()).find("cannot serve metrics on " + where), std::string::npos)
        << e.what();
  }
}

}  // namespace
}  // namespace mtool::correlator
