#include "analysis/report_columns.h"

namespace mtool::analysis {

namespace {

Cell ms(std::optional<double> value) {
  if (!value) return std::monostate{};
  return Milliseconds{*value};
}

Cell fraction(std::optional<double> value) {
  if (!value) return std::monostate{};
  return Fraction{*value};
}

void add_percentile_columns(std::vector<Column>& out, const std::string& group,
                            const std::string& prefix) {
  for (const char* p : {"p50", "p90", "p99"}) out.push_back({group, p, prefix + p + "_ms"});
}

}  // namespace

std::vector<Column> key_columns(const Grouping& grouping) {
  std::vector<Column> out{{"", "type", "type", true, true}};
  for (const GroupField field : grouping.fields) {
    switch (field) {
      case GroupField::kTarget:
        out.push_back({"", "target", "target", true, true});
        break;
      case GroupField::kVantage:
        out.push_back({"", "vantage", "vantage", true, true});
        break;
      case GroupField::kMsm:
        out.push_back({"", "msm", "msm_id"});
        break;
      case GroupField::kHour:
        out.push_back({"", "hour", "hour", true, true});
        break;
    }
  }
  return out;
}

std::vector<Cell> key_cells(const GroupKey& key, const Grouping& grouping) {
  std::vector<Cell> out{std::string(type_name(key.type))};
  for (const GroupField field : grouping.fields) {
    switch (field) {
      case GroupField::kTarget:
        out.emplace_back(key.target);
        break;
      case GroupField::kVantage:
        out.emplace_back(key.vantage);
        break;
      case GroupField::kMsm:
        out.emplace_back(key.msm.value_or(0));
        break;
      case GroupField::kHour:
        out.emplace_back(hour_text(key.hour.value_or(0)));
        break;
    }
  }
  return out;
}

std::vector<Column> summary_columns(const Grouping& grouping) {
  std::vector<Column> out = key_columns(grouping);
  out.push_back({"", "results", "results"});
  out.push_back({"", "sent", "sent"});
  out.push_back({"", "rcvd", "received"});
  out.push_back({"", "dup", "duplicates"});
  out.push_back({"", "err", "errors"});
  out.push_back({"", "late", "late", false});
  out.push_back({"", "loss", "loss"});
  add_percentile_columns(out, "raw RTT (ms)", "rtt_");
  add_percentile_columns(out, "corrected RTT (ms)", "corrected_");
  add_percentile_columns(out, "raw - corrected (ms)", "difference_");
  out.push_back({"overhead median (ms)", "total", "overhead_median_ms"});
  out.push_back({"overhead median (ms)", "egress", "egress_median_ms"});
  out.push_back({"overhead median (ms)", "ingress", "ingress_median_ms"});
  out.push_back({"replies", "corrected", "replies_corrected"});
  out.push_back({"replies", "virtual", "inside_host"});
  return out;
}

std::vector<Cell> summary_cells(const SummaryRow& row, const Grouping& grouping) {
  std::vector<Cell> out = key_cells(row.key, grouping);
  const auto& c = row.counts;
  for (const std::uint64_t count : {c.results, c.sent, c.received, c.duplicates, c.errors, c.late})
    out.emplace_back(count);
  out.push_back(fraction(row.loss));
  for (const Percentiles* p : {&row.raw, &row.corrected, &row.difference}) {
    out.push_back(ms(p->p50));
    out.push_back(ms(p->p90));
    out.push_back(ms(p->p99));
  }
  out.push_back(ms(row.overhead_median));
  out.push_back(ms(row.egress_median));
  out.push_back(ms(row.ingress_median));
  out.emplace_back(c.corrected);
  out.emplace_back(c.inside_host);
  return out;
}

std::vector<Column> path_columns(const Grouping& grouping) {
  std::vector<Column> out = key_columns(grouping);
  for (const char* name : {"runs", "distinct_paths", "path_changes", "hop", "probes", "replies",
                           "timeouts", "errors", "late", "duplicates", "unsent"})
    out.push_back({"", name, name});
  out.push_back({"", "loss", "loss"});
  out.push_back({"", "raw p50", "rtt_p50_ms"});
  out.push_back({"", "corrected p50", "corrected_p50_ms"});
  for (const char* name : {"address", "address_replies", "address_share", "virtual", "icmp_errors"})
    out.push_back({"", name, name});
  return out;
}

std::vector<std::vector<Cell>> path_cells(const PathRow& path, const Grouping& grouping) {
  std::vector<std::vector<Cell>> rows;
  for (const HopRow& hop : path.hops) {
    std::vector<Cell> head = key_cells(path.key, grouping);
    head.emplace_back(path.runs);
    head.emplace_back(static_cast<std::uint64_t>(path.distinct_paths));
    head.emplace_back(path.changes);
    head.emplace_back(std::uint64_t{hop.hop});
    for (const std::uint64_t count :
         {hop.probes, hop.replies, hop.timeouts, hop.errors, hop.late, hop.duplicates, hop.unsent})
      head.emplace_back(count);
    head.push_back(fraction(hop.loss));
    head.push_back(ms(hop.raw_median));
    head.push_back(ms(hop.corrected_median));
    auto with_address = [&](Cell address, std::uint64_t replies, Cell virtual_hop, Cell errors) {
      std::vector<Cell> row = head;
      row.push_back(std::move(address));
      row.emplace_back(replies);
      row.push_back(hop.replies == 0 ? Cell{}
                                     : Cell{Fraction{static_cast<double>(replies) /
                                                     static_cast<double>(hop.replies)}});
      row.push_back(std::move(virtual_hop));
      row.push_back(std::move(errors));
      rows.push_back(std::move(row));
    };
    for (const AddressRow& a : hop.addresses)
      with_address(a.address, a.replies, a.virtual_hop, a.errors);
    if (hop.other_replies > 0) with_address(std::string("other"), hop.other_replies, {}, {});
    if (hop.addresses.empty() && hop.other_replies == 0) {
      std::vector<Cell> row = head;
      row.resize(row.size() + 5);
      rows.push_back(std::move(row));
    }
  }
  return rows;
}

}  // namespace mtool::analysis
