#pragma once
// TCP SYN probes (-T, port 80): half-open, as Butskoy does. Each probe holds a bound, idle
// stream socket for its source port (so the kernel answers the target's SYN-ACK with a reset
// and no application is ever touched) and is sent through one raw TCP socket with its own
// TTL. A SYN-ACK or reset from the destination is the final reply.
#include <map>
#include <optional>

#include "trace/method_common.h"
#include "trace/probe_method.h"

namespace mtool::trace {

class TcpMethod final : public ProbeMethod {
 public:
  TcpMethod(MethodSetup setup, const Clock& clock);
  int send(std::size_t index, report::HopProbe& probe, int ttl) override;
  void wait(std::int64_t timeout_ns, std::vector<ProbeReply>& replies) override;
  void release(std::size_t index) override;
  void descriptors(std::vector<int>& fds) const override { fds.push_back(raw_->fd()); }
  [[nodiscard]] std::size_t packet_length() const override {
    return setup_.header_length + header_.size();
  }

 private:
  struct Outstanding {
    UniqueFd port_holder;
    std::uint16_t source_port;
  };
  void build_header();
  void read_replies(std::vector<ProbeReply>& replies);
  void read_errors(std::vector<ProbeReply>& replies);
  std::optional<std::size_t> find(std::uint16_t source_port) const;

  MethodSetup setup_;
  const Clock& clock_;
  std::optional<net::ProbeSocket> raw_;
  net::IpAddress source_;  // our address toward the destination (for the checksum)
  std::uint16_t destination_port_;
  int mtu_ = 576;
  int last_ttl_ = 0;
  std::vector<std::uint8_t> header_;  // TCP header and options, ports and checksum per probe
  std::uint16_t pseudo_header_sum_ = 0;
  std::vector<std::uint8_t> buffer_;
  std::map<std::size_t, Outstanding> outstanding_;
};

}  // namespace mtool::trace
