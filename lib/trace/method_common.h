#pragma once
// What every traceroute method shares: the socket settings Butskoy's tune_socket() applies,
// its runtime error shapes, waiting on sockets, reading the error queue, and reading replies'
// arrival times.
#include <poll.h>
#include <signal.h>

#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <utility>
#include <variant>
#include <vector>

#include "net/address.h"
#include "net/probe_socket.h"
#include "trace/probe_method.h"
#include "util/clock.h"
#include "util/error.h"

namespace mtool::trace {

struct MethodSetup {
  int family = AF_INET;
  net::IpAddress destination;  // port 0; each method sets its own
  net::IpAddress source;       // -s (port: --sport); empty: the kernel chooses
  unsigned source_port = 0;
  std::string device;  // -i
  unsigned port = 0;   // -p: 0 means the method's default
  unsigned tos = 0;
  unsigned flow_label = 0;
  unsigned fwmark = 0;
  bool dont_fragment = false;
  bool debug = false;
  bool dont_route = false;
  bool extensions = false;
  std::size_t data_length = 0;    // bytes after the method's own header
  std::size_t header_length = 0;  // IP (+ UDP) header: where the error queue's copy starts
  const sigset_t* wait_sigmask = nullptr;
  // Record each probe's identity for the correlator (costs UDP a getsockname per probe).
  bool identify = false;
  // Paris traceroute (and multipath discovery): every probe of one flow id keeps the fields
  // routers hash (see FlowId); the method tells its probes apart otherwise.
  bool hold_flows = false;
  // The identifier of raw ICMP echo probes; 0: the process id, as Butskoy. A process running
  // several traces at once gives each its own, so their replies cannot be mistaken.
  std::uint16_t icmp_ident = 0;
};

// Butskoy's error(): a newline (the header line may be open), "what: strerror", exit 1.
[[noreturn]] void fail_runtime(const std::string& what, int err);
// error_or_perm(): the same, after a word on privileges when the kernel said EPERM.
[[noreturn]] void fail_runtime_or_permission(const std::string& what, int err);

// tune_socket(): SO_DEBUG, SO_MARK, SO_BINDTODEVICE and bind, path-MTU mode, TOS / traffic
// class and flow label, SO_DONTROUTE, receive timestamps and TTLs, non-blocking (unless the
// socket was opened SOCK_NONBLOCK: one probe socket per probe makes every call count).
void tune_socket(net::ProbeSocket& socket, const MethodSetup& setup,
                 bool opened_nonblocking = false);
// bind_socket(): device and source address (any address of the family when none is given).
void bind_probe_socket(int fd, const MethodSetup& setup);
// IP_RECVERR / IPV6_RECVERR: ICMP errors about what this socket sent reach its error queue.
void use_recverr(net::ProbeSocket& socket);

// The reply an error-queue message makes for probe `index`: an ICMP error (from its offender,
// with -e extensions decoded from `quote`, the queue's copy of the probe of which
// `sent_length` bytes were ours), or a local error; nullopt for anything else (redirects,
// source quenches, timestamps).
std::optional<ProbeReply> reply_from_error(const net::ErrorQueueMessage& message, std::size_t index,
                                           std::span<const std::uint8_t> quote,
                                           const MethodSetup& setup, std::size_t sent_length,
                                           const Clock& clock);

// The first probe still out, where a method keeps its probes in a map ordered by index.
template <typename ByIndex>
std::optional<std::size_t> first_index(const ByIndex& outstanding) {
  if (outstanding.empty()) return std::nullopt;
  return outstanding.begin()->first;
}

// Drains `socket`'s error queue into `replies`, the way the methods with one socket for all
// their probes read it. `probe_of` names the probe whose start the queue copied back (`quote`:
// the first bytes of what was sent, past `setup.header_length`), or nullopt when it is not
// ours. A local "message too long" under -F comes with no copy: like Butskoy, it is charged to
// the first probe still out, which `first_out()` names (nullopt: none). `sent_length`: the bytes
// of each probe that were ours.
template <typename ProbeOf, typename FirstOut>
void drain_error_queue(net::ProbeSocket& socket, std::vector<std::uint8_t>& buffer,
                       const MethodSetup& setup, std::size_t sent_length, const Clock& clock,
                       const ProbeOf& probe_of, const FirstOut& first_out,
                       std::vector<ProbeReply>& replies) {
  for (;;) {
    int err = 0;
    auto message = socket.receive_error(buffer, err);
    if (!message) {
      if (err == 0) continue;  // not an error-queue message we read: the next one
      return;
    }
    const std::span<const std::uint8_t> quote(buffer.data(), message->payload_length);
    std::optional<std::size_t> index = probe_of(quote);
    if (!index && quote.empty() && setup.dont_fragment &&
        std::holds_alternative<net::LocalErrorReport>(message->entry)) {
      index = first_out();
    }
    if (!index) continue;
    if (auto reply = reply_from_error(*message, *index, quote, setup, sent_length, clock))
      replies.push_back(std::move(*reply));
  }
}

// The local address (and port) a socket was bound or connected to.
net::IpAddress local_address(int fd);

// Butskoy's probe payload: 0x40, 0x41, ... repeating every 64 bytes, from `first` on.
void fill_payload(std::span<std::uint8_t> bytes, std::size_t first = 0);

// When a reply arrived: the kernel's receive stamp, else now.
WallNs arrival_time(const net::ReceiveMeta& meta, const Clock& clock);

// What a raw socket of `family` received, past the IP header IPv4 raw sockets deliver too
// (IPv6 ones deliver none); nullopt when that header is truncated or malformed.
std::optional<std::span<const std::uint8_t>> raw_transport_segment(
    std::span<const std::uint8_t> received, int family);

// ppoll() on `fds` for up to `timeout` with `sigmask` unblocked; returns how many are ready
// (0 on timeout or signal).
int wait_for_sockets(std::vector<pollfd>& fds, Nanos timeout, const sigset_t* sigmask);

}  // namespace mtool::trace
