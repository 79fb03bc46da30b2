#include "analysis/report_model.h"

namespace mtool::analysis {

namespace {

Percentiles percentiles(const stats::LatencyHistogram& h) {
  return {quantile_ms(h, 0.5), quantile_ms(h, 0.9), quantile_ms(h, 0.99)};
}

std::optional<double> minus(std::optional<double> a, std::optional<double> b) {
  if (!a || !b) return std::nullopt;
  return *a - *b;
}

std::optional<double> fraction_lost(std::uint64_t sent, std::uint64_t answered) {
  if (sent == 0) return std::nullopt;
  const std::uint64_t lost = answered >= sent ? 0 : sent - answered;
  return static_cast<double>(lost) / static_cast<double>(sent);
}

SummaryRow summary_row(const Group& group) {
  const SummaryAccumulator& s = group.summary;
  SummaryRow row;
  row.key = group.key;
  row.counts = s.counts();
  row.loss = fraction_lost(row.counts.sent, row.counts.received);
  row.raw = percentiles(s.raw());
  row.corrected = percentiles(s.corrected());
  row.difference = {minus(row.raw.p50, row.corrected.p50), minus(row.raw.p90, row.corrected.p90),
                    minus(row.raw.p99, row.corrected.p99)};
  row.overhead_median = quantile_ms(s.overhead(), 0.5);
  row.egress_median = quantile_ms(s.egress(), 0.5);
  row.ingress_median = quantile_ms(s.ingress(), 0.5);
  return row;
}

HopRow hop_row(unsigned number, const PathAccumulator::HopStats& h) {
  HopRow row{.hop = number,
             .probes = h.probes,
             .replies = h.replies,
             .timeouts = h.timeouts,
             .errors = h.errors,
             .late = h.late,
             .duplicates = h.duplicates,
             .unsent = h.unsent,
             .loss = fraction_lost(h.probes, h.replies),
             .raw_median = quantile_ms(h.raw, 0.5),
             .corrected_median = quantile_ms(h.corrected, 0.5),
             .addresses = {},
             .other_replies = h.other_replies};
  for (const auto& a : h.addresses) {
    row.addresses.push_back(
        {.address = a.address,
         .replies = a.replies,
         .share =
             h.replies == 0 ? 0 : static_cast<double>(a.replies) / static_cast<double>(h.replies),
         .virtual_hop = a.inside_host > 0,
         .errors = a.errors});
  }
  return row;
}

PathRow path_row(const Group& group) {
  const PathAccumulator& p = *group.path;
  PathRow row{.key = group.key,
              .runs = p.runs(),
              .distinct_paths = p.distinct_paths(),
              .distinct_paths_capped = p.distinct_paths_capped(),
              .changes = p.changes(),
              .paris_ids = p.paris_ids(),
              .hops = {}};
  for (const auto& [number, hop] : p.hops()) row.hops.push_back(hop_row(number, hop));
  return row;
}

}  // namespace

std::optional<double> quantile_ms(const stats::LatencyHistogram& histogram, double q) {
  const auto ns = histogram.quantile(q);
  if (!ns) return std::nullopt;
  return static_cast<double>(*ns) / 1e6;
}

Report make_report(const ReportAggregator& aggregator, const InputTotals& input) {
  Report report{.grouping = aggregator.grouping(), .input = input, .summary = {}, .paths = {}};
  for (const Group* group : aggregator.groups()) {
    report.summary.push_back(summary_row(*group));
    if (group->path && group->path->runs() > 0) report.paths.push_back(path_row(*group));
  }
  return report;
}

}  // namespace mtool::analysis
