#pragma once
// A measuring tool's first act (ping, traceroute, mtool run): settle its privileges and begin
// its correlator connection, in the one order that is safe.
//
// A tool may be installed setuid root (some distributions ship ping so), setgid, or with the
// file capability cap_net_raw+p (mtool's image). Whatever the install, the caller's environment
// must not borrow privileges the caller lacks:
//  - In a setuid or setgid install (effective and real ids differ) the caller's
//    MTOOL_CORRELATOR_SOCKET and MTOOL_BPF_PIN_DIR are ignored, the pinned maps are not used,
//    and the default socket is opened only after the process became the real user.
//  - A real root (real uid 0, not setuid/setgid) opens the pinned maps before its capabilities
//    are limited (bpf() needs CAP_BPF or CAP_SYS_ADMIN, which are not kept): its environment
//    is its own, and so are its rights.
//  - Everyone else (the file-capability install included) connects after the limit, with the
//    rights the caller had anyway; their environment is honoured (the Helm chart sets it).
// MTOOL_CORRELATOR=off is honoured always.
#include <sys/types.h>

#include <optional>
#include <string>

#include "correlate/overhead_source.h"

namespace mtool::correlate {

struct ProcessIds {
  uid_t real_uid = 0;
  uid_t effective_uid = 0;
  gid_t real_gid = 0;
  gid_t effective_gid = 0;
};

struct ConnectionPlan {
  bool honour_paths = true;     // MTOOL_CORRELATOR_SOCKET / MTOOL_BPF_PIN_DIR
  bool pinned_maps = true;      // try the pinned maps at all
  bool before_limiting = false;  // connect before Capabilities::limit_to_network()
};

// The plan for a process started with `ids` (pure, for the unit tests).
ConnectionPlan plan_connection(const ProcessIds& ids);

// Capabilities::limit_to_network() (the real user, NET_RAW/NET_ADMIN permitted at most) and
// the correlator connection begun, in the order plan_connection() gives for this process.
// Nothing is printed or sent.
PendingCorrelator settle_privileges_and_connect();

// "corrections unavailable: WHY" when the tool has no source and a correlator was expected
// (configured, live pins, a listening socket); nullopt when there is nothing worth saying
// (the host itself, or no correlator anywhere: the tool is then exactly its plain drop-in).
std::optional<std::string> unavailable_notice(const CorrelatorConnection& connection);

}  // namespace mtool::correlate
