#pragma once
// What a reply means for the probe it answers, and the correlator's overheads for a burst of
// answered probes: the steps every traceroute engine shares (the hop-by-hop schedule,
// trace_scheduler, and multipath discovery, mda_scheduler), written once.
#include <optional>
#include <string>
#include <vector>

#include "correlate/overhead_batch.h"
#include "report/hop_probe.h"
#include "trace/probe_method.h"

namespace mtool::trace {

// An ICMP error that ends the trace, with Butskoy's annotation ("" for a plain port
// unreachable: the destination answering); nullopt for time exceeded in transit, which does
// not end it.
struct IcmpVerdict {
  std::string annotation;
};
std::optional<IcmpVerdict> classify_icmp(int family, const report::IcmpReport& report);

// Fills `probe` from `reply`: who answered, when, and whether the reply ends the trace (the
// destination, an unreachable, a local "message too long"). Marks it done. Throws FatalError
// for any other local error (Butskoy's "local recverr").
void record_reply(int family, const ProbeReply& reply, report::HopProbe& probe);

// Asks the correlator for the overheads of `answered` (probes with an identity) in one batch
// and stores each answer in its probe.
void take_overheads(correlate::OverheadBatch& batch, correlate::OverheadSource& source,
                    const std::vector<report::HopProbe*>& answered);

}  // namespace mtool::trace
