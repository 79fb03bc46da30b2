// lib/metrics: where an endpoint listens (ADDR:PORT), bucket layouts, user labels, and the
// server itself on loopback (the exporter module, a real HTTP scrape, and a port already taken).
#include <arpa/inet.h>
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <array>
#include <limits>
#include <stdexcept>
#include <string>
#include <vector>

#include "metrics/bucket_layout.h"
#include "metrics/exporter_module.h"
#include "metrics/labels.h"
#include "metrics/listen_address.h"
#include "metrics/metrics_server.h"
#include "util/error.h"
#include "util/fd.h"

namespace mtool::metrics {
namespace {

TEST(ListenAddress, TakesANumericIpv4AddressAndAPort) {
  std::string error;
  const auto a = parse_listen_address("127.0.0.1:9101", error);
  ASSERT_TRUE(a) << error;
  EXPECT_EQ(a->address, "127.0.0.1");
  EXPECT_EQ(a->port, 9101);
  EXPECT_EQ(a->to_string(), "127.0.0.1:9101");
  const auto any_port = parse_listen_address("198.18.0.2:0", error);
  ASSERT_TRUE(any_port) << error;
  EXPECT_EQ(any_port->port, 0);
}

TEST(ListenAddress, RefusesWhatItCannotListenOnExactly) {
  struct Case {
    const char* text;
    const char* error;
  };
  const Case cases[] = {
      {"9101", "expected ADDR:PORT"},  // civetweb would take it as every address
      {":9101", "expected ADDR:PORT"},
      {"localhost:9101", "'localhost' is not a numeric IPv4 address"},
      {"127.0.0.1", "expected ADDR:PORT"},
      {"127.0.0.1:", "'' is not a port"},
      {"127.0.0.1:65536", "'65536' is not a port"},
      {"127.0.0.1:-1", "'-1' is not a port"},
      {"127.0.0.1:91x", "'91x' is not a port"},
      {"[::1]:9101", "IPv6 is not supported"},
      {"::1:9101", "IPv6 is not supported"},
      {"127.0.0.1\x1b:9101", "'127.0.0.1\\x1b' is not"},
  };
  for (const Case& c : cases) {
    std::string error;
    EXPECT_FALSE(parse_listen_address(c.text, error)) << c.text;
    EXPECT_NE(error.find(c.error), std::string::npos) << c.text << ": " << error;
  }
}

TEST(BucketLayout, TheDefaultIsALogScaleFromOneMicrosecondToTenSeconds) {
  std::string error;
  const auto bounds = parse_buckets(kDefaultBuckets, error);
  ASSERT_TRUE(bounds) << error;
  ASSERT_EQ(bounds->size(), 29U);  // 7 decades x 4 + 1
  EXPECT_DOUBLE_EQ(bounds->front(), 1e-6);
  EXPECT_DOUBLE_EQ((*bounds)[1], 1.78e-6);
  EXPECT_DOUBLE_EQ((*bounds)[2], 3.16e-6);
  EXPECT_DOUBLE_EQ((*bounds)[3], 5.62e-6);
  EXPECT_DOUBLE_EQ((*bounds)[4], 1e-5);
  EXPECT_DOUBLE_EQ(bounds->back(), 10);
  for (std::size_t i = 1; i < bounds->size(); ++i) EXPECT_LT((*bounds)[i - 1], (*bounds)[i]);
}

TEST(BucketLayout, TakesOtherScalesAndExplicitBounds) {
  std::string error;
  auto bounds = parse_buckets("50us:50ms:1", error);
  ASSERT_TRUE(bounds) << error;
  EXPECT_EQ(*bounds, (std::vector<double>{50e-6, 500e-6, 5e-3, 50e-3}));
  bounds = parse_buckets("50us,1ms,2.5ms,1s", error);
  ASSERT_TRUE(bounds) << error;
  EXPECT_EQ(*bounds, (std::vector<double>{50e-6, 1e-3, 2.5e-3, 1}));
  EXPECT_EQ(parse_duration("100ns"), std::optional<double>(100e-9));
}

TEST(BucketLayout, RefusesWhatIsNotALayout) {
  struct Case {
    const char* spec;
    const char* error;
  };
  const Case cases[] = {
      {"", "'' is not a duration"},
      {"1ms,", "'' is not a duration"},
      {"1", "'1' is not a duration"},       // no unit
      {"1ms,1ms", "bounds must increase"},  // not increasing
      {"2ms,1ms", "bounds must increase"},
      {"-1ms", "'-1ms' is not a duration"},
      {"nanms", "'nanms' is not a duration"},
      {"infs", "'infs' is not a duration"},
      {"1us:10s", "is not a bucket layout"},
      {"1us:10s:0", "is not a bucket layout"},
      {"1us:10s:21", "is not a bucket layout"},
      {"10s:1us:4", "LOW must be below HIGH"},
      {"1ns:1000s:20", "makes 241 buckets, more than 100"},
  };
  for (const Case& c : cases) {
    std::string error;
    EXPECT_FALSE(parse_buckets(c.spec, error)) << c.spec;
    EXPECT_NE(error.find(c.error), std::string::npos) << c.spec << ": " << error;
  }
}

TEST(Labels, NamesFollowPrometheusAndOwnNamesAreRefused) {
  const std::array<std::string_view, 1> own = {"target"};
  LabelMap labels;
  std::string error;
  EXPECT_TRUE(add_label("node=a1", own, labels, error)) << error;
  EXPECT_TRUE(add_label("_zone2=eu west", own, labels, error)) << error;
  EXPECT_TRUE(add_label("site=Zürich", own, labels, error)) << error;
  EXPECT_EQ(labels, (LabelMap{{"node", "a1"}, {"_zone2", "eu west"}, {"site", "Zürich"}}));
  struct Case {
    std::string assignment;
    const char* error;
  };
  const std::vector<Case> cases = {
      {"node", "is not NAME=VALUE"},
      {"=x", "'' is not a label name"},
      {"2node=x", "'2node' is not a label name"},
      {"no-de=x", "'no-de' is not a label name"},
      {"__name__=x", "'__name__' is not a label name"},
      {"target=x", "'target' is a label mtool or Prometheus sets itself"},
      {"instance=x", "'instance' is a label mtool or Prometheus sets itself"},
      {"le=x", "'le' is a label"},
      {"node=b2", "'node' is given twice"},
      {"rack=", "'rack' has an empty value"},
      {"rack=a\nb", "not up to 256 bytes of UTF-8 without control characters"},
      {"rack=\xff", "not up to 256 bytes of UTF-8"},
      {"rack=\xc0\xaf", "not up to 256 bytes of UTF-8"},  // an overlong '/'
      {"rack=" + std::string(257, 'x'), "not up to 256 bytes"},
  };
  for (const Case& c : cases) {
    EXPECT_FALSE(add_label(c.assignment, own, labels, error)) << c.assignment;
    EXPECT_NE(error.find(c.error), std::string::npos) << c.assignment << ": " << error;
  }
  EXPECT_EQ(labels.size(), 3U);
}

TEST(Labels, AtMostSixteen) {
  LabelMap labels;
  std::string error;
  for (int i = 0; i < 16; ++i)
    ASSERT_TRUE(add_label("l" + std::to_string(i) + "=v", {}, labels, error)) << error;
  EXPECT_FALSE(add_label("l16=v", {}, labels, error));
  EXPECT_EQ(error, "more than 16 labels");
}

// The body of GET /metrics on 127.0.0.1:port (the whole response, headers included).
std::string scrape(std::uint16_t port) {
  const UniqueFd fd(::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0));
  sockaddr_in sin{};
  sin.sin_family = AF_INET;
  sin.sin_port = htons(port);
  sin.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  if (::connect(fd.get(), reinterpret_cast<const sockaddr*>(&sin), sizeof sin) != 0) return "";
  const std::string request = "GET /metrics HTTP/1.0\r\nHost: 127.0.0.1\r\n\r\n";
  if (::write(fd.get(), request.data(), request.size()) != static_cast<ssize_t>(request.size()))
    return "";
  std::string response;
  char buffer[4096];
  for (ssize_t n = 0; (n = ::read(fd.get(), buffer, sizeof buffer)) > 0;)
    response.append(buffer, static_cast<std::size_t>(n));
  return response;
}

// A counter and a histogram, as a source writes them; or a source that fails half-way.
class TestSource final : public MetricsSource {
 public:
  explicit TestSource(bool fail = false) : fail_(fail) {}
  void collect(MetricWriter& out) const override {
    out.family("mtool_test_total", "a test", MetricType::kCounter);
    out.sample({{"target", "198.18.0.2"}}, 3);
    if (fail_) throw std::runtime_error("gone");
    out.family("mtool_test_seconds", "a histogram", MetricType::kHistogram);
    const std::vector<HistogramBucket> buckets = {{0.001, 2}, {0.01, 5}, {kInfinity, 6}};
    out.histogram({{"target", "198.18.0.2"}}, buckets, 0.042);
  }

