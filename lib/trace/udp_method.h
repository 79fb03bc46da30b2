#pragma once
// UDP probes (the default method, and -U): one unprivileged socket per probe, connected to the
// destination port (33434 + n by default, or one fixed port), so ICMP errors about it reach
// that socket's error queue and nobody else's.
#include <map>
#include <memory>
#include <optional>

#include "trace/method_common.h"
#include "trace/probe_method.h"

namespace mtool::trace {

class UdpMethod final : public ProbeMethod {
 public:
  // From `first_port` (udp_first_port()); `increment_port`: the traditional method, a new port
  // per probe, else -U's one fixed port.
  UdpMethod(MethodSetup setup, std::uint16_t first_port, bool increment_port, const Clock& clock);
  int send(std::size_t index, report::HopProbe& probe, int ttl, FlowId flow) override;
  void wait(Nanos timeout, std::vector<ProbeReply>& replies) override;
  void release(std::size_t index) override;
  void descriptors(std::vector<int>& fds) const override {
    for (const auto& [index, probe] : outstanding_) fds.push_back(probe.socket.fd());
  }
  [[nodiscard]] std::size_t packet_length() const override {
    return setup_.header_length + payload_.size();
  }

 private:
  struct Outstanding {
    net::ProbeSocket socket;
    std::uint16_t port;  // destination port it was sent to
  };
  void read_errors(std::size_t index, Outstanding& probe, std::vector<ProbeReply>& replies);
  void read_data(std::size_t index, Outstanding& probe, std::vector<ProbeReply>& replies);

  MethodSetup setup_;
  bool increment_port_;
  const Clock& clock_;
  std::uint16_t next_port_;
  std::vector<std::uint8_t> payload_;
  std::vector<std::uint8_t> buffer_;
  std::map<std::size_t, Outstanding> outstanding_;
  std::vector<pollfd> fds_;
  std::vector<std::size_t> fd_owner_;
};

}  // namespace mtool::trace
