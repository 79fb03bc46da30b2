#include "trace/udp_method.h"

#include <netinet/in.h>

#include <cerrno>

namespace mtool::trace {

UdpMethod::UdpMethod(MethodSetup setup, std::uint16_t first_port, bool increment_port,
                     const Clock& clock)
    : setup_(std::move(setup)),
      increment_port_(increment_port),
      clock_(clock),
      next_port_(first_port),
      payload_(setup_.data_length),
      buffer_(1280) {
  fill_payload(payload_);
}

int UdpMethod::send(std::size_t index, report::HopProbe& probe, int ttl, FlowId /*flow*/) {
  const int fd = ::socket(setup_.family, SOCK_DGRAM | SOCK_CLOEXEC | SOCK_NONBLOCK, IPPROTO_UDP);
  if (fd < 0) fail_runtime("socket", errno);
  net::ProbeSocket socket{UniqueFd(fd), setup_.family};
  tune_socket(socket, setup_, true);
  if (const int err = socket.set_hop_limit(ttl)) {
    fail_runtime(setup_.family == AF_INET6 ? "setsockopt IPV6_UNICAST_HOPS" : "setsockopt IP_TTL",
                 err);
  }
  net::IpAddress destination = setup_.destination;
  destination.set_port(next_port_);
  if (::connect(fd, destination.sockaddr_ptr(), destination.sockaddr_len()) != 0) {
    fail_runtime("connect", errno);
  }
  use_recverr(socket);
  probe.user_tx = clock_.wall_now();
  probe.mono_tx = clock_.mono_now();
  const int err = socket.send_to(payload_, net::IpAddress{});
  if (err == ENOBUFS || err == EAGAIN) return err;
  // EMSGSIZE, EHOSTUNREACH: the error queue will say more.
  if (err != 0 && err != EMSGSIZE && err != EHOSTUNREACH) fail_runtime("send", err);
  probe.sent = true;
  if (setup_.identify)
    probe.identity = {setup_.family, IPPROTO_UDP, socket.local_port(), next_port_};
  outstanding_.emplace(index, Outstanding{std::move(socket), next_port_});
  if (increment_port_) ++next_port_;
  return 0;
}

void UdpMethod::release(std::size_t index) { outstanding_.erase(index); }

void UdpMethod::read_errors(std::size_t index, Outstanding& probe,
                            std::vector<ProbeReply>& replies) {
  for (;;) {
    int err = 0;
    auto message = probe.socket.receive_error(buffer_, err);
    if (!message) {
      if (err == 0) continue;
      return;
    }
    // msg_name is where the offending datagram went: it must be this probe's port.
    const auto* original =
        reinterpret_cast<const sockaddr_in*>(message->original_destination.sockaddr_ptr());
    if (message->original_destination.empty() || ntohs(original->sin_port) != probe.port) continue;
    auto reply =
        reply_from_error(*message, index, std::span(buffer_.data(), message->payload_length),
                         setup_, setup_.data_length, clock_);
    if (!reply) continue;
    replies.push_back(std::move(*reply));
    return;
  }
}

void UdpMethod::read_data(std::size_t index, Outstanding& probe, std::vector<ProbeReply>& replies) {
  int err = 0;
  auto datagram = probe.socket.receive(buffer_, err);
  if (!datagram) return;
  // A connected socket hears only its peer; the port check is Butskoy's, kept for safety.
  if (datagram->from.port() != probe.port) return;
  ProbeReply reply;
  reply.index = index;
  reply.rx = arrival_time(datagram->meta, clock_);
  reply.from = datagram->from;
  reply.reply_ttl = datagram->meta.ttl > 0 ? datagram->meta.ttl : 0;
  reply.size = datagram->length;
  replies.push_back(std::move(reply));
}

void UdpMethod::wait(Nanos timeout, std::vector<ProbeReply>& replies) {
  fds_.clear();
  fd_owner_.clear();
  for (const auto& [index, probe] : outstanding_) {
    fds_.push_back(pollfd{probe.socket.fd(), POLLIN, 0});
    fd_owner_.push_back(index);
  }
  if (wait_for_sockets(fds_, timeout, setup_.wait_sigmask) <= 0) return;
  for (std::size_t i = 0; i < fds_.size(); ++i) {
    if (fds_[i].revents == 0) continue;
    const auto it = outstanding_.find(fd_owner_[i]);
    if (it == outstanding_.end()) continue;
    if ((fds_[i].revents & POLLERR) != 0) {
      read_errors(it->first, it->second, replies);
    } else if ((fds_[i].revents & POLLIN) != 0) {
      read_data(it->first, it->second, replies);
    }
  }
}

}  // namespace mtool::trace
