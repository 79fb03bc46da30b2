#pragma once
// One address family's shared echo socket, as the pings of a campaign use it: every ping run
// sends through it with a sequence number of its own, and a reply or an ICMP error is traced
// back to its run and packet by that number (SequenceOwners). The socket itself is behind
// EchoEndpoint, so unit tests drive a channel with a fake one.
#include <cstddef>
#include <cstdint>
#include <memory>
#include <optional>
#include <vector>

#include "campaign/sequence_owners.h"
#include "net/address.h"
#include "probe/echo_transport.h"

namespace mtool::campaign {

// What a channel sends through and reads from: echo requests to any destination on one socket
// (echo_socket.h opens the real one).
class EchoEndpoint {
 public:
  virtual ~EchoEndpoint() = default;
  // Sends echo request `sequence` (transmit number `number`) with `datalen` data bytes to
  // `destination`. Returns 0 or errno.
  virtual int send_echo_to(const net::IpAddress& destination, std::size_t datalen,
                           std::uint16_t sequence, std::uint64_t number) = 0;
  // The next reply, error or notice, without blocking; nullopt when nothing is pending.
  virtual std::optional<probe::EchoEvent> next_event() = 0;
  // The identifier on the wire, as the correlator keys probes (known after the first send).
  [[nodiscard]] virtual std::uint16_t wire_ident() const = 0;
  // The descriptor to poll for input.
  [[nodiscard]] virtual int fd() const = 0;
};

class EchoChannel {
 public:
  explicit EchoChannel(std::unique_ptr<EchoEndpoint> endpoint) : endpoint_(std::move(endpoint)) {}

  struct Sent {
    std::uint16_t sequence = 0;
    int error = 0;  // errno of a send that failed; its number is not owned then
  };
  // Sends `owner`'s packet with the next free sequence number, which `owner` holds until
  // release() if the send went out.
  Sent send(const net::IpAddress& destination, std::size_t datalen, SequenceOwners::Owner owner);
  // Gives back a completed run's numbers.
  void release(const std::vector<std::uint16_t>& sequences);
  // Who sent `sequence`, or nullptr when nobody holds it (never ours, or its run completed).
  [[nodiscard]] const SequenceOwners::Owner* owner(std::uint16_t sequence) const {
    return owners_.owner(sequence);
  }

  std::optional<probe::EchoEvent> next_event() { return endpoint_->next_event(); }
  [[nodiscard]] std::uint16_t wire_ident() const { return endpoint_->wire_ident(); }
  [[nodiscard]] int fd() const { return endpoint_->fd(); }

 private:
  std::unique_ptr<EchoEndpoint> endpoint_;
  SequenceOwners owners_;
  std::uint64_t sends_ = 0;
};

}  // namespace mtool::campaign
