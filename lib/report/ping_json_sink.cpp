#include "report/ping_json_sink.h"

#include <sys/socket.h>

#include <nlohmann/json.hpp>

#include "util/error.h"

namespace mtool::report {
namespace {

using nlohmann::json;

double ns_to_ms(std::int64_t ns) { return static_cast<double>(ns) / 1e6; }
double us_to_ms(std::int64_t us) { return static_cast<double>(us) / 1e3; }
double wall_seconds(WallNs wall) { return static_cast<double>(raw_ns(wall)) / 1e9; }

json percentiles_json(const PercentileSummary& p) {
  return json{{"p50", ns_to_ms(p.p50_ns)},
              {"p90", ns_to_ms(p.p90_ns)},
              {"p99", ns_to_ms(p.p99_ns)},
              {"p99.9", ns_to_ms(p.p999_ns)}};
}

json rtt_json(const RttSummary& r) {
  return json{{"min", us_to_ms(r.min_us)},
              {"avg", us_to_ms(r.avg_us)},
              {"max", us_to_ms(r.max_us)},
              {"mdev", us_to_ms(r.mdev_us)}};
}

json crossings_json(const std::vector<correlate::DeviceCrossing>& list) {
  json out = json::array();
  for (const auto& d : list) {
    out.push_back(json{{"device", d.device},
                       {"ifindex", d.ifindex},
                       {"netns", d.netns},
                       {"hook", correlate::hook_name(d.hook)},
                       {"at_us", static_cast<double>(d.offset_ns) / 1e3}});
  }
  return out;
}

json correction_json(const ReplyCorrection& c) {
  const auto& o = c.overhead;
  return json{{"corrected_rtt_ms", ns_to_ms(c.corrected_ns)},
              {"overhead_ms", ns_to_ms(c.overhead_ns)},
              {"egress_us", static_cast<double>(o.egress_ns) / 1e3},
              {"ingress_us", static_cast<double>(o.ingress_ns) / 1e3},
              {"wire_rtt_ms", ns_to_ms(o.wire_ns)},
              {"wire_ident", o.wire_flow},
              {"shared_us", static_cast<double>(c.shared_ns) / 1e3},
              {"egress_path", crossings_json(o.egress)},
              {"ingress_path", crossings_json(o.ingress)},
              {"target_path", crossings_json(o.target)}};
}

void emit(std::FILE* out, const json& object) {
  const std::string line = object.dump();
  std::fwrite(line.data(), 1, line.size(), out);
  std::fputc('\n', out);
  std::fflush(out);
}

}  // namespace

void JsonPingSink::header(const PingHeader& h) {
  json o{{"type", "header"},          {"target", h.hostname},
         {"address", h.address_text}, {"family", h.family == AF_INET6 ? 6 : 4},
         {"data_bytes", h.datalen},   {"socket", h.socket_kind}};
  if (h.show_source) {
    o["source"] = h.source_text;
    if (!h.device.empty()) o["device"] = h.device;
  }
  emit(out_, o);
}

void JsonPingSink::reply(const PingReply& r) {
  if (quiet_) return;
  json o{{"type", "reply"},
         {"time", wall_seconds(r.print_time)},
         {"seq", r.sequence},
         {"from", r.from},
         {"bytes", r.bytes},
         {"ttl", r.ttl >= 0 ? json(r.ttl) : json(nullptr)},
         {"dup", r.duplicate},
         {"bad_checksum", r.bad_checksum},
         {"truncated", r.truncated},
         {"tx_reference", r.tx_reference},
         {"rx_kernel_timestamp", r.rx_from_kernel}};
  o["rtt_ms"] = r.rtt_ns ? json(ns_to_ms(*r.rtt_ns)) : json(nullptr);
  if (r.kernel_rtt_ns) o["kernel_rtt_ms"] = ns_to_ms(*r.kernel_rtt_ns);
  if (r.send_stack_ns) o["send_stack_us"] = static_cast<double>(*r.send_stack_ns) / 1e3;
  if (r.correction) o["correction"] = correction_json(*r.correction);
  emit(out_, o);
}

void JsonPingSink::icmp_error(const PingError& e) {
  if (quiet_) return;
  emit(out_, json{{"type", "error"},
                  {"time", wall_seconds(e.print_time)},
                  {"seq", e.sequence},
                  {"from", e.from},
                  {"icmp_type", e.icmp_type},
                  {"icmp_code", e.icmp_code},
                  {"description", e.text}});
}

void JsonPingSink::notice(const PingNotice& n) {
  if (quiet_) return;
  emit(out_, json{{"type", "notice"},
                  {"time", wall_seconds(n.print_time)},
                  {"seq", n.sequence},
                  {"from", n.from},
                  {"description", n.text}});
}

void JsonPingSink::local_error(const std::string& text) {
  print_diagnostic(out_, err_, program_, text);
}

void JsonPingSink::no_answer_yet(WallNs print_time, std::uint64_t sequence) {
  if (quiet_) return;
  emit(out_, json{{"type", "no_answer"}, {"time", wall_seconds(print_time)}, {"seq", sequence}});
}

void JsonPingSink::status(const PingStatus& s) {
  json o{{"type", "status"}, {"transmitted", s.transmitted}, {"received", s.received}};
  const std::string line = o.dump();
  std::fprintf(err_, "%s\n", line.c_str());
}

void JsonPingSink::summary(const PingSummary& s) {
  json o{{"type", "summary"},      {"target", s.hostname},       {"transmitted", s.transmitted},
         {"received", s.received}, {"duplicates", s.duplicates}, {"corrupted", s.corrupted},
         {"errors", s.errors},     {"time_ms", s.elapsed_ms}};
  o["loss_pct"] = s.transmitted != 0
                      ? json(100.0 * static_cast<double>(s.transmitted - s.received) /
                             static_cast<double>(s.transmitted))
                      : json(nullptr);
  if (s.rtt) o["rtt_ms"] = rtt_json(*s.rtt);
  if (s.percentiles) o["percentiles_ms"] = percentiles_json(*s.percentiles);
  if (s.correction) {
    const auto& c = *s.correction;
    json cj{{"corrected", c.corrected}, {"timed", c.timed}};
    if (c.rtt) {
      cj["rtt_ms"] = rtt_json(*c.rtt);
      cj["egress_p50_us"] = static_cast<double>(c.egress_p50_ns) / 1e3;
      cj["ingress_p50_us"] = static_cast<double>(c.ingress_p50_ns) / 1e3;
    }
    if (c.percentiles) cj["percentiles_ms"] = percentiles_json(*c.percentiles);
    o["correction"] = cj;
  }
  if (s.pipe > 1) o["pipe"] = s.pipe;
  if (s.ipg_us) {
    o["ipg_ms"] = us_to_ms(*s.ipg_us);
    o["ewma_ms"] = us_to_ms(s.ewma_us_x8 / 8);
  }
  emit(out_, o);
}

}  // namespace mtool::report
