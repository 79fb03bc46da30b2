#include "correlate/tool_connection.h"

#include <unistd.h>

#include "net/capabilities.h"

namespace mtool::correlate {

ConnectionPlan plan_connection(const ProcessIds& ids) {
  const bool set_id = ids.effective_uid != ids.real_uid || ids.effective_gid != ids.real_gid;
  ConnectionPlan plan;
  plan.honour_paths = !set_id;
  plan.pinned_maps = !set_id;
  plan.before_limiting = !set_id && ids.real_uid == 0;
  return plan;
}

PendingCorrelator settle_privileges_and_connect() {
  const ConnectionPlan plan = plan_connection({getuid(), geteuid(), getgid(), getegid()});
  CorrelatorLocation where = correlator_location_from_env(plan.honour_paths);
  where.pinned_maps = plan.pinned_maps;
  if (plan.before_limiting) {
    PendingCorrelator pending = begin_correlator_connection(where);
    net::Capabilities::limit_to_network();
    return pending;
  }
  net::Capabilities::limit_to_network();
  return begin_correlator_connection(where);
}

std::optional<std::string> unavailable_notice(const CorrelatorConnection& connection) {
  if (connection.source || connection.host_namespace || !connection.expected ||
      connection.unavailable.empty()) {
    return std::nullopt;
  }
  return "corrections unavailable: " + connection.unavailable;
}

ToolCorrelator::ToolCorrelator(CorrelatorConnection connection, bool correct, const Clock& clock,
                               LazyCorrelator::Notify notify)
    : notice_(correct ? unavailable_notice(connection) : std::nullopt),
      notify_(std::move(notify)),
      connected_at_start_(connection.source != nullptr),
      host_namespace_(connection.host_namespace),
      overheads_(correct ? correlator_for_run(connection, clock, notify_) : nullptr) {}

void ToolCorrelator::say_if_unavailable() {
  if (notice_ && notify_) notify_(*notice_);
  notice_.reset();
}

}  // namespace mtool::correlate
