#pragma once
// The correlator client: how a tool gets the overhead of its own probes.
//
// Two ways in, tried in this order:
//  1. The pinned maps (bpffs), for a tool that may call bpf() (root on the host, or a container
//     with CAP_BPF/CAP_SYS_ADMIN). The tool keys its lookups with its own namespace.
//  2. The correlator's socket, for everyone else (a default Docker container cannot call
//     bpf()). The correlator finds the caller's namespace itself from the socket's peer, so a
//     container reads only its own records.
// A tool in the host's own namespace needs no correction; one with neither way in runs as a
// plain drop-in and says so once.
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "correlate/probe_overhead.h"
#include "util/clock.h"

namespace mtool::correlate {

// A probe as its sender knows it (see mtool_probe_key).
struct ProbeIdentity {
  int family = 0;
  int protocol = 0;
  std::uint16_t flow = 0;      // ICMP identifier on the wire / source port
  std::uint16_t sequence = 0;  // ICMP sequence / destination port / TCP sequence
};

class OverheadSource {
 public:
  virtual ~OverheadSource() = default;
  // The overhead of one answered probe that was sent at or after `sent_mono`, taken out of the
  // correlator (a second call for the same probe finds nothing). nullopt when unknown.
  virtual std::optional<ProbeOverhead> take(const ProbeIdentity& probe, MonoNs sent_mono) = 0;

  struct Request {
    ProbeIdentity probe;
    MonoNs sent_mono = 0;
  };
  // Several probes at once, answers in the same order. Through the socket the queries go out
  // back to back and the answers are read after, so a batch costs the daemon one wake-up, not
  // one round trip per probe (traceroute's replies come in bursts).
  virtual std::vector<std::optional<ProbeOverhead>> take_many(const std::vector<Request>& requests) {
    std::vector<std::optional<ProbeOverhead>> out;
    out.reserve(requests.size());
    for (const auto& r : requests) out.push_back(take(r.probe, r.sent_mono));
    return out;
  }
};

struct CorrelatorLocation {
  std::string pin_dir = MTOOL_PIN_DIR_DEFAULT;
  std::string socket_path = MTOOL_SOCKET_DEFAULT;
  bool disabled = false;
};

// MTOOL_CORRELATOR=off disables; MTOOL_CORRELATOR_SOCKET and MTOOL_BPF_PIN_DIR relocate.
CorrelatorLocation correlator_location_from_env();

struct CorrelatorConnection {
  std::unique_ptr<OverheadSource> source;  // null: no corrections
  bool host_namespace = false;             // the tool runs on the host itself: nothing to correct
  std::string via;                         // "pinned maps" or "socket PATH"
  std::string unavailable;                 // why there is no source, when it matters
};

// Call while the process still holds its capabilities (before dropping them), so a privileged
// tool can open the pinned maps; the descriptors stay usable afterwards.
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
  CorrelatorConnection ready_;             // decided already (disabled, maps, failure)
  std::unique_ptr<OverheadSource> socket_;  // a socket whose HELLO awaits its answer
  std::string socket_path_;
};
PendingCorrelator begin_correlator_connection(const CorrelatorLocation& where);

}  // namespace mtool::correlate
