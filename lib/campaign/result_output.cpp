#include "campaign/result_output.h"

namespace mtool::campaign {

void ResultOutput::write(const MeasurementDefinition& d, const report::AtlasPingResult& result) {
  for (const auto& p : result.packets) {
    if (p.kind == report::AtlasPingPacket::Kind::kReply) count_reply(p.correction.has_value());
  }
  write_(report::atlas_ping_json(result));
  if (observer_ != nullptr) observer_->observe(d, result);
  ++results_;
}

void ResultOutput::write(const MeasurementDefinition& d,
                         const report::AtlasTracerouteResult& result) {
  for (const auto& hop : result.hops) {
    for (const auto& reply : hop.replies) {
      if (reply.kind == report::AtlasHopReply::Kind::kReply)
        count_reply(reply.correction.has_value());
    }
  }
  write_(report::atlas_traceroute_json(result));
  if (observer_ != nullptr) observer_->observe(d, result);
  ++results_;
}

}  // namespace mtool::campaign
