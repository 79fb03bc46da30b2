#include "correlator/correlator_metrics.h"

#include <arpa/inet.h>
#include <prometheus/collectable.h>
#include <prometheus/exposer.h>
#include <prometheus/metric_family.h>

#include <array>
#include <charconv>
#include <exception>
#include <initializer_list>
#include <iterator>
#include <utility>

#include "util/error.h"

namespace mtool::correlator {
namespace {

using prometheus::ClientMetric;
using prometheus::MetricFamily;
using prometheus::MetricType;

// Dividing (1e9 is exact) gives the double nearest the decimal: 2048 ns is 2.048e-06 s.
constexpr double kNsPerSecond = 1e9;
// The exposer's threads, and how long one request may take: a client that stalls holds a
// thread no longer than this (the daemon's own loop never waits for them).
constexpr const char* kHttpThreads = "2";
constexpr const char* kRequestTimeoutMs = "5000";

MetricFamily family(std::string name, std::string help, MetricType type) {
  return MetricFamily{std::move(name), std::move(help), type, {}};
}

void add_counter(MetricFamily& f, double value, std::vector<ClientMetric::Label> labels = {}) {
  ClientMetric m;
  m.label = std::move(labels);
  m.counter.value = value;
  f.metric.push_back(std::move(m));
}

void add_gauge(MetricFamily& f, double value, std::vector<ClientMetric::Label> labels = {}) {
  ClientMetric m;
  m.label = std::move(labels);
  m.gauge.value = value;
  f.metric.push_back(std::move(m));
}

MetricFamily counter(std::string name, std::string help, double value) {
  MetricFamily f = family(std::move(name), std::move(help), MetricType::Counter);
  add_counter(f, value);
  return f;
}

// A counter family with one label: a value for each of the label's values.
MetricFamily counters_by(std::string name, std::string help, const std::string& label,
                         std::initializer_list<std::pair<const char*, std::uint64_t>> values) {
  MetricFamily f = family(std::move(name), std::move(help), MetricType::Counter);
  for (const auto& [label_value, value] : values)
    add_counter(f, static_cast<double>(value), {{label, label_value}});
  return f;
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

std::vector<MetricFamily> socket_families(const LoopFigures& loop) {
  std::vector<MetricFamily> out;
  const QueryCounters& q = loop.socket;
  out.push_back(counter("mtool_correlator_records_served_total",
                        "Records handed out through the socket (tools reading the pinned maps "
                        "take theirs themselves, uncounted).",
                        static_cast<double>(q.found)));
  out.push_back(counter("mtool_correlator_records_withheld_total",
                        "Record queries refused: the record was another process's.",
                        static_cast<double>(q.withheld)));
  out.push_back(counter("mtool_correlator_socket_queries_total", "Queries answered.",
                        static_cast<double>(q.queries)));
  out.push_back(counter("mtool_correlator_socket_connections_total", "Connections accepted.",
                        static_cast<double>(q.connections)));
  out.push_back(counter("mtool_correlator_socket_closed_idle_total",
                        "Connections closed for being idle.", static_cast<double>(q.closed_idle)));
  out.push_back(counters_by("mtool_correlator_socket_refused_total",
                            "Connections refused, by the limit they hit.", "limit",
                            {{"process", q.refused_per_process},
                             {"namespace", q.refused_per_namespace},
                             {"total", q.refused_total},
                             {"unknown_peer", q.refused_unknown_peer}}));
  if (loop.listeners_on) {
    MetricFamily open = family("mtool_correlator_namespace_listeners",
                               "Namespaces the socket listens in now.", MetricType::Gauge);
    add_gauge(open, static_cast<double>(loop.listeners_open));
    out.push_back(std::move(open));
    const ListenerCounters& l = loop.listeners;
    out.push_back(counters_by(
        "mtool_correlator_namespace_listener_events_total",
        "Listeners opened and closed, namespaces whose name was taken, "
        "and namespaces that could not be entered.",
        "event",
        {{"opened", l.opened}, {"closed", l.closed}, {"taken", l.taken}, {"failed", l.failed}}));
  }
  return out;
}

std::vector<MetricFamily> map_families(const LoopFigures& loop) {
  const Evictions& e = loop.evicted;
  MetricFamily evictions =
      counters_by("mtool_correlator_evictions_total",
                  "Entries the daemon deleted: probes unanswered, records untaken, "
                  "subscriptions of namespaces without a tool, histograms of namespaces gone.",
                  "map",
                  {{"waiting", e.waiting},
                   {"records", e.records},
                   {"subscribers", e.subscriptions},
                   {"histograms", e.histograms}});
  MetricFamily entries = family("mtool_correlator_map_entries",
                                "Entries in a bounded map, as last counted.", MetricType::Gauge);
  MetricFamily capacity = family("mtool_correlator_map_capacity_entries",
                                 "Entries a bounded map can hold.", MetricType::Gauge);
  for (const MapFill& m : loop.maps) {
    add_gauge(entries, static_cast<double>(m.entries), {{"map", m.map}});
    add_gauge(capacity, static_cast<double>(m.capacity), {{"map", m.map}});
  }
  return {std::move(evictions), std::move(entries), std::move(capacity)};
}

std::vector<MetricFamily> program_families(const DaemonFigures& figures) {
  if (!figures.program_stats) return {};
  MetricFamily runs =
      family("mtool_correlator_program_runs_total",
             "Runs of each program, while BPF run-time statistics are on.", MetricType::Counter);
  MetricFamily seconds =
      family("mtool_correlator_program_run_seconds_total",
             "Time spent in each program, while BPF run-time statistics are on (per run: its "
             "rate over the rate of runs).",
             MetricType::Counter);
  for (const ProgramCost& p : figures.programs) {
    add_counter(runs, static_cast<double>(p.events), {{"program", p.tracepoint}});
    add_counter(seconds, static_cast<double>(p.run_time_ns) / kNsPerSecond,
                {{"program", p.tracepoint}});
  }
  return {std::move(runs), std::move(seconds)};
}

std::vector<MetricFamily> histogram_families(const std::vector<NamespaceDistributions>& all,
                                             unsigned per_octave) {
  std::vector<MetricFamily> out;
  for (const IndexedFamily& d : kDistributions) {
    MetricFamily f = family(d.name, d.help, MetricType::Histogram);
    for (const NamespaceDistributions& ns : all) {
      const LatencyDistribution& dist = ns.kind[static_cast<std::size_t>(d.index)];
      ClientMetric m;
      m.label = {{"container_id", ns.workload.container_id},
                 {"netns", std::to_string(ns.netns)},
                 {"pod_uid", ns.workload.pod_uid}};
      for (const CumulativeBucket& b : cumulative_buckets(dist, per_octave))
        m.histogram.bucket.push_back({b.count, b.upper_s});
      m.histogram.sample_count = m.histogram.bucket.back().cumulative_count;
      m.histogram.sample_sum = static_cast<double>(dist.sum_ns) / kNsPerSecond;
      f.metric.push_back(std::move(m));
    }
    out.push_back(std::move(f));
  }
  return out;
}

class FiguresCollectable : public prometheus::Collectable {
 public:
  FiguresCollectable(unsigned per_octave, std::function<DaemonFigures()> gather)
      : per_octave_(per_octave), gather_(std::move(gather)) {}

  std::vector<MetricFamily> Collect() const override {
    const DaemonFigures figures = gather_();
    std::vector<MetricFamily> out;
    out.reserve(kKernelCounters.size());
    for (const IndexedFamily& c : kKernelCounters)
      out.push_back(counter(
          c.name, c.help, static_cast<double>(figures.kernel[static_cast<std::size_t>(c.index)])));
    std::array<std::vector<MetricFamily>, 4> parts = {
        socket_families(figures.loop), map_families(figures.loop), program_families(figures),
        histogram_families(figures.namespaces, per_octave_)};
    for (std::vector<MetricFamily>& part : parts)
      std::move(part.begin(), part.end(), std::back_inserter(out));
    return out;
  }

 private:
  unsigned per_octave_;
  std::function<DaemonFigures()> gather_;
};

}  // namespace

std::optional<std::string> metrics_listen_address(const std::string& text, std::string& error) {
  const std::size_t colon = text.rfind(':');
  if (colon == std::string::npos || colon == 0) {
    error = "wants ADDR:PORT, an IP address and a port (127.0.0.1:9462, [::1]:9462)";
    return std::nullopt;
  }
  std::string host = text.substr(0, colon);
  const std::string port_text = text.substr(colon + 1);
  unsigned port = 0;
  const auto [end, ec] =
      std::from_chars(port_text.data(), port_text.data() + port_text.size(), port);
  if (ec != std::errc() || end != port_text.data() + port_text.size() || port == 0 ||
      port > 65535) {
    error = "port '" + port_text + "' is not a number from 1 to 65535";
    return std::nullopt;
  }
  const bool bracketed = host.size() > 2 && host.front() == '[' && host.back() == ']';
  std::array<unsigned char, 16> bytes{};
  const bool valid =
      bracketed ? inet_pton(AF_INET6, host.substr(1, host.size() - 2).c_str(), bytes.data()) == 1
                : inet_pton(AF_INET, host.c_str(), bytes.data()) == 1;
  if (!valid) {
    error = "'" + host + "' is not an IPv4 address or a bracketed IPv6 address";
    return std::nullopt;
  }
  return host + ":" + std::to_string(port);
}

CorrelatorMetrics::CorrelatorMetrics(const std::string& address, unsigned per_octave,
                                     std::function<DaemonFigures()> gather)
    : collectable_(std::make_shared<FiguresCollectable>(per_octave, std::move(gather))) {
  try {
    exposer_ = std::make_unique<prometheus::Exposer>(std::vector<std::string>{
        "listening_ports", address, "num_threads", kHttpThreads, "request_timeout_ms",
        kRequestTimeoutMs, "enable_keep_alive", "no"});
  } catch (const std::exception&) {
    throw FatalError("cannot serve metrics on " + address +
                         " (in use, not an address of this host, or below 1024: the "
                         "correlator drops CAP_NET_BIND_SERVICE before it listens)",
                     1);
  }
  exposer_->RegisterCollectable(collectable_);
}

CorrelatorMetrics::~CorrelatorMetrics() = default;

int CorrelatorMetrics::port() const {
  const std::vector<int> ports = exposer_->GetListeningPorts();
  return ports.empty() ? 0 : ports.front();
}

}  // namespace mtool::correlator
