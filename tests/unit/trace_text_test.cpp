// traceroute's text output: Butskoy's layout byte for byte, and mtool's corrected times.
#include "report/trace_text.h"

#include <gtest/gtest.h>

#include <cstdio>
#include <cstdlib>
#include <string>
#include <vector>

namespace mtool::trace {
namespace {

constexpr WallNs kSent = 1'700'000'000LL * kNsPerSec;

report::HopProbe answered(const std::string& from, std::int64_t rtt_ns,
                          const std::string& annotation = "") {
  report::HopProbe p;
  p.sent = p.done = true;
  p.user_tx = kSent;
  p.rx = kSent + rtt_ns;
  p.from = *net::IpAddress::parse(from);
  p.annotation = annotation;
  return p;
}

report::HopProbe silent() {
  report::HopProbe p;
  p.sent = p.done = true;
  return p;
}

correlate::ProbeOverhead overhead(std::int64_t egress, std::int64_t ingress, bool inside = false) {
  correlate::ProbeOverhead o;
  o.egress_ns = egress;
  o.ingress_ns = ingress;
  o.answered_inside_host = inside;
  return o;
}

std::string render(const std::vector<report::HopProbe>& probes, unsigned per_hop,
                   bool numeric = true) {
  char* buffer = nullptr;
  std::size_t size = 0;
  std::FILE* out = open_memstream(&buffer, &size);
  net::AddressNamer namer(numeric, true);
  report::TraceTextPrinter printer(out, namer, {per_hop, false, false});
  printer.header({"target", "198.18.0.9", 30, 60});
  for (std::size_t i = 0; i < probes.size(); ++i) printer.print_probe(probes, i);
  printer.end();
  std::fclose(out);
  std::string text(buffer, size);
  std::free(buffer);
  return text;
}

TEST(TraceText, HeaderAndHopsAsButskoy) {
  const std::vector<report::HopProbe> probes = {
      answered("198.18.0.1", 49'000), answered("198.18.0.1", 5'000), answered("198.18.0.1", 4'000)};
  EXPECT_EQ(render(probes, 3),
            "traceroute to target (198.18.0.9), 30 hops max, 60 byte packets\n"
            " 1  198.18.0.1  0.049 ms  0.005 ms  0.004 ms\n");
}

TEST(TraceText, AddressRepeatsOnlyWhenItChangesAndSilenceIsAStar) {
  const std::vector<report::HopProbe> probes = {silent(),
                                                answered("198.18.0.5", 50'000),
                                                silent(),
                                                answered("198.18.0.5", 60'000),
                                                answered("198.18.0.6", 70'000),
                                                answered("198.18.0.5", 80'000)};
  EXPECT_EQ(render(probes, 3),
            "traceroute to target (198.18.0.9), 30 hops max, 60 byte packets\n"
            " 1  * 198.18.0.5  0.050 ms *\n"
            " 2  198.18.0.5  0.060 ms 198.18.0.6  0.070 ms 198.18.0.5  0.080 ms\n");
}

TEST(TraceText, NamesWithoutReverseEntriesPrintTheAddressTwice) {
  const std::vector<report::HopProbe> probes = {answered("198.18.255.254", 1'000'000)};
  EXPECT_EQ(render(probes, 1, false),
            "traceroute to target (198.18.0.9), 30 hops max, 60 byte packets\n"
            " 1  198.18.255.254 (198.18.255.254)  1.000 ms\n");
}

TEST(TraceText, AnnotationsFollowTheTime) {
  const std::vector<report::HopProbe> probes = {answered("198.18.0.9", 68'000, "!H"),
                                                answered("198.18.0.9", 4'000, "!H")};
  EXPECT_EQ(render(probes, 2),
            "traceroute to target (198.18.0.9), 30 hops max, 60 byte packets\n"
            " 1  198.18.0.9  0.068 ms !H  0.004 ms !H\n");
}

TEST(TraceText, CorrectedTimeFollowsEachMeasuredProbe) {
  std::vector<report::HopProbe> probes = {answered("198.19.0.2", 80'000),
                                          answered("198.19.0.2", 60'000, "!X"),
                                          answered("198.19.0.2", 50'000)};
  probes[0].overhead = overhead(30'000, 9'000);
  probes[1].overhead = overhead(10'000, 10'000);
  // probes[2]: the correlator missed it; printed raw only.
  EXPECT_EQ(
      render(probes, 3),
      "traceroute to target (198.18.0.9), 30 hops max, 60 byte packets\n"
      " 1  198.19.0.2  0.080 ms (corrected 0.041)  0.060 ms !X (corrected 0.040)  0.050 ms\n");
}

TEST(TraceText, AHopAnsweredInsideTheHostIsVirtualAndAllOverhead) {
  std::vector<report::HopProbe> probes = {answered("198.18.16.1", 49'000),
                                          answered("198.18.16.1", 12'000)};
  probes[0].overhead = overhead(20'000, 4'000, true);
  probes[1].overhead = overhead(5'000, 3'000, true);
  EXPECT_EQ(render(probes, 2),
            "traceroute to target (198.18.0.9), 30 hops max, 60 byte packets\n"
            " 1  198.18.16.1 [virtual]  0.049 ms (overhead)  0.012 ms (overhead)\n");
}

TEST(TraceText, AnOverheadLargerThanTheRttIsNotPrinted) {
  std::vector<report::HopProbe> probes = {answered("198.19.0.2", 10'000)};
  probes[0].overhead = overhead(9'000, 9'000);
  EXPECT_EQ(report::correction_suffix(probes[0]), "");
}

}  // namespace
}  // namespace mtool::trace
