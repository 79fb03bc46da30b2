#include "trace/udp_paris_method.h"

#include <netinet/in.h>

#include <cerrno>

#include "net/capabilities.h"
#include "probe/flow_checksum.h"
#include "util/bytes.h"

namespace mtool::trace {
namespace {

// The payload's first two bytes steer the checksum.
constexpr std::size_t kSteerOffset = 8;

}  // namespace

UdpParisMethod::UdpParisMethod(MethodSetup setup, std::uint16_t first_port, const Clock& clock)
    : setup_(std::move(setup)),
      clock_(clock),
      first_port_(first_port),
      datagram_(kUdpHeaderLength + std::max<std::size_t>(setup_.data_length, 2)),
      buffer_(1280) {
  fill_payload(std::span(datagram_).subspan(kUdpHeaderLength));
  int fd = -1;
  {
    const net::ScopedCapability raw(CAP_NET_RAW);
    fd = ::socket(setup_.family, SOCK_RAW | SOCK_CLOEXEC, IPPROTO_UDP);
  }
  if (fd < 0) {
    if (errno != EPERM && errno != EACCES) fail_runtime("socket", errno);
    return;  // unprivileged: a connected socket per flow, made at its first probe
  }
  raw_.emplace(UniqueFd(fd), setup_.family);
  tune_socket(*raw_, setup_);
  if (::connect(fd, setup_.destination.sockaddr_ptr(), setup_.destination.sockaddr_len()) != 0)
    fail_runtime("connect", errno);
  use_recverr(*raw_);
  source_ = local_address(fd);
  port_holder_ = UniqueFd(::socket(setup_.family, SOCK_DGRAM | SOCK_CLOEXEC, IPPROTO_UDP));
  if (!port_holder_) fail_runtime("socket", errno);
  bind_probe_socket(port_holder_.get(), setup_);
  source_port_ = local_address(port_holder_.get()).port();
  raw_pseudo_header_sum_ =
      probe::pseudo_header_sum(source_, setup_.destination, datagram_.size(), IPPROTO_UDP);
}

void UdpParisMethod::descriptors(std::vector<int>& fds) const {
  if (raw_) {
    fds.push_back(raw_->fd());
    return;
  }
  for (const auto& [flow, socket] : flows_) fds.push_back(socket.socket.fd());
}

// Checksums name the probes in flight: never 0 (IPv4's "no checksum") nor 0xFFFF (which no
// sum gives), never one still in flight.
std::uint16_t UdpParisMethod::next_checksum() {
  do {
    last_checksum_ = static_cast<std::uint16_t>(last_checksum_ % 0xFFFE + 1);
  } while (by_checksum_.contains(last_checksum_));
  return last_checksum_;
}

void UdpParisMethod::build(FlowId flow, std::uint16_t checksum, std::uint32_t pseudo_header_sum) {
  store16(&datagram_[0], source_port_);
  store16(&datagram_[2], port_of(flow));
  store16(&datagram_[4], static_cast<std::uint16_t>(datagram_.size()));
  probe::steer_checksum(datagram_, 6, kSteerOffset, pseudo_header_sum, checksum);
  store16(&datagram_[6], checksum);
}

int UdpParisMethod::send(std::size_t index, report::HopProbe& probe, int ttl, FlowId flow) {
  if (port_of(flow) < first_port_) fail_runtime("send", ERANGE);  // past port 65535
  return raw_ ? send_raw(index, probe, ttl, flow) : send_connected(index, probe, ttl, flow);
}

int UdpParisMethod::send_raw(std::size_t index, report::HopProbe& probe, int ttl, FlowId flow) {
  if (const int err = raw_->set_hop_limit(ttl)) {
    fail_runtime(setup_.family == AF_INET6 ? "setsockopt IPV6_UNICAST_HOPS" : "setsockopt IP_TTL",
                 err);
  }
  const std::uint16_t checksum = next_checksum();
  build(flow, checksum, raw_pseudo_header_sum_);
  probe.user_tx = clock_.wall_now();
  probe.mono_tx = clock_.mono_now();
  const int err = raw_->send_to(datagram_, net::IpAddress{});
  if (err == ENOBUFS || err == EAGAIN) return err;
  if (err != 0 && err != EMSGSIZE && err != EHOSTUNREACH) fail_runtime("send", err);
  probe.sent = true;
  // The correlator keys a raw socket's UDP probe by its checksum too, final as written here.
  if (setup_.identify) {
    probe.identity = {setup_.family, IPPROTO_UDP, source_port_, port_of(flow), checksum};
  }
  outstanding_.emplace(index, Outstanding{flow, checksum, load16(&datagram_[kSteerOffset])});
  by_checksum_.emplace(checksum, index);
  return 0;
}

UdpParisMethod::FlowSocket& UdpParisMethod::flow_socket(FlowId flow) {
  if (const auto it = flows_.find(flow); it != flows_.end()) return it->second;
  const int fd = ::socket(setup_.family, SOCK_DGRAM | SOCK_CLOEXEC | SOCK_NONBLOCK, IPPROTO_UDP);
  if (fd < 0) fail_runtime("socket", errno);
  net::ProbeSocket socket{UniqueFd(fd), setup_.family};
  tune_socket(socket, setup_, true);
  net::IpAddress destination = setup_.destination;
  destination.set_port(port_of(flow));
  if (::connect(fd, destination.sockaddr_ptr(), destination.sockaddr_len()) != 0)
    fail_runtime("connect", errno);
  use_recverr(socket);
  return flows_.emplace(flow, FlowSocket{std::move(socket), std::nullopt}).first->second;
}

int UdpParisMethod::send_connected(std::size_t index, report::HopProbe& probe, int ttl,
                                   FlowId flow) {
  FlowSocket& socket = flow_socket(flow);
  if (socket.in_flight) return EAGAIN;  // its answer could not be told from this one's
  if (const int err = socket.socket.set_hop_limit(ttl)) {
    fail_runtime(setup_.family == AF_INET6 ? "setsockopt IPV6_UNICAST_HOPS" : "setsockopt IP_TTL",
                 err);
  }
  // The kernel writes the header and the checksum, over the payload steered here.
  const net::IpAddress local = local_address(socket.socket.fd());
  source_port_ = local.port();
  const std::uint16_t checksum = next_checksum();
  build(flow, checksum,
        probe::pseudo_header_sum(local, setup_.destination, datagram_.size(), IPPROTO_UDP));
  probe.user_tx = clock_.wall_now();
  probe.mono_tx = clock_.mono_now();
  const int err =
      socket.socket.send_to(std::span(datagram_).subspan(kUdpHeaderLength), net::IpAddress{});
  if (err == ENOBUFS || err == EAGAIN) return err;
  if (err != 0 && err != EMSGSIZE && err != EHOSTUNREACH) fail_runtime("send", err);
  probe.sent = true;
  // The kernel made the checksum, maybe after the correlator saw the probe (offload): it keys
  // the probe by its ports, which one probe in flight per flow makes its own.
  if (setup_.identify) probe.identity = {setup_.family, IPPROTO_UDP, local.port(), port_of(flow)};
  socket.in_flight = index;
  outstanding_.emplace(index, Outstanding{flow, checksum, load16(&datagram_[kSteerOffset])});
  by_checksum_.emplace(checksum, index);
  return 0;
}

void UdpParisMethod::release(std::size_t index) {
  const auto it = outstanding_.find(index);
  if (it == outstanding_.end()) return;
  by_checksum_.erase(it->second.checksum);
  if (const auto flow = flows_.find(it->second.flow);
      flow != flows_.end() && flow->second.in_flight == index) {
    flow->second.in_flight.reset();
  }
  outstanding_.erase(it);
}

std::optional<std::size_t> UdpParisMethod::oldest_of(FlowId flow) const {
  for (const auto& [index, probe] : outstanding_) {
    if (probe.flow == flow) return index;
  }
  return std::nullopt;
}

// The quote starts at our UDP header: our ports, and the checksum that names the probe.
void UdpParisMethod::read_raw_errors(std::vector<ProbeReply>& replies) {
  drain_error_queue(
      *raw_, buffer_, setup_, datagram_.size(), clock_,
      [this](std::span<const std::uint8_t> quote) -> std::optional<std::size_t> {
        if (quote.size() < kUdpHeaderLength || load16(&quote[0]) != source_port_)
          return std::nullopt;
        const auto it = by_checksum_.find(load16(&quote[6]));
        if (it == by_checksum_.end() ||
            load16(&quote[2]) != port_of(outstanding_.at(it->second).flow))
          return std::nullopt;
        return it->second;
      },
      [this] { return first_index(outstanding_); }, replies);
}

// A raw UDP socket hears every datagram to this host. One from the destination's probed port
// to ours answers that flow (its oldest probe: an answer quotes nothing).
void UdpParisMethod::read_raw_data(std::vector<ProbeReply>& replies) {
  for (;;) {
    int err = 0;
    auto datagram = raw_->receive(buffer_, err);
    if (!datagram) return;
    const auto received =
        raw_transport_segment(std::span(buffer_.data(), datagram->length), setup_.family);
    if (!received) continue;
    const std::span<const std::uint8_t> segment = *received;
    if (segment.size() < kUdpHeaderLength || !datagram->from.same_host(setup_.destination) ||
        load16(&segment[2]) != source_port_ || load16(&segment[0]) < first_port_) {
      continue;
    }
    const auto index = oldest_of(static_cast<FlowId>(load16(&segment[0]) - first_port_));
    if (!index) continue;
    ProbeReply reply;
    reply.index = *index;
    reply.rx = arrival_time(datagram->meta, clock_);
    reply.from = datagram->from;
    reply.reply_ttl = datagram->meta.ttl > 0 ? datagram->meta.ttl : 0;
    reply.size = segment.size() - kUdpHeaderLength;
    replies.push_back(std::move(reply));
  }
}

// A flow's own socket: whatever it hears answers its one probe in flight.
void UdpParisMethod::read_flow(FlowSocket& flow, short revents, std::vector<ProbeReply>& replies) {
  for (;;) {
    int err = 0;
    if ((revents & POLLERR) != 0) {
      auto message = flow.socket.receive_error(buffer_, err);
      if (!message) {
        if (err == 0) continue;
        return;
      }
      if (!flow.in_flight) continue;
      // Where the router quoted past the UDP header, a late answer to an earlier probe shows
      // in the steering bytes.
      if (message->payload_length >= 2 &&
          load16(buffer_.data()) != outstanding_.at(*flow.in_flight).steer) {
        continue;
      }
      auto reply = reply_from_error(*message, *flow.in_flight,
                                    std::span(buffer_.data(), message->payload_length), setup_,
                                    datagram_.size() - kUdpHeaderLength, clock_);
      if (reply) replies.push_back(std::move(*reply));
      return;
    }
    auto datagram = flow.socket.receive(buffer_, err);
    if (!datagram || !flow.in_flight) return;
    ProbeReply reply;
    reply.index = *flow.in_flight;
    reply.rx = arrival_time(datagram->meta, clock_);
    reply.from = datagram->from;
    reply.reply_ttl = datagram->meta.ttl > 0 ? datagram->meta.ttl : 0;
    reply.size = datagram->length;
    replies.push_back(std::move(reply));
    return;
  }
}

void UdpParisMethod::wait(Nanos timeout, std::vector<ProbeReply>& replies) {
  fds_.clear();
  fd_flow_.clear();
  if (raw_) {
    fds_.push_back(pollfd{raw_->fd(), POLLIN, 0});
  } else {
    for (const auto& [flow, socket] : flows_) {
      fds_.push_back(pollfd{socket.socket.fd(), POLLIN, 0});
      fd_flow_.push_back(flow);
    }
  }
  if (wait_for_sockets(fds_, timeout, setup_.wait_sigmask) <= 0) return;
  if (raw_) {
    if ((fds_[0].revents & POLLERR) != 0) read_raw_errors(replies);
    if ((fds_[0].revents & POLLIN) != 0) read_raw_data(replies);
    return;
  }
  for (std::size_t i = 0; i < fds_.size(); ++i) {
    if (fds_[i].revents != 0) read_flow(flows_.at(fd_flow_[i]), fds_[i].revents, replies);
  }
}

}  // namespace mtool::trace
