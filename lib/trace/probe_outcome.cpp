#include "trace/probe_outcome.h"

#include <netinet/icmp6.h>
#include <netinet/ip_icmp.h>

#include <cerrno>

#include "util/error.h"

namespace mtool::trace {

std::optional<IcmpVerdict> classify_icmp(int family, const report::IcmpReport& r) {
  auto code_text = [](unsigned value) { return "!<" + std::to_string(value) + ">"; };
  if (family == AF_INET) {
    if (r.type == ICMP_TIME_EXCEEDED && r.code == ICMP_EXC_TTL) return std::nullopt;
    if (r.type == ICMP_DEST_UNREACH) {
      switch (r.code) {
        case ICMP_UNREACH_NET:
        case ICMP_UNREACH_NET_UNKNOWN:
        case ICMP_UNREACH_ISOLATED:
        case ICMP_UNREACH_TOSNET:
          return IcmpVerdict{"!N"};
        case ICMP_UNREACH_HOST:
        case ICMP_UNREACH_HOST_UNKNOWN:
        case ICMP_UNREACH_TOSHOST:
          return IcmpVerdict{"!H"};
        case ICMP_UNREACH_NET_PROHIB:
        case ICMP_UNREACH_HOST_PROHIB:
        case ICMP_UNREACH_FILTER_PROHIB:
          return IcmpVerdict{"!X"};
        case ICMP_UNREACH_PORT:
          return IcmpVerdict{""};  // the destination is reached
        case ICMP_UNREACH_PROTOCOL:
          return IcmpVerdict{"!P"};
        case ICMP_UNREACH_NEEDFRAG:
          return IcmpVerdict{"!F-" + std::to_string(r.info)};
        case ICMP_UNREACH_SRCFAIL:
          return IcmpVerdict{"!S"};
        case ICMP_UNREACH_HOST_PRECEDENCE:
          return IcmpVerdict{"!V"};
        case ICMP_UNREACH_PRECEDENCE_CUTOFF:
          return IcmpVerdict{"!C"};
        default:
          return IcmpVerdict{code_text(r.code)};
      }
    }
  } else {
    if (r.type == ICMP6_TIME_EXCEEDED && r.code == ICMP6_TIME_EXCEED_TRANSIT) return std::nullopt;
    if (r.type == ICMP6_DST_UNREACH) {
      switch (r.code) {
        case ICMP6_DST_UNREACH_NOROUTE:
          return IcmpVerdict{"!N"};
        case ICMP6_DST_UNREACH_BEYONDSCOPE:
        case ICMP6_DST_UNREACH_ADDR:
          return IcmpVerdict{"!H"};
        case ICMP6_DST_UNREACH_ADMIN:
          return IcmpVerdict{"!X"};
        case ICMP6_DST_UNREACH_NOPORT:
          return IcmpVerdict{""};
        default:
          return IcmpVerdict{code_text(r.code)};
      }
    }
    if (r.type == ICMP6_PACKET_TOO_BIG) return IcmpVerdict{"!F-" + std::to_string(r.info)};
  }
  return IcmpVerdict{"!<" + std::to_string(r.type) + "-" + std::to_string(r.code) + ">"};
}

void record_reply(int family, const ProbeReply& reply, report::HopProbe& probe) {
  probe.rx = reply.rx;
  probe.from = reply.from;
  probe.reply_ttl = reply.reply_ttl;
  probe.icmp = reply.icmp;
  probe.reply_size = reply.size;
  probe.extension = reply.extension;
  if (reply.icmp) {
    if (const auto verdict = classify_icmp(family, *reply.icmp)) {
      probe.annotation = verdict->annotation;
      probe.final = true;
    }
  } else if (reply.local_error != 0) {
    if (reply.local_error != EMSGSIZE || reply.local_info == 0) {
      throw FatalError(with_errno("local recverr", reply.local_error), 1);
    }
    probe.annotation = "!F-" + std::to_string(reply.local_info);
    probe.final = true;
  } else {
    probe.final = true;  // the destination answered
  }
  probe.done = true;
}

void take_overheads(correlate::OverheadBatch& batch, correlate::OverheadSource& source,
                    const std::vector<report::HopProbe*>& answered) {
  if (answered.empty()) return;
  for (const report::HopProbe* probe : answered) batch.add(probe->identity, probe->mono_tx);
  batch.take(source);
  for (std::size_t k = 0; k < answered.size(); ++k) {
    if (correlate::ProbeOverhead* overhead = batch.answer(k))
      answered[k]->overhead = std::move(*overhead);
  }
}

}  // namespace mtool::trace
