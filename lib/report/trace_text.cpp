#include "report/trace_text.h"

#include "correlate/correction.h"
#include "report/overhead_breakdown.h"

namespace mtool::report {
namespace {

std::string milliseconds(std::int64_t ns) {
  char text[32];
  std::snprintf(text, sizeof text, "%.3f", static_cast<double>(ns) / 1e6);
  return text;
}

}  // namespace

std::string correction_suffix(const HopProbe& probe) {
  if (!probe.rx || !probe.overhead) return "";
  if (probe.answered_inside_host()) return " (overhead)";
  const auto corrected = correlate::correct_rtt(probe.rtt_ns(), *probe.overhead);
  if (!corrected) return "";
  return " (corrected " + milliseconds(corrected->corrected_ns) + ")";
}

void TraceTextPrinter::header(const TraceHeader& h) {
  // No newline: each hop line starts with one (Butskoy's layout).
  std::fprintf(out_, "traceroute to %s (%s), %u hops max, %zu byte packets", h.host.c_str(),
               h.address_text.c_str(), h.max_hops, h.packet_length);
  std::fflush(out_);
}

void TraceTextPrinter::print_probe(const std::vector<HopProbe>& probes, std::size_t index) {
  const HopProbe& pb = probes[index];
  const unsigned per_hop = options_.probes_per_hop;
  const unsigned ttl = static_cast<unsigned>(index / per_hop) + 1;
  std::size_t np = index % per_hop;
  if (np == 0) std::fprintf(out_, "\n%2u ", ttl);

  if (pb.from.empty()) {
    std::fputs(" *", out_);
  } else {
    bool print_address = np == 0;
    if (np != 0) {
      // Compare with the last answered probe of this hop.
      std::size_t p = index - 1;
      for (; np != 0 && probes[p].from.empty(); --p, --np) {
      }
      print_address = np == 0 || !probes[p].from.same_host(pb.from) ||
                      probes[p].extension != pb.extension ||
                      probes[p].answered_inside_host() != pb.answered_inside_host() ||
                      (options_.back && probes[p].reply_ttl != pb.reply_ttl);
    }
    if (print_address) {
      std::fprintf(out_, " %s", namer_.describe(pb.from).c_str());
      if (!pb.extension.empty()) std::fprintf(out_, " <%s>", pb.extension.c_str());
      if (options_.back && pb.reply_ttl != 0) {
        const int hops = hops_back(pb.reply_ttl);
        if (hops != static_cast<int>(ttl)) std::fprintf(out_, " '-%d'", hops);
      }
      if (pb.answered_inside_host()) std::fputs(" [virtual]", out_);
    }
  }
  if (pb.rx) std::fprintf(out_, "  %s ms", milliseconds(pb.rtt_ns()).c_str());
  if (!pb.annotation.empty()) std::fprintf(out_, " %s", pb.annotation.c_str());
  std::fputs(correction_suffix(pb).c_str(), out_);
  if (options_.breakdown && index % per_hop == per_hop - 1) {
    print_breakdown(probes, index + 1 - per_hop);
  }
  std::fflush(out_);
}

void TraceTextPrinter::print_breakdown(const std::vector<HopProbe>& probes, std::size_t first) {
  // Each line starts a new one: the hop line is still open, and the next hop opens its own.
  for (std::size_t i = first; i < first + options_.probes_per_hop; ++i) {
    const auto& pb = probes[i];
    if (!pb.rx || !pb.overhead) continue;
    const auto corrected = correlate::correct_rtt(pb.rtt_ns(), *pb.overhead);
    const std::string label = "probe " + std::to_string(i - first + 1) + " ";
    for (const auto& line : report::overhead_breakdown_lines(
             *pb.overhead, corrected ? corrected->shared_ns : 0, label)) {
      std::fprintf(out_, "\n%s", line.c_str());
    }
  }
}

void TraceTextPrinter::end() {
  std::fputc('\n', out_);
  std::fflush(out_);
}

}  // namespace mtool::report
