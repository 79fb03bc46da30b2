#include "report/atlas_results.h"

#include <netinet/icmp6.h>
#include <netinet/ip_icmp.h>
#include <sys/socket.h>

#include <algorithm>
#include <cmath>

#include "correlate/correction.h"
#include "mtool/version.h"

namespace mtool::report {
namespace {

using nlohmann::json;

// Atlas prints RTTs with %f: six decimals.
double ms6(double value) { return std::round(value * 1e6) / 1e6; }

void put_header(json& j, const AtlasHeader& h, const char* type, const char* default_name) {
  j["fw"] = kAtlasFirmware;
  j["mver"] = kVersion;
  j["af"] = h.af;
  j["dst_name"] = h.dst_name;
  if (!h.dst_addr.empty()) j["dst_addr"] = h.dst_addr;
  if (!h.src_addr.empty()) j["src_addr"] = h.src_addr;
  j["msm_id"] = h.msm_id;
  j["prb_id"] = h.prb_id;
  j["timestamp"] = h.timestamp;
  j["from"] = h.from;
  j["type"] = type;
  j["msm_name"] = h.msm_name.empty() ? default_name : h.msm_name;
}

void put_correction(json& reply, const std::optional<AtlasCorrection>& c) {
  if (!c) return;
  reply["overhead"] = ms6(c->overhead_ms);
  if (c->inside_host) {
    reply["inside_host"] = true;  // all of it is the host's own virtual network
  } else {
    reply["rtt_corrected"] = ms6(c->corrected_ms);
  }
  if (!c->breakdown.is_null()) reply["breakdown"] = c->breakdown;
}

json crossings_json(const std::vector<correlate::DeviceCrossing>& crossings) {
  json out = json::array();
  for (const auto& c : crossings) {
    out.push_back({{"dev", c.device},
                   {"hook", correlate::hook_name(c.hook)},
                   {"at", ms6(static_cast<double>(c.offset_ns) / 1e6)}});
  }
  return out;
}

struct Summary {
  double min = -1, max = -1, avg = -1;
  unsigned count = 0;
};

Summary summarize(const std::vector<double>& values) {
  Summary s;
  if (values.empty()) return s;
  double sum = 0;
  s.min = values.front();
  s.max = values.front();
  for (const double v : values) {
    s.min = std::min(s.min, v);
    s.max = std::max(s.max, v);
    sum += v;
  }
  s.avg = sum / static_cast<double>(values.size());
  s.count = static_cast<unsigned>(values.size());
  return s;
}

}  // namespace

std::optional<AtlasCorrection> atlas_correction(std::int64_t raw_ns,
                                                const correlate::ProbeOverhead& overhead,
                                                bool with_breakdown) {
  AtlasCorrection c;
  if (overhead.answered_inside_host) {
    c.inside_host = true;
    c.overhead_ms = static_cast<double>(raw_ns) / 1e6;
  } else {
    const auto corrected = correlate::correct_rtt(raw_ns, overhead);
    if (!corrected) return std::nullopt;
    c.corrected_ms = static_cast<double>(corrected->corrected_ns) / 1e6;
    c.overhead_ms = static_cast<double>(corrected->overhead_ns) / 1e6;
  }
  if (with_breakdown) {
    c.breakdown = {{"egress_ms", ms6(static_cast<double>(overhead.egress_ns) / 1e6)},
                   {"ingress_ms", ms6(static_cast<double>(overhead.ingress_ns) / 1e6)},
                   {"egress", crossings_json(overhead.egress)},
                   {"ingress", crossings_json(overhead.ingress)}};
  }
  return c;
}

json atlas_ping_json(const AtlasPingResult& r) {
  json j;
  put_header(j, r.header, "ping", "Ping");
  j["proto"] = "ICMP";
  j["size"] = r.size;
  json results = json::array();
  if (!r.resolution_error.empty()) {
    results.push_back({{"error", r.resolution_error}});
  }
  std::vector<double> rtts;
  std::vector<double> corrected;
  unsigned duplicates = 0;
  int previous_ttl = -1;
  for (const auto& p : r.packets) {
    json entry;
    switch (p.kind) {
      case AtlasPingPacket::Kind::kLost:
        entry["x"] = "*";
        break;
      case AtlasPingPacket::Kind::kError:
        entry["error"] = p.error;
        break;
      case AtlasPingPacket::Kind::kDuplicate:
        ++duplicates;
        entry["dup"] = 1;
        [[fallthrough]];
      case AtlasPingPacket::Kind::kReply:
        entry["rtt"] = ms6(p.rtt_ms);
        // The top-level ttl is the first reply's; a reply names its own when it differs from
        // the reply before it (so the first one always does), as a probe's eperd writes it.
        if (p.ttl >= 0) {
          if (previous_ttl < 0) j["ttl"] = p.ttl;
          if (p.ttl != previous_ttl) entry["ttl"] = p.ttl;
          previous_ttl = p.ttl;
        }
        put_correction(entry, p.correction);
        if (p.kind == AtlasPingPacket::Kind::kReply) {  // Atlas' statistics leave duplicates out
          rtts.push_back(p.rtt_ms);
          if (p.correction && !p.correction->inside_host)
            corrected.push_back(p.correction->corrected_ms);
        }
        break;
    }
    results.push_back(std::move(entry));
  }
  j["result"] = std::move(results);
  const Summary s = summarize(rtts);
  j["sent"] = r.sent;
  j["rcvd"] = s.count;
  j["dup"] = duplicates;
  j["min"] = s.count != 0 ? ms6(s.min) : -1;
  j["avg"] = s.count != 0 ? ms6(s.avg) : -1;
  j["max"] = s.count != 0 ? ms6(s.max) : -1;
  if (!corrected.empty()) {
    const Summary c = summarize(corrected);
    j["mtool"] = {
        {"corrected",
         {{"min", ms6(c.min)}, {"avg", ms6(c.avg)}, {"max", ms6(c.max)}, {"replies", c.count}}}};
  }
  return j;
}

json atlas_traceroute_json(const AtlasTracerouteResult& r) {
  json j;
  put_header(j, r.header, "traceroute", "Traceroute");
  j["proto"] = r.proto;
  j["size"] = r.size;
  if (r.paris_id) j["paris_id"] = *r.paris_id;
  j["endtime"] = r.endtime;
  json hops = json::array();
  if (!r.resolution_error.empty()) hops.push_back({{"error", r.resolution_error}});
  unsigned corrected = 0;
  unsigned answered_beyond_host = 0;
  for (const auto& hop : r.hops) {
    json replies = json::array();
    for (const auto& reply : hop.replies) {
      json entry;
      switch (reply.kind) {
        case AtlasHopReply::Kind::kTimeout:
          entry["x"] = "*";
          break;
        case AtlasHopReply::Kind::kError:
          entry["error"] = reply.error;
          break;
        case AtlasHopReply::Kind::kReply:
          entry["from"] = reply.from;
          entry["rtt"] = std::round(reply.rtt_ms * 1e3) / 1e3;  // Atlas: %.3f
          entry["size"] = reply.size;
          if (reply.ttl >= 0) entry["ttl"] = reply.ttl;
          if (!reply.err.is_null()) entry["err"] = reply.err;
          put_correction(entry, reply.correction);
          if (!(reply.correction && reply.correction->inside_host)) {
            ++answered_beyond_host;
            if (reply.correction) ++corrected;
          }
          break;
      }
      replies.push_back(std::move(entry));
    }
    hops.push_back({{"hop", hop.hop}, {"result", std::move(replies)}});
  }
  j["result"] = std::move(hops);
  j["mtool"] = {{"corrected_replies", corrected}, {"replies_beyond_host", answered_beyond_host}};
  return j;
}

json atlas_error_code(int family, std::uint8_t type, std::uint8_t code, bool from_destination) {
  if (family == AF_INET6) {
    if (type == ICMP6_TIME_EXCEEDED) return nullptr;
    if (type == ICMP6_DST_UNREACH) {
      switch (code) {
        case ICMP6_DST_UNREACH_NOROUTE:
          return "N";
        case ICMP6_DST_UNREACH_ADMIN:
          return "A";
        case ICMP6_DST_UNREACH_BEYONDSCOPE:
          return "h";
        case ICMP6_DST_UNREACH_ADDR:
          return "H";
        case ICMP6_DST_UNREACH_NOPORT:
          return from_destination ? json(nullptr) : json("p");
        default:
          return code;
      }
    }
    return code;
  }
  if (type == ICMP_TIME_EXCEEDED) return nullptr;
  if (type == ICMP_DEST_UNREACH) {
    switch (code) {
      case ICMP_NET_UNREACH:
        return "N";
      case ICMP_HOST_UNREACH:
        return "H";
      case ICMP_PROT_UNREACH:
        return "P";
      case ICMP_PORT_UNREACH:
        return from_destination ? json(nullptr) : json("p");
      case ICMP_NET_ANO:
      case ICMP_HOST_ANO:
      case ICMP_PKT_FILTERED:
        return "A";
      default:
        return code;
    }
  }
  return code;
}

}  // namespace mtool::report
