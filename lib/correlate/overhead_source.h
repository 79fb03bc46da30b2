#pragma once
// The correlator client: how a tool gets the overhead of its own probes.
//
// Two ways in, tried in this order:
//  1. The pinned maps (bpffs), for a tool that may call bpf() (root on the host, or a container
//     with CAP_BPF/CAP_SYS_ADMIN). The tool keys its lookups with its own namespace.
//  2. The correlator's socket, for everyone else (a default Docker container cannot call
//     bpf()). The correlator finds the caller's namespace itself from the socket's peer, so a
//     container reads only its own records. The default path (a mounted volume) first; when
//     it is not configured and nothing listens there, the abstract name the correlator binds
//     in every container's network namespace (nothing to mount or set), checked for who holds
//     it (correlate/correlator_peer.h).
// A tool in the host's own namespace needs no correction; one with neither way in runs as a
// plain drop-in, and says so once only if a correlator was expected (see `expected`). Pins
// are trusted only while the daemon's heartbeat in them is fresh: it leaves them behind when it
// stops. How a tool orders this with its privileges: correlate/tool_connection.h.
#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "correlate/probe_identity.h"
#include "correlate/probe_overhead.h"
#include "util/clock.h"

namespace mtool::correlate {

class OverheadSource {
 public:
  virtual ~OverheadSource() = default;
  // The overhead of one answered probe that was sent at or after `sent_mono`, taken out of the
  // correlator (a second call for the same probe finds nothing). nullopt when unknown.
  virtual std::optional<ProbeOverhead> take(const ProbeIdentity& probe, MonoNs sent_mono) = 0;

  struct Request {
    ProbeIdentity probe;
    MonoNs sent_mono{};
  };
  using Answers = std::vector<std::optional<ProbeOverhead>>;
  // Several probes at once (the replies of one wake-up), answers in the same order in
  // `answers`, resized to match: a caller that keeps it allocates nothing per batch once it
  // has grown. Through the socket the queries go out back to back and the answers are read
  // after, so a batch costs the daemon one wake-up, not one round trip per probe.
  virtual void take_many(const std::vector<Request>& requests, Answers& answers) {
    answers.clear();
    for (const auto& r : requests) answers.push_back(take(r.probe, r.sent_mono));
  }
  // The same into a new vector.
  Answers take_many(const std::vector<Request>& requests) {
    Answers answers;
    take_many(requests, answers);
    return answers;
  }
};

struct CorrelatorLocation {
  std::string pin_dir = MTOOL_PIN_DIR_DEFAULT;
  std::string socket_path = MTOOL_SOCKET_DEFAULT;
  bool disabled = false;
  bool pin_dir_configured = false;  // set by the caller's environment, not the default
  bool socket_configured = false;
  bool pinned_maps = true;  // false: the socket only (a setuid or setgid install)
};

// MTOOL_CORRELATOR=off disables (always); MTOOL_CORRELATOR_SOCKET and MTOOL_BPF_PIN_DIR
// relocate, unless `honour_paths` is false (a setuid or setgid install: the caller's
// environment must not choose what the tool opens).
CorrelatorLocation correlator_location_from_env(bool honour_paths = true);

// Whether pins whose info carries `heartbeat_ns` belong to a running correlator at `now`: it
// publishes every second and writes 0 when it stops; older than MTOOL_HEARTBEAT_FRESH_S, it died.
bool heartbeat_fresh(std::uint64_t heartbeat_ns, MonoNs now);

// One more look for a correlator's socket while a tool runs (correlate/lazy_correlator.h).
struct ConnectAttempt {
  std::unique_ptr<OverheadSource> source;  // one answered and may be trusted
  std::string via;                         // "socket PATH" / "socket @NAME"
  bool host_namespace = false;             // one answered: we run on the host, nothing to correct
  std::string refused;                     // the abstract name is held by another process: why
};

struct CorrelatorConnection {
  std::unique_ptr<OverheadSource> source;  // null: no corrections
  bool host_namespace = false;             // the tool runs on the host itself: nothing to correct
  // A correlator was to be expected (an endpoint set in the environment, live pins, a socket
  // that accepted the connection): its absence is worth a line. Otherwise a tool without one
  // is its plain drop-in, silent.
  bool expected = false;
  std::string via;          // "pinned maps" or "socket PATH"
  std::string unavailable;  // why there is no source (said only if `expected`)
  // Set when no correlator was found and none was expected: how to look again later (the
  // default socket, then the abstract name; see LazyCorrelator).
  std::function<ConnectAttempt()> look_again;
};

// Opens what `where` allows with the process's rights of the moment (the pinned maps need
// bpf(); their descriptors stay usable after the capabilities are dropped). Tools go through
// correlate/tool_connection.h, which decides when that is safe.
CorrelatorConnection connect_correlator(const CorrelatorLocation& where);

// The same in two steps, so a tool's own setup overlaps the daemon's answer to the socket's
// HELLO (which finds the caller's namespace and subscribes it): begin first, finish() when the
// corrections are about to matter.
class PendingCorrelator {
 public:
  PendingCorrelator();
  ~PendingCorrelator();
  PendingCorrelator(PendingCorrelator&&) noexcept;
  CorrelatorConnection finish();

 private:
  friend PendingCorrelator begin_correlator_connection(const CorrelatorLocation& where);
  CorrelatorConnection ready_;              // decided already (disabled, maps, failure)
  std::unique_ptr<OverheadSource> socket_;  // a socket whose HELLO awaits its answer
};
PendingCorrelator begin_correlator_connection(const CorrelatorLocation& where);

// The socket only, at once (HELLO asked and answered): the default path, then, unless the path
// was configured, the abstract name MTOOL_SOCKET_ABSTRACT_NAME in the caller's network
// namespace, whose holder is checked first (correlate/correlator_peer.h).
ConnectAttempt connect_correlator_socket(const CorrelatorLocation& where);

}  // namespace mtool::correlate
