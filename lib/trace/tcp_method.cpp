#include "trace/tcp_method.h"

#include <fcntl.h>
#include <netinet/in.h>
#include <netinet/ip.h>
#include <netinet/tcp.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <fstream>
#include <random>

#include "net/capabilities.h"
#include "probe/flow_checksum.h"
#include "probe/icmp_codec.h"
#include "util/bytes.h"

namespace mtool::trace {
namespace {

constexpr std::uint16_t kDefaultPort = 80;
constexpr std::uint8_t kSyn = 0x02;
constexpr std::uint8_t kRst = 0x04;
constexpr std::uint8_t kAck = 0x10;
constexpr std::uint8_t kEce = 0x40;
constexpr std::uint8_t kCwr = 0x80;

// Whether /proc/sys/net/ipv4/tcp_<name> starts with '1' (Butskoy's check_sysctl).
bool sysctl_on(const char* name) {
  std::ifstream file(std::string("/proc/sys/net/ipv4/tcp_") + name);
  char c = 0;
  return file.get(c) && c == '1';
}

std::uint32_t random32() {
  static std::mt19937 generator{std::random_device{}()};
  return static_cast<std::uint32_t>(generator());
}

}  // namespace

TcpMethod::TcpMethod(MethodSetup setup, const Clock& clock)
    : setup_(std::move(setup)),
      clock_(clock),
      destination_port_(static_cast<std::uint16_t>(setup_.port != 0 ? setup_.port : kDefaultPort)),
      buffer_(1280) {
  int fd = -1;
  {
    const net::ScopedCapability raw(CAP_NET_RAW);
    fd = ::socket(setup_.family, SOCK_RAW | SOCK_CLOEXEC, IPPROTO_TCP);
  }
  if (fd < 0) fail_runtime_or_permission("socket", errno);
  raw_.emplace(UniqueFd(fd), setup_.family);
  tune_socket(*raw_, setup_);
  if (::connect(fd, setup_.destination.sockaddr_ptr(), setup_.destination.sockaddr_len()) != 0) {
    fail_runtime("connect", errno);
  }
  source_ = local_address(fd);
  const bool v6 = setup_.family == AF_INET6;
  int mtu = 0;
  socklen_t length = sizeof mtu;
  if (::getsockopt(fd, v6 ? IPPROTO_IPV6 : IPPROTO_IP, v6 ? IPV6_MTU : IP_MTU, &mtu, &length) ==
          0 &&
      mtu >= 576) {
    mtu_ = mtu;
  }
  use_recverr(*raw_);
  build_header();
}

// SYN with the options this host's own connections would carry (sysctl), as Butskoy does:
// MSS; SACK-permitted and timestamps; window scaling; ECN flags when enabled.
void TcpMethod::build_header() {
  const bool v6 = setup_.family == AF_INET6;
  const bool ecn = sysctl_on("ecn");
  const bool sack = sysctl_on("sack");
  const bool timestamps = sysctl_on("timestamps");
  const bool window_scaling = sysctl_on("window_scaling");
  const int mss = mtu_ - (v6 ? 40 : 20) - 20;
  std::vector<std::uint8_t> options;
  options.insert(options.end(), {TCPOPT_MAXSEG, TCPOLEN_MAXSEG, static_cast<std::uint8_t>(mss >> 8),
                                 static_cast<std::uint8_t>(mss)});
  if (timestamps) {
    if (sack) {
      options.insert(options.end(), {TCPOPT_SACK_PERMITTED, TCPOLEN_SACK_PERMITTED});
    } else {
      options.insert(options.end(), {TCPOPT_NOP, TCPOPT_NOP});
    }
    options.insert(options.end(), {TCPOPT_TIMESTAMP, TCPOLEN_TIMESTAMP});
    const std::uint32_t stamp = random32();
    for (int shift = 24; shift >= 0; shift -= 8)
      options.push_back(static_cast<std::uint8_t>(stamp >> shift));
    options.insert(options.end(), {0, 0, 0, 0});
  } else if (sack) {
    options.insert(options.end(),
                   {TCPOPT_NOP, TCPOPT_NOP, TCPOPT_SACK_PERMITTED, TCPOLEN_SACK_PERMITTED});
  }
  if (window_scaling) options.insert(options.end(), {TCPOPT_NOP, TCPOPT_WINDOW, TCPOLEN_WINDOW, 2});
  header_.assign(20 + options.size(), 0);
  std::copy(options.begin(), options.end(), header_.begin() + 20);
  store16(&header_[2], destination_port_);
  header_[12] = static_cast<std::uint8_t>((header_.size() / 4) << 4);
  header_[13] = static_cast<std::uint8_t>(kSyn | (ecn ? (kEce | kCwr) : 0));
  store16(&header_[14], static_cast<std::uint16_t>(std::min(4 * mtu_, 0xFFFF)));
  // The checksum's pseudo-header (addresses, length, protocol) is the same for every probe:
  // its one's-complement sum, once, seeds each probe's checksum.
  pseudo_header_sum_ =
      probe::pseudo_header_sum(source_, setup_.destination, header_.size(), IPPROTO_TCP);
}

// A source port held by a bound stream socket that neither connects nor listens, so the
// kernel answers the target's SYN-ACK with a reset and no one else gets the port.
TcpMethod::PortHolder TcpMethod::hold_port() const {
  UniqueFd holder(::socket(setup_.family, SOCK_STREAM | SOCK_CLOEXEC, 0));
  if (!holder) fail_runtime("socket", errno);
  bind_probe_socket(holder.get(), setup_);
  const std::uint16_t port = local_address(holder.get()).port();
  return PortHolder{std::move(holder), port};
}

int TcpMethod::send(std::size_t index, report::HopProbe& probe, int ttl, FlowId flow) {
  PortHolder own;
  std::uint16_t source_port = 0;
  if (setup_.hold_flows) {
    auto held = flow_ports_.find(flow);
    if (held == flow_ports_.end()) held = flow_ports_.emplace(flow, hold_port()).first;
    source_port = held->second.port;
  } else {
    own = hold_port();
    source_port = own.port;
  }
  // Random, but for a low half that counts the probes: no two of a trace's probes on one port
  // are ever taken for each other (nor, by the correlator, which keys them by that half).
  const std::uint32_t sequence = (random32() & 0xFFFF0000U) | ++probes_sent_;
  store16(&header_[0], source_port);
  store32(&header_[4], sequence);
  probe::write_checksum(header_, 16, pseudo_header_sum_);
  const bool v6 = setup_.family == AF_INET6;
  if (ttl != last_ttl_) {
    if (const int err = raw_->set_hop_limit(ttl)) {
      fail_runtime(v6 ? "setsockopt IPV6_UNICAST_HOPS" : "setsockopt IP_TTL", err);
    }
    last_ttl_ = ttl;
  }
  probe.user_tx = clock_.wall_now();
  probe.mono_tx = clock_.mono_now();
  const int err = raw_->send_to(header_, net::IpAddress{});
  if (err == ENOBUFS || err == EAGAIN) return err;
  if (err != 0 && err != EMSGSIZE && err != EHOSTUNREACH) fail_runtime("send", err);
  probe.sent = true;
  probe.identity = {setup_.family, IPPROTO_TCP, source_port,
                    static_cast<std::uint16_t>(sequence & 0xFFFF)};
  outstanding_.emplace(index, Outstanding{std::move(own), source_port, sequence});
  return 0;
}

void TcpMethod::release(std::size_t index) { outstanding_.erase(index); }

std::optional<std::size_t> TcpMethod::find(std::uint16_t source_port,
                                           std::uint32_t sequence) const {
  for (const auto& [index, probe] : outstanding_) {
    if (probe.source_port == source_port && probe.sequence == sequence) return index;
  }
  return std::nullopt;
}

void TcpMethod::read_replies(std::vector<ProbeReply>& replies) {
  for (;;) {
    int err = 0;
    auto datagram = raw_->receive(buffer_, err);
    if (!datagram) return;
    const auto received =
        raw_transport_segment(std::span(buffer_.data(), datagram->length), setup_.family);
    if (!received) continue;
    const std::span<const std::uint8_t> segment = *received;
    if (segment.size() < 14 || !datagram->from.same_host(setup_.destination)) continue;
    if (load16(&segment[0]) != destination_port_) continue;  // from the port we probe
    const std::uint8_t flags = segment[13];
    if ((flags & (kSyn | kRst)) == 0 || (flags & kAck) == 0) continue;  // a SYN-ACK or a reset
    // A SYN-ACK or a reset acknowledges the SYN's sequence number + 1.
    const auto index = find(load16(&segment[2]), load32(&segment[8]) - 1);
    if (!index) continue;
    ProbeReply reply;
    reply.index = *index;
    reply.rx = arrival_time(datagram->meta, clock_);
    reply.from = datagram->from;
    reply.reply_ttl = datagram->meta.ttl > 0 ? datagram->meta.ttl : 0;
    reply.size = segment.size() >= 20 ? segment.size() - 20 : 0;  // after a bare TCP header
    replies.push_back(std::move(reply));
  }
}

// The quote starts at our TCP header: the ports, then the sequence number that names the probe.
void TcpMethod::read_errors(std::vector<ProbeReply>& replies) {
  drain_error_queue(
      *raw_, buffer_, setup_, header_.size(), clock_,
      [this](std::span<const std::uint8_t> quote) -> std::optional<std::size_t> {
        if (quote.size() < 8 || load16(&quote[2]) != destination_port_) return std::nullopt;
        return find(load16(&quote[0]), load32(&quote[4]));
      },
      [this] { return first_index(outstanding_); }, replies);
}

void TcpMethod::wait(Nanos timeout, std::vector<ProbeReply>& replies) {
  std::vector<pollfd> fds{pollfd{raw_->fd(), POLLIN, 0}};
  if (wait_for_sockets(fds, timeout, setup_.wait_sigmask) <= 0) return;
  if ((fds[0].revents & POLLERR) != 0) read_errors(replies);
  if ((fds[0].revents & POLLIN) != 0) read_replies(replies);
}

}  // namespace mtool::trace
