#include "campaign/trace_run.h"

#include "probe/icmp_codec.h"
#include "trace/method_factory.h"

namespace mtool::campaign {

// Turns each settled probe, in hop order, into an Atlas reply entry.
class TraceRun::HopCollector final : public report::ProbePrinter {
 public:
  HopCollector(unsigned per_hop, const net::IpAddress& destination, bool breakdown)
      : per_hop_(per_hop), destination_(destination), breakdown_(breakdown) {}

  void print_probe(const std::vector<report::HopProbe>& probes, std::size_t index) override {
    const report::HopProbe& p = probes[index];
    if (index % per_hop_ == 0 || hops.empty()) {
      hops.push_back(report::AtlasHop{static_cast<unsigned>(index / per_hop_ + 1), {}});
    }
    report::AtlasHopReply reply;
    if (p.from.empty()) {
      reply.kind = report::AtlasHopReply::Kind::kTimeout;
    } else {
      reply.kind = report::AtlasHopReply::Kind::kReply;
      reply.from = p.from.to_string();
      reply.rtt_ms = static_cast<double>(p.rtt_ns()) / 1e6;
      reply.ttl = p.reply_ttl > 0 ? p.reply_ttl : -1;
      reply.size = static_cast<unsigned>(p.reply_size);
      if (p.icmp) {
        reply.err = report::atlas_error_code(destination_.family(), p.icmp->type, p.icmp->code,
                                             p.from.same_host(destination_));
      } else if (!p.annotation.empty()) {
        reply.err = p.annotation.substr(1);  // a local error, e.g. "F-1500"
      }
      if (p.overhead)
        reply.correction = report::atlas_correction(p.rtt_ns(), *p.overhead, breakdown_);
    }
    hops.back().replies.push_back(std::move(reply));
  }

  std::vector<report::AtlasHop> hops;

 private:
  unsigned per_hop_;
  net::IpAddress destination_;
  bool breakdown_;
};

namespace {

trace::TraceMethod method_for(TraceProtocol protocol) {
  switch (protocol) {
    case TraceProtocol::kUdp:
      return trace::TraceMethod::kUdp;
    case TraceProtocol::kTcp:
      return trace::TraceMethod::kTcp;
    case TraceProtocol::kIcmp:
      break;
  }
  return trace::TraceMethod::kIcmp;
}

}  // namespace

TraceRun::TraceRun(const TracerouteParameters& parameters, const TraceRunSetup& setup,
                   const Clock& clock)
    : parameters_(parameters) {
  const trace::TraceMethod method = method_for(parameters.protocol);
  trace::MethodSetup m;
  m.family = setup.destination.family();
  m.destination = setup.destination;
  m.port = parameters.protocol == TraceProtocol::kTcp ? parameters.port : 0;
  m.dont_fragment = parameters.dont_fragment;
  m.header_length = trace::method_header_length(method, m.family);
  // Atlas' size is the probe's payload; a TCP SYN carries none.
  // ICMP counts its header as data (Butskoy's length accounting); UDP does not.
  m.data_length = parameters.protocol == TraceProtocol::kTcp ? 0
                  : parameters.protocol == TraceProtocol::kIcmp
                      ? parameters.size + probe::kIcmpHeaderLength
                      : parameters.size;
  m.identify = setup.overheads != nullptr;
  m.icmp_ident = setup.icmp_ident;
  method_ = trace::make_probe_method(method, m, clock);

  trace::ScheduleConfig schedule;
  schedule.family = m.family;
  schedule.first_hop = parameters.first_hop;
  schedule.max_hops = parameters.max_hops;
  schedule.probes_per_hop = parameters.packets;
  schedule.wait_max_ns = static_cast<std::int64_t>(parameters.response_timeout_ms) * kNsPerMs;
  collector_ =
      std::make_unique<HopCollector>(parameters.packets, setup.destination, setup.breakdown);
  scheduler_ = std::make_unique<trace::TraceScheduler>(schedule, *method_, *collector_, clock,
                                                       setup.overheads, setup.gate);
}

TraceRun::~TraceRun() = default;

std::optional<MonoNs> TraceRun::advance() { return scheduler_->advance(); }

void TraceRun::read_input() {
  replies_.clear();
  method_->wait(0, replies_);
  scheduler_->deliver(replies_);
}

std::vector<report::AtlasHop> TraceRun::take_hops() { return std::move(collector_->hops); }

report::AtlasTracerouteResult TraceRun::result(report::AtlasHeader header, std::int64_t endtime_s,
                                               std::string error) {
  return traceroute_result(parameters_, std::move(header), endtime_s, take_hops(),
                           std::move(error));
}

report::AtlasTracerouteResult traceroute_result(const TracerouteParameters& parameters,
                                                report::AtlasHeader header, std::int64_t endtime_s,
                                                std::vector<report::AtlasHop> hops,
                                                std::string error) {
  report::AtlasTracerouteResult r;
  r.header = std::move(header);
  r.proto = protocol_name(parameters.protocol);
  r.size = parameters.size;
  r.endtime = endtime_s;
  r.hops = std::move(hops);
  r.resolution_error = std::move(error);
  return r;
}

}  // namespace mtool::campaign
