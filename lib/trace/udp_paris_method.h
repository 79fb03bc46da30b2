#pragma once
// UDP probes that hold their flow (Paris traceroute, and multipath discovery on top of it):
// every probe of flow F goes from one source port to the first port (-p, default 33434; -U: 53)
// plus F, and says which probe it is in its UDP checksum, steered through the first two bytes
// of its payload (the field no balancer hashes, as RIPE Atlas does).
//
// With CAP_NET_RAW, one raw socket writes every header itself and hears every ICMP error with
// the UDP header quoted, checksum included: many probes fly at once, as in a classic trace.
// Without it, one connected UDP socket per flow: an unprivileged socket's error queue shows
// only what follows the quoted UDP header, so nothing there tells two probes of a flow apart,
// and a flow has one probe in flight at a time (as Butskoy's --sport implies -N 1, and as
// Atlas keeps one probe in flight). The correlator keys a raw socket's UDP probe by its
// checksum too, so a raw trace it follows keeps many probes in flight; a connected socket's
// probes it keys by their ports, which one probe in flight per flow keeps apart.
#include <map>
#include <optional>

#include "trace/method_common.h"
#include "trace/probe_method.h"

namespace mtool::trace {

class UdpParisMethod final : public ProbeMethod {
 public:
  // `first_port`: flow F goes to first_port + F (udp_first_port()).
  UdpParisMethod(MethodSetup setup, std::uint16_t first_port, const Clock& clock);
  int send(std::size_t index, report::HopProbe& probe, int ttl, FlowId flow) override;
  void wait(Nanos timeout, std::vector<ProbeReply>& replies) override;
  void release(std::size_t index) override;
  void descriptors(std::vector<int>& fds) const override;
  [[nodiscard]] std::size_t packet_length() const override {
    return setup_.header_length + datagram_.size() - kUdpHeaderLength;
  }
  // Whether probes go through a raw socket (many in flight) rather than one per flow.
  [[nodiscard]] bool raw() const { return raw_.has_value(); }

 private:
  static constexpr std::size_t kUdpHeaderLength = 8;
  struct Outstanding {
    FlowId flow;
    std::uint16_t checksum;  // the probe's name on the wire
    std::uint16_t steer;     // the payload's first two bytes, which set it
  };
  // Unprivileged: a flow's connected socket, and its one probe in flight.
  struct FlowSocket {
    net::ProbeSocket socket;
    std::optional<std::size_t> in_flight;
  };

  [[nodiscard]] std::uint16_t port_of(FlowId flow) const {
    return static_cast<std::uint16_t>(first_port_ + flow);
  }
  std::uint16_t next_checksum();
  void build(FlowId flow, std::uint16_t checksum, std::uint32_t pseudo_header_sum);
  int send_raw(std::size_t index, report::HopProbe& probe, int ttl, FlowId flow);
  int send_connected(std::size_t index, report::HopProbe& probe, int ttl, FlowId flow);
  FlowSocket& flow_socket(FlowId flow);
  void read_raw_errors(std::vector<ProbeReply>& replies);
  void read_raw_data(std::vector<ProbeReply>& replies);
  void read_flow(FlowSocket& flow, short revents, std::vector<ProbeReply>& replies);
  std::optional<std::size_t> oldest_of(FlowId flow) const;

  MethodSetup setup_;
  const Clock& clock_;
  std::uint16_t first_port_;
  std::optional<net::ProbeSocket> raw_;
  UniqueFd port_holder_;  // raw: keeps our source port from anyone else
  std::uint16_t source_port_ = 0;
  net::IpAddress source_;
  std::uint32_t raw_pseudo_header_sum_ = 0;
  std::uint16_t last_checksum_ = 0;
  std::vector<std::uint8_t> datagram_;  // UDP header + payload (raw); the payload is after it
  std::vector<std::uint8_t> buffer_;
  std::map<std::size_t, Outstanding> outstanding_;
  std::map<std::uint16_t, std::size_t> by_checksum_;
  std::map<FlowId, FlowSocket> flows_;
  std::vector<pollfd> fds_;
  std::vector<FlowId> fd_flow_;
};

}  // namespace mtool::trace
