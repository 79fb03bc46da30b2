#pragma once
// A measuring tool's first act (ping, traceroute, mtool run): settle its privileges and begin
// its correlator connection, in the one order that is safe. And, once its options are read,
// what it corrects with and whether it says that corrections are unavailable (ToolCorrelator).
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

#include <memory>
#include <optional>
#include <string>

#include "correlate/lazy_correlator.h"
#include "correlate/overhead_source.h"
#include "util/clock.h"

namespace mtool::correlate {

struct ProcessIds {
  uid_t real_uid = 0;
  uid_t effective_uid = 0;
  gid_t real_gid = 0;
  gid_t effective_gid = 0;
};

struct ConnectionPlan {
  bool honour_paths = true;      // MTOOL_CORRELATOR_SOCKET / MTOOL_BPF_PIN_DIR
  bool pinned_maps = true;       // try the pinned maps at all
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

// The correlator a measuring tool runs with, decided once its options said whether it corrects
// at all (`correct`: no --no-correction). Ping, traceroute and mtool run decide it, and say
// the absence of an expected correlator, through this one class.
class ToolCorrelator {
 public:
  // `notify` prints one line as the tool does ("corrections unavailable: ..."), without the
  // program's name; `clock` must outlive this.
  ToolCorrelator(CorrelatorConnection connection, bool correct, const Clock& clock,
                 LazyCorrelator::Notify notify);

  // unavailable_notice() through `notify`, at most once, if the tool corrects. Each tool calls
  // it where its output has it (before its header).
  void say_if_unavailable();

  // What replies are corrected with: the correlator found at start, or (none found, none
  // expected) one looked for while replies come in (correlator_for_run). Null: no corrections.
  [[nodiscard]] LazyCorrelator* overheads() const { return overheads_.get(); }
  // A correlator answered at start (ping's --require-correction).
  [[nodiscard]] bool connected_at_start() const { return connected_at_start_; }
  // The tool runs on the host itself: nothing to correct.
  [[nodiscard]] bool host_namespace() const { return host_namespace_; }

 private:
  std::optional<std::string> notice_;
  LazyCorrelator::Notify notify_;
  bool connected_at_start_ = false;
  bool host_namespace_ = false;
  std::unique_ptr<LazyCorrelator> overheads_;
};

}  // namespace mtool::correlate
