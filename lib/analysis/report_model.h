#pragma once
// What a report says, in numbers, whatever it is written as (text, JSON, CSV): one row per
// group (a summary), and per traceroute group its path hop by hop. Times in milliseconds;
// nullopt where there is nothing to say (no reply, no correction).
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "analysis/grouping.h"
#include "analysis/report_aggregator.h"
#include "analysis/report_input.h"
#include "analysis/summary_accumulator.h"

namespace mtool::analysis {

struct Percentiles {
  std::optional<double> p50, p90, p99;
};

struct SummaryRow {
  GroupKey key;
  SummaryAccumulator::Counts counts;
  std::optional<double> loss;  // fraction of what was sent that got no reply
  Percentiles raw;
  Percentiles corrected;
  Percentiles difference;  // raw minus corrected, percentile by percentile: how raw misleads
  std::optional<double> overhead_median, egress_median, ingress_median;
};

struct AddressRow {
  std::string address;
  std::uint64_t replies = 0;
  double share = 0;          // of the hop's replies
  bool virtual_hop = false;  // the host answered it itself (inside its virtual network)
  std::string errors;        // Atlas' error codes seen from it, comma-separated
};

struct HopRow {
  unsigned hop = 0;
  std::uint64_t probes = 0, replies = 0, timeouts = 0, errors = 0, late = 0, duplicates = 0;
  std::uint64_t unsent = 0;
  std::optional<double> loss;
  std::optional<double> raw_median, corrected_median;
  std::vector<AddressRow> addresses;
  std::uint64_t other_replies = 0;  // from addresses beyond the ones kept
};

struct PathRow {
  GroupKey key;
  std::uint64_t runs = 0;
  std::size_t distinct_paths = 0;
  bool distinct_paths_capped = false;  // at least that many
  std::uint64_t changes = 0;
  std::size_t paris_ids = 0;
  std::vector<HopRow> hops;
};

struct Report {
  Grouping grouping;
  InputTotals input;
  std::vector<SummaryRow> summary;
  std::vector<PathRow> paths;
};

Report make_report(const ReportAggregator& aggregator, const InputTotals& input);

// A histogram's quantile in milliseconds.
std::optional<double> quantile_ms(const stats::LatencyHistogram& histogram, double q);

}  // namespace mtool::analysis
