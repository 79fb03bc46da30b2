#pragma once
// traceroute's text output, Butskoy's byte for byte (header without newline, each hop on its
// own line opened by "\n%2u ", an address printed again only when it changes within the hop,
// "*" for silence, annotations), with mtool's corrected times added after each probe.
#include <cstdio>
#include <string>
#include <vector>

#include "net/address.h"
#include "report/hop_probe.h"
#include "report/probe_printer.h"

namespace mtool::report {

struct TraceHeader {
  std::string host;          // as given on the command line
  std::string address_text;  // numeric
  unsigned max_hops = 30;
  std::size_t packet_length = 60;
};

struct TraceTextOptions {
  unsigned probes_per_hop = 3;
  bool back = false;       // --back: print the guessed hops back when they differ
  bool breakdown = false;  // --breakdown: device lines after each hop
};

class TraceTextPrinter final : public ProbePrinter {
 public:
  TraceTextPrinter(std::FILE* out, net::AddressNamer& namer, TraceTextOptions options)
      : out_(out), namer_(namer), options_(options) {}
  void header(const TraceHeader& header);
  void print_probe(const std::vector<HopProbe>& probes, std::size_t index) override;
  void end();

 private:
  void print_breakdown(const std::vector<HopProbe>& probes, std::size_t first);
  std::FILE* out_;
  net::AddressNamer& namer_;
  TraceTextOptions options_;
};

// " (corrected 0.041)" / " (overhead)" / "" for one answered probe.
std::string correction_suffix(const HopProbe& probe);

}  // namespace mtool::report
