#include "probe/echo_transport.h"

#include <arpa/inet.h>
#include <netinet/icmp6.h>
#include <netinet/ip_icmp.h>
#include <poll.h>
#include <sys/time.h>

#include <algorithm>
#include <cerrno>
#include <cstring>

#include "probe/icmp_codec.h"

namespace mtool::probe {
namespace {

static_assert(sizeof(timeval) == kEchoTimestampLength);
constexpr std::size_t kMaxIpHeader = 60;
constexpr std::size_t kMaxIcmpHeader = 76;

}  // namespace

SocketEchoTransport::SocketEchoTransport(net::IcmpSocket& socket, EchoConfig config,
                                         const Clock& clock)
    : ring_size_(config.max_in_flight > 8192 ? std::size_t{1} << 16 : std::size_t{1} << 14),
      socket_(socket),
      config_(std::move(config)),
      clock_(clock),
      packet_(kIcmpHeaderLength + config_.datalen),
      receive_buffer_(config_.datalen + kMaxIpHeader + kMaxIcmpHeader),

      sent_(ring_size_),
      key_to_sequence_(ring_size_) {
  std::copy_n(config_.payload.begin(), std::min(config_.payload.size(), config_.datalen),
              packet_.begin() + kIcmpHeaderLength);
  config_.payload.clear();  // now in packet_; -s can be huge
  config_.payload.shrink_to_fit();
}

SentEcho* SocketEchoTransport::find_sent(std::uint16_t sequence) {
  SentEcho& slot = sent_[sequence % ring_size_];
  return slot.number != 0 && slot.sequence == sequence ? &slot : nullptr;
}

int SocketEchoTransport::send_echo(std::uint16_t sequence, std::uint64_t number) {
  return send_echo_to(config_.destination, config_.datalen, sequence, number);
}

int SocketEchoTransport::send_echo_to(const net::IpAddress& destination, std::size_t datalen,
                                      std::uint16_t sequence, std::uint64_t number) {
  datalen = std::min(datalen, config_.datalen);
  const std::span<std::uint8_t> packet(packet_.data(), kIcmpHeaderLength + datalen);
  const WallNs now = clock_.wall_now();
  if (config_.stamp_payload && datalen >= kEchoTimestampLength) {
    // Same layout as iputils: a struct timeval in host order at the start of the data.
    const std::int64_t now_ns = raw_ns(now);
    timeval tv{static_cast<time_t>(now_ns / kNsPerSec),
               static_cast<suseconds_t>((now_ns % kNsPerSec) / kNsPerUs)};
    std::memcpy(packet_.data() + kIcmpHeaderLength, &tv, sizeof tv);
  }
  write_echo_request(packet, socket_.family(), config_.ident, sequence);
  SentEcho& slot = sent_[sequence % ring_size_];
  slot = SentEcho{sequence,         static_cast<std::uint16_t>(datalen), number, now, std::nullopt,
                  clock_.mono_now()};
  const int err = socket_.send_to(packet, destination);
  if (wire_ident_ == 0) wire_ident_ = socket_.is_raw() ? config_.ident : socket_.local_port();
  // A failed send may have queued its explanation (IP_RECVERR): have next_event() read the
  // error queue, as iputils' pinger() calls receive_error_msg().
  if (err != 0) error_pending_ = true;
  if (err == 0 && socket_.tx_timestamps_enabled()) {
    key_to_sequence_[next_key_ % ring_size_] = sequence;
    ++next_key_;
  }
  return err;
}

bool SocketEchoTransport::wait(Nanos timeout) {
  pollfd pfd{socket_.fd(), POLLIN, 0};
  const timespec limit = timeout >= Nanos::zero() ? to_timespec(timeout) : timespec{};
  const int n = ppoll(&pfd, 1, timeout >= Nanos::zero() ? &limit : nullptr, config_.wait_sigmask);
  if (n <= 0) return false;
  if ((pfd.revents & POLLERR) != 0) error_pending_ = true;
  return (pfd.revents & (POLLIN | POLLERR)) != 0;
}

void SocketEchoTransport::drain_error_queue() {
  error_pending_ = false;
  std::array<std::uint8_t, 576> quote{};
  for (;;) {
    int err = 0;
    auto message = socket_.receive_error(quote, err);
    if (!message) {
      if (err == 0) continue;  // an entry we do not use; look at the next
      return;
    }
    if (const auto* stamp = std::get_if<net::TxTimestamp>(&message->entry)) {
      // Accept a key only for a send we made, and only if the stamp is not older than it.
      if (stamp->key >= next_key_ || next_key_ - stamp->key > ring_size_) continue;
      SentEcho* sent = find_sent(key_to_sequence_[stamp->key % ring_size_]);
      if (sent != nullptr && stamp->time >= sent->user_tx) sent->kernel_tx = stamp->time;
    } else if (const auto* icmp = std::get_if<net::IcmpErrorReport>(&message->entry)) {
      // The kernel hands back the start of our own request: check it is ours and for our
      // destination before believing it.
      const auto echo = parse_echo_header(std::span(quote.data(), message->payload_length));
      if (!echo || !to_destination(message->original_destination)) continue;
      const std::uint8_t echo_type = socket_.family() == AF_INET6 ? ICMP6_ECHO_REQUEST : ICMP_ECHO;
      if (echo->type != echo_type || (socket_.is_raw() && echo->ident != config_.ident)) continue;
      pending_.emplace_back(IcmpErrorEvent{echo->sequence, icmp->offender,
                                           message->original_destination, socket_.family(),
                                           icmp->type, icmp->code, icmp->info});
    } else if (const auto* local = std::get_if<net::LocalErrorReport>(&message->entry)) {
      pending_.emplace_back(LocalErrorEvent{local->error, local->info, socket_.family()});
    }
  }
}

std::optional<EchoEvent> SocketEchoTransport::classify(std::size_t length,
                                                       const net::Datagram& datagram) {
  const bool with_ip = socket_.is_raw() && socket_.family() == AF_INET;
  const IcmpMessage m =
      parse_icmp(std::span(receive_buffer_.data(), length), socket_.family(), with_ip);
  if (m.kind == IcmpKind::kEchoReply) {
    if (socket_.is_raw() && m.ident != config_.ident) {
      // Another ping's reply: from now on let the kernel filter them out (iputils does the
      // same; the filter is not installed up front because it costs every packet a little).
      if (!filter_installed_) {
        socket_.install_ident_filter(htons(config_.ident));
        filter_installed_ = true;
      }
      return std::nullopt;
    }
    // Data after the timestamp must be what we sent (iputils' contains_pattern_in_payload).
    SentEcho* sent = find_sent(m.sequence);
    const std::size_t datalen = sent != nullptr ? sent->datalen : config_.datalen;
    const auto data = m.icmp.subspan(kIcmpHeaderLength);
    const std::size_t from = std::min(kEchoTimestampLength, datalen);
    const std::size_t upto = std::min(data.size(), datalen);
    for (std::size_t i = from; i < upto; ++i) {
      if (data[i] != packet_[kIcmpHeaderLength + i]) return std::nullopt;
    }
    EchoReplyEvent reply;
    reply.sequence = m.sequence;
    reply.from = datagram.from;
    reply.ttl = with_ip ? m.ttl : datagram.meta.ttl;
    reply.icmp_length = m.icmp.size();
    reply.checksum_ok = m.checksum_ok;
    if (datagram.meta.kernel_rx && !config_.user_latency) {
      reply.rx_time = *datagram.meta.kernel_rx;
      reply.rx_from_kernel = true;
    } else {
      reply.rx_time = clock_.wall_now();
    }
    if (sent != nullptr && socket_.tx_timestamps_enabled() && !sent->kernel_tx) {
      drain_error_queue();  // the transmit stamp is queued before the reply can arrive
    }
    if (sent != nullptr) reply.sent = *sent;
    return reply;
  }
  if (m.kind == IcmpKind::kNotice && m.quoted && to_destination(m.quoted->destination) &&
      (!socket_.is_raw() || m.quoted->ident == config_.ident)) {
    return IcmpNoticeEvent{
        m.quoted->sequence, datagram.from, socket_.family(), m.type, m.code, m.rest, m.checksum_ok};
  }
  // Errors arrive through the error queue too (IP_RECVERR); that copy is the one reported.
  return std::nullopt;
}

std::optional<EchoEvent> SocketEchoTransport::next_event() {
  for (;;) {
    if (error_pending_) drain_error_queue();
    if (!pending_.empty()) {
      const EchoEvent event = pending_.front();  // trivially copyable
      pending_.pop_front();
      return event;
    }
    int err = 0;
    const auto datagram = socket_.receive(receive_buffer_, err);
    if (!datagram) {
      if (err == EAGAIN || err == EWOULDBLOCK || err == EINTR) return std::nullopt;
      // A pending socket error (ICMP error, local error): its details are in the error queue.
      error_pending_ = true;
      drain_error_queue();
      if (pending_.empty()) return std::nullopt;
      continue;
    }
    if (auto event = classify(datagram->length, *datagram)) return event;
  }
}

}  // namespace mtool::probe