 private:
  static constexpr double kInfinity = std::numeric_limits<double>::infinity();
  bool fail_;
};

// The module sits where the executable's path says (the build tree's lib/mtool/), and says the
// interface version this mtool was built with.
TEST(ExporterModule, IsFoundNextToTheExecutableWithThisVersion) {
  EXPECT_NE(exporter_module_path().find("/lib/mtool/" MTOOL_EXPORTER_FILE), std::string::npos);
  EXPECT_EQ(::access(exporter_module_path().c_str(), R_OK), 0) << exporter_module_path();
  EXPECT_EQ(exporter_module().abi_version, MTOOL_EXPORTER_ABI_VERSION);
}

// What crosses the C interface comes out as Prometheus' text format, histograms cumulative with
// _sum and _count; a source that throws half-way serves nothing rather than half its figures.
TEST(ExporterModule, WritesTheSourcesFamiliesOrNothingWhenItFails) {
  const std::string text = render_text(TestSource());
  EXPECT_NE(
      text.find("# TYPE mtool_test_total counter\nmtool_test_total{target=\"198.18.0.2\"} 3\n"),
      std::string::npos)
      << text;
  EXPECT_NE(text.find("mtool_test_seconds_bucket{target=\"198.18.0.2\",le=\"0.01\"} 5\n"),
            std::string::npos)
      << text;
  EXPECT_NE(text.find("mtool_test_seconds_bucket{target=\"198.18.0.2\",le=\"+Inf\"} 6\n"),
            std::string::npos);
  EXPECT_NE(text.find("mtool_test_seconds_count{target=\"198.18.0.2\"} 6\n"), std::string::npos);
  EXPECT_NE(text.find("mtool_test_seconds_sum{target=\"198.18.0.2\"} 0.042\n"), std::string::npos);
  EXPECT_EQ(render_text(TestSource(true)), "");
}

TEST(MetricsServer, ServesItsSourceWhereAsked) {
  const MetricsServer server(ListenAddress{"127.0.0.1", 0}, std::make_shared<TestSource>());
  ASSERT_NE(server.port(), 0);
  EXPECT_EQ(server.url(), "http://127.0.0.1:" + std::to_string(server.port()) + "/metrics");
  const std::string response = scrape(server.port());
  EXPECT_NE(response.find("200 OK"), std::string::npos) << response;
  EXPECT_NE(response.find("mtool_test_total{target=\"198.18.0.2\"} 3"), std::string::npos)
      << response;
}

TEST(MetricsServer, APortInUseIsOneLineWithTheReason) {
  const auto source = std::make_shared<TestSource>();
  const MetricsServer first(ListenAddress{"127.0.0.1", 0}, source);
  try {
    const MetricsServer second(ListenAddress{"127.0.0.1", first.port()}, source);
    FAIL() << "a second server listens on the same port";
  } catch (const FatalError& e) {
    EXPECT_EQ(std::string(e.what()), "cannot serve metrics on 127.0.0.1:" +
                                         std::to_string(first.port()) + ": Address already in use");
    EXPECT_EQ(e.exit_code(), MetricsServer::kExitCannotListen);
  }
}

}  // namespace
}  // namespace mtool::metrics
