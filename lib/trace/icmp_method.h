#pragma once
// ICMP echo probes (-I): one socket for all probes, raw when allowed (the traditional way,
// Butskoy's preference), else an unprivileged ICMP datagram socket. Probes are told apart by
// their sequence number (from -p, default 1).
#include <optional>
#include <unordered_map>

#include "net/icmp_socket.h"
#include "trace/method_common.h"
#include "trace/probe_method.h"

namespace mtool::trace {

class IcmpMethod final : public ProbeMethod {
 public:
  IcmpMethod(MethodSetup setup, const Clock& clock);
  int send(std::size_t index, report::HopProbe& probe, int ttl) override;
  void wait(std::int64_t timeout_ns, std::vector<ProbeReply>& replies) override;
  void release(std::size_t index) override;
  void descriptors(std::vector<int>& fds) const override { fds.push_back(socket_->fd()); }
  [[nodiscard]] std::size_t packet_length() const override {
    return setup_.header_length + packet_.size();
  }

 private:
  void read_replies(std::vector<ProbeReply>& replies);
  void read_errors(std::vector<ProbeReply>& replies);

  MethodSetup setup_;
  const Clock& clock_;
  std::optional<net::IcmpSocket> socket_;
  std::uint16_t ident_ = 0;
  std::uint16_t next_sequence_ = 1;
  int last_ttl_ = 0;
  std::vector<std::uint8_t> packet_;
  std::vector<std::uint8_t> buffer_;
  std::unordered_map<std::uint16_t, std::size_t> by_sequence_;
};

}  // namespace mtool::trace
