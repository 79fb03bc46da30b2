#include "trace/icmp_method.h"

#include <netinet/icmp6.h>
#include <netinet/ip_icmp.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>

#include "correlate/probe_identity.h"
#include "probe/flow_checksum.h"
#include "probe/icmp_codec.h"

namespace mtool::trace {
namespace {

// The lowest probe index among `outstanding` values (sequence -> index), if any.
std::optional<std::size_t> first_outstanding(
    const std::unordered_map<std::uint16_t, std::size_t>& outstanding) {
  std::optional<std::size_t> first;
  for (const auto& [key, index] : outstanding) {
    if (!first || index < *first) first = index;
  }
  return first;
}

// Where a flow's checksum is steered from: the first two bytes after the echo header.
constexpr std::size_t kSteerOffset = probe::kIcmpHeaderLength;

}  // namespace

IcmpMethod::IcmpMethod(MethodSetup setup, const Clock& clock)
    : setup_(std::move(setup)),
      clock_(clock),
      packet_(std::max(setup_.data_length,
                       setup_.hold_flows ? kSteerOffset + 2 : probe::kIcmpHeaderLength)),
      buffer_(1280) {
  if (setup_.port != 0) next_sequence_ = static_cast<std::uint16_t>(setup_.port);
  fill_payload(packet_, probe::kIcmpHeaderLength);
  // Raw first (needs CAP_NET_RAW), then the unprivileged datagram socket.
  int error = 0;
  net::SocketKind tried = net::SocketKind::kRaw;
  socket_ = net::IcmpSocket::open(setup_.family, false, error, tried);
  if (!socket_) {
    int datagram_error = 0;
    socket_ = net::IcmpSocket::open(setup_.family, true, datagram_error, tried);
    if (!socket_) fail_runtime_or_permission("socket", error);
  }
  tune_socket(*socket_, setup_);
  if (::connect(socket_->fd(), setup_.destination.sockaddr_ptr(),
                setup_.destination.sockaddr_len()) != 0) {
    fail_runtime("connect", errno);
  }
  use_recverr(*socket_);
  if (socket_->is_raw()) {
    ident_ =
        setup_.icmp_ident != 0 ? setup_.icmp_ident : static_cast<std::uint16_t>(getpid() & 0xFFFF);
    socket_->install_type_filter();
  } else {
    ident_ = socket_->local_port();  // the kernel's identifier for a datagram socket
  }
  if (setup_.family == AF_INET6) {
    pseudo_header_sum_ = probe::pseudo_header_sum(local_address(socket_->fd()), setup_.destination,
                                                  packet_.size(), IPPROTO_ICMPV6);
  }
}

int IcmpMethod::send(std::size_t index, report::HopProbe& probe, int ttl, FlowId flow) {
  if (ttl != last_ttl_) {
    if (const int err = socket_->set_hop_limit(ttl)) {
      fail_runtime(setup_.family == AF_INET6 ? "setsockopt IPV6_UNICAST_HOPS" : "setsockopt IP_TTL",
                   err);
    }
    last_ttl_ = ttl;
  }
  const std::uint16_t sequence = next_sequence_;
  probe::write_echo_request(packet_, setup_.family, ident_, sequence);
  if (setup_.hold_flows) {
    // The kernel fills in the checksum of a datagram socket's echo, and of any ICMPv6 one,
    // over the same bytes (our identifier being the wire's): it comes out the flow's too.
    probe::steer_checksum(packet_, 2, kSteerOffset, pseudo_header_sum_,
                          probe::icmp_flow_checksum(setup_.family, flow));
    if (setup_.family == AF_INET) probe::write_checksum(packet_, 2, 0);
  }
  probe.user_tx = clock_.wall_now();
  probe.mono_tx = clock_.mono_now();
  const int err = socket_->send_to(packet_, net::IpAddress{});
  if (err == ENOBUFS || err == EAGAIN) return err;
  if (err != 0 && err != EMSGSIZE && err != EHOSTUNREACH) fail_runtime("send", err);
  probe.sent = true;
  probe.identity = correlate::echo_probe(setup_.family, ident_, sequence);
  by_sequence_[sequence] = index;
  ++next_sequence_;
  return 0;
}

void IcmpMethod::release(std::size_t index) {
  std::erase_if(by_sequence_, [index](const auto& entry) { return entry.second == index; });
}

void IcmpMethod::read_replies(std::vector<ProbeReply>& replies) {
  for (;;) {
    int err = 0;
    auto datagram = socket_->receive(buffer_, err);
    if (!datagram) return;
    const bool with_ip = socket_->is_raw() && setup_.family == AF_INET;
    const auto message =
        probe::parse_icmp(std::span(buffer_.data(), datagram->length), setup_.family, with_ip);
    if (message.kind != probe::IcmpKind::kEchoReply || message.ident != ident_) continue;
    if (!datagram->from.same_host(setup_.destination)) continue;
    const auto it = by_sequence_.find(message.sequence);
    if (it == by_sequence_.end()) continue;
    ProbeReply reply;
    reply.index = it->second;
    reply.rx = arrival_time(datagram->meta, clock_);
    reply.from = datagram->from;
    reply.size = message.icmp.size() >= probe::kIcmpHeaderLength
                     ? message.icmp.size() - probe::kIcmpHeaderLength
                     : 0;
    reply.reply_ttl =
        datagram->meta.ttl > 0 ? datagram->meta.ttl : (message.ttl > 0 ? message.ttl : 0);
    replies.push_back(std::move(reply));
  }
}

// The error queue returns the start of our own echo: its identifier and sequence name the probe.
void IcmpMethod::read_errors(std::vector<ProbeReply>& replies) {
  drain_error_queue(
      *socket_, buffer_, setup_, packet_.size(), clock_,
      [this](std::span<const std::uint8_t> quote) -> std::optional<std::size_t> {
        const auto echo = probe::parse_echo_header(quote);
        if (!echo || echo->ident != ident_) return std::nullopt;
        const auto it = by_sequence_.find(echo->sequence);
        if (it == by_sequence_.end()) return std::nullopt;
        return it->second;
      },
      [this] { return first_outstanding(by_sequence_); }, replies);
}

void IcmpMethod::wait(Nanos timeout, std::vector<ProbeReply>& replies) {
  std::vector<pollfd> fds{pollfd{socket_->fd(), POLLIN, 0}};
  if (wait_for_sockets(fds, timeout, setup_.wait_sigmask) <= 0) return;
  if ((fds[0].revents & POLLERR) != 0) read_errors(replies);
  if ((fds[0].revents & POLLIN) != 0) read_replies(replies);
}

}  // namespace mtool::trace
