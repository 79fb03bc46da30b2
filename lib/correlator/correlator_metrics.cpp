#include "correlator/correlator_metrics.h"

#include <array>
#include <initializer_list>
#include <utility>

namespace mtool::correlator {
namespace {

using metrics::MetricType;
using metrics::MetricWriter;

// Dividing (1e9 is exact) gives the double nearest the decimal: 2048 ns is 2.048e-06 s.
constexpr double kNsPerSecond = 1e9;

void counter(MetricWriter& out, const char* name, const char* help, double value) {
  out.family(name, help, MetricType::kCounter);
  out.sample({}, value);
}

// A counter family with one label: a value for each of the label's values.
void counters_by(MetricWriter& out, const char* name, const char* help, const char* label,
                 std::initializer_list<std::pair<const char*, std::uint64_t>> values) {
  out.family(name, help, MetricType::kCounter);
  for (const auto& [label_value, value] : values)
    out.sample({{label, label_value}}, static_cast<double>(value));
}

// A figure the kernel keeps by index (MTOOL_CTR_*, MTOOL_HISTOGRAM_*), under its metric's name.
struct IndexedFamily {
  int index;
  const char* name;
  const char* help;
};

// The programs' counters (bpf/correlator_abi.h), each under its own name.
constexpr std::array<IndexedFamily, MTOOL_CTR_COUNT> kKernelCounters = {{
    {MTOOL_CTR_EGRESS_STARTED, "mtool_correlator_probes_followed_total",
     "Probes seen leaving a subscribed namespace and followed."},
    {MTOOL_CTR_EGRESS_COMPLETED, "mtool_correlator_probes_left_total",
     "Followed probes that reached an uplink."},
    {MTOOL_CTR_REPLIES_MATCHED, "mtool_correlator_replies_matched_total",
     "Replies on an uplink (or made by the host) matched to a followed probe."},
    {MTOOL_CTR_RECORDS_WRITTEN, "mtool_correlator_records_written_total",
     "Replies followed back into their namespace: records written."},
    {MTOOL_CTR_UNMATCHED_REPLIES, "mtool_correlator_replies_unmatched_total",
     "Replies on an uplink with no probe waiting for them."},
    {MTOOL_CTR_STALE_FLIGHTS, "mtool_correlator_stale_flights_total",
     "Flights whose buffer was reused before they ended."},
    {MTOOL_CTR_TOO_MANY_CROSSINGS, "mtool_correlator_crossings_unrecorded_total",
     "Device crossings beyond what a record holds."},
    {MTOOL_CTR_MAP_FULL, "mtool_correlator_map_full_total", "Updates a full map refused."},
    {MTOOL_CTR_SLOT_COLLISIONS, "mtool_correlator_collisions_total",
     "Flights that displaced another one still inside the host."},
    {MTOOL_CTR_RATE_LIMITED, "mtool_correlator_probes_over_rate_total",
     "Probes not followed: their namespace exceeded its rate."},
    {MTOOL_CTR_QUOTA_FULL, "mtool_correlator_probes_over_quota_total",
     "Probes not followed: their namespace's quota of waiting probes was full."},
    {MTOOL_CTR_FOREIGN_CROSSINGS, "mtool_correlator_foreign_crossings_total",
     "Packets posing as a probe's target side or as the host's answer, ignored."},
    {MTOOL_CTR_HISTOGRAMS_FULL, "mtool_correlator_histograms_full_total",
     "Records not counted in a histogram: no room for another namespace."},
}};

constexpr std::array<IndexedFamily, MTOOL_HISTOGRAM_KINDS> kDistributions = {{
    {MTOOL_HISTOGRAM_EGRESS, "mtool_correlator_egress_overhead_seconds",
     "Per measuring namespace: a probe's time from its sender's device to the uplink."},
    {MTOOL_HISTOGRAM_INGRESS, "mtool_correlator_ingress_overhead_seconds",
     "Per measuring namespace: a reply's time from the uplink to its sender's device."},
    {MTOOL_HISTOGRAM_WIRE, "mtool_correlator_wire_rtt_seconds",
     "Per measuring namespace: a probe's round trip from the uplink and back (the host's "
     "turnaround for an answer made inside the host)."},
}};

void socket_families(MetricWriter& out, const LoopFigures& loop) {
  const QueryCounters& q = loop.socket;
  counter(out, "mtool_correlator_records_served_total",
          "Records handed out through the socket (tools reading the pinned maps take theirs "
          "themselves, uncounted).",
          static_cast<double>(q.found));
  counter(out, "mtool_correlator_records_withheld_total",
          "Record queries refused: the record was another process's.",
          static_cast<double>(q.withheld));
  counter(out, "mtool_correlator_socket_queries_total", "Queries answered.",
          static_cast<double>(q.queries));
  counter(out, "mtool_correlator_socket_connections_total", "Connections accepted.",
          static_cast<double>(q.connections));
  counter(out, "mtool_correlator_socket_closed_idle_total", "Connections closed for being idle.",
          static_cast<double>(q.closed_idle));
  counters_by(out, "mtool_correlator_socket_refused_total",
              "Connections refused, by the limit they hit.", "limit",
              {{"process", q.refused_per_process},
               {"namespace", q.refused_per_namespace},
               {"total", q.refused_total},
               {"unknown_peer", q.refused_unknown_peer}});
  if (!loop.listeners_on) return;
  out.family("mtool_correlator_namespace_listeners", "Namespaces the socket listens in now.",
             MetricType::kGauge);
  out.sample({}, static_cast<double>(loop.listeners_open));
  const ListenerCounters& l = loop.listeners;
  counters_by(
      out, "mtool_correlator_namespace_listener_events_total",
      "Listeners opened and closed, namespaces whose name was taken, and namespaces that "
      "could not be entered.",
      "event",
      {{"opened", l.opened}, {"closed", l.closed}, {"taken", l.taken}, {"failed", l.failed}});
}

void map_families(MetricWriter& out, const LoopFigures& loop) {
  const Evictions& e = loop.evicted;
  counters_by(out, "mtool_correlator_evictions_total",
              "Entries the daemon deleted: probes unanswered, records untaken, subscriptions of "
              "namespaces without a tool, histograms of namespaces gone.",
              "map",
              {{"waiting", e.waiting},
               {"records", e.records},
               {"subscribers", e.subscriptions},
               {"histograms", e.histograms}});
  out.family("mtool_correlator_map_entries", "Entries in a bounded map, as last counted.",
             MetricType::kGauge);
  for (const MapFill& m : loop.maps) out.sample({{"map", m.map}}, static_cast<double>(m.entries));
  out.family("mtool_correlator_map_capacity_entries", "Entries a bounded map can hold.",
             MetricType::kGauge);
  for (const MapFill& m : loop.maps) out.sample({{"map", m.map}}, static_cast<double>(m.capacity));
}

void program_families(MetricWriter& out, const DaemonFigures& figures) {
  if (!figures.program_stats) return;
  out.family("mtool_correlator_program_runs_total",
             "Runs of each program, while BPF run-time statistics are on.", MetricType::kCounter);
  for (const ProgramCost& p : figures.programs)
    out.sample({{"program", p.tracepoint}}, static_cast<double>(p.events));
  out.family("mtool_correlator_program_run_seconds_total",
             "Time spent in each program, while BPF run-time statistics are on (per run: its "
             "rate over the rate of runs).",
             MetricType::kCounter);
  for (const ProgramCost& p : figures.programs)
    out.sample({{"program", p.tracepoint}}, static_cast<double>(p.run_time_ns) / kNsPerSecond);
}

void histogram_families(MetricWriter& out, const std::vector<NamespaceDistributions>& all,
                        unsigned per_octave) {
  std::vector<metrics::HistogramBucket> buckets;
  for (const IndexedFamily& d : kDistributions) {
    out.family(d.name, d.help, MetricType::kHistogram);
    for (const NamespaceDistributions& ns : all) {
      const LatencyDistribution& dist = ns.kind[static_cast<std::size_t>(d.index)];
      buckets.clear();
      for (const CumulativeBucket& b : cumulative_buckets(dist, per_octave))
        buckets.push_back({b.upper_s, b.count});
      out.histogram({{"container_id", ns.workload.container_id},
                     {"netns", std::to_string(ns.netns)},
                     {"pod_uid", ns.workload.pod_uid}},
                    buckets, static_cast<double>(dist.sum_ns) / kNsPerSecond);
    }
  }
}

}  // namespace

void CorrelatorFigures::collect(MetricWriter& out) const {
  const DaemonFigures figures = gather_();
  for (const IndexedFamily& c : kKernelCounters)
    counter(out, c.name, c.help,
            static_cast<double>(figures.kernel[static_cast<std::size_t>(c.index)]));
  socket_families(out, figures.loop);
  map_families(out, figures.loop);
  program_families(out, figures);
  histogram_families(out, figures.namespaces, per_octave_);
}

}  // namespace mtool::correlator
