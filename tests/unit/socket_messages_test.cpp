// parse_receive_meta / parse_error_queue_meta over hand-built control buffers, laid out with the
// CMSG_* macros exactly as the kernel lays them out.
#include "net/socket_messages.h"

#include <arpa/inet.h>
#include <gtest/gtest.h>
#include <linux/errqueue.h>
#include <linux/net_tstamp.h>
#include <netinet/in.h>
#include <netinet/ip_icmp.h>
#include <sys/socket.h>

#include <cerrno>
#include <cstring>
#include <ctime>
#include <vector>

namespace mtool::net {
namespace {

class Control {
 public:
  // Appends one cmsg carrying `length` bytes of `data`; cmsg_len may be overridden to lie.
  Control& add(int level, int type, const void* data, std::size_t length,
               std::size_t cmsg_len = 0) {
    EXPECT_LE(used_ + CMSG_SPACE(length), sizeof buffer_);
    auto* c = reinterpret_cast<cmsghdr*>(buffer_ + used_);
    c->cmsg_level = level;
    c->cmsg_type = type;
    c->cmsg_len = cmsg_len != 0 ? cmsg_len : CMSG_LEN(length);
    std::memcpy(CMSG_DATA(c), data, length);
    used_ += CMSG_SPACE(length);
    return *this;
  }
  template <typename T>
  Control& add(int level, int type, const T& value) {
    return add(level, type, &value, sizeof value);
  }
  // A msghdr over the cmsgs added so far (or a shorter controllen).
  msghdr& msg(std::size_t controllen = SIZE_MAX) {
    msg_ = msghdr{};
    msg_.msg_control = used_ != 0 || controllen != SIZE_MAX ? buffer_ : nullptr;
    msg_.msg_controllen = controllen != SIZE_MAX ? controllen : used_;
    return msg_;
  }

 private:
  alignas(cmsghdr) unsigned char buffer_[1024]{};
  std::size_t used_ = 0;
  msghdr msg_{};
};

struct Timestamping {
  timespec ts[3]{};
};

Timestamping software_stamp(time_t sec, long nsec) {
  Timestamping t;
  t.ts[0] = {sec, nsec};
  return t;
}

sock_extended_err extended_error(std::uint8_t origin, std::uint32_t err = 0) {
  sock_extended_err ee{};
  ee.ee_origin = origin;
  ee.ee_errno = err;
  return ee;
}

// An IP_RECVERR/IPV6_RECVERR payload: the extended error, then (optionally) the offender.
std::vector<unsigned char> recverr_payload(const sock_extended_err& ee,
                                           const void* offender = nullptr,
                                           std::size_t offender_len = 0) {
  std::vector<unsigned char> bytes(sizeof ee + offender_len);
  std::memcpy(bytes.data(), &ee, sizeof ee);
  if (offender_len != 0) std::memcpy(bytes.data() + sizeof ee, offender, offender_len);
  return bytes;
}

sockaddr_in v4_sockaddr(const char* text) {
  sockaddr_in sin{};
  sin.sin_family = AF_INET;
  EXPECT_EQ(inet_pton(AF_INET, text, &sin.sin_addr), 1);
  return sin;
}

sockaddr_in6 v6_sockaddr(const char* text) {
  sockaddr_in6 sin6{};
  sin6.sin6_family = AF_INET6;
  EXPECT_EQ(inet_pton(AF_INET6, text, &sin6.sin6_addr), 1);
  return sin6;
}

// ---------------------------------------------------------------------------------------------
// parse_receive_meta

TEST(ParseReceiveMeta, NoControlData) {
  Control c;
  const ReceiveMeta meta = parse_receive_meta(c.msg());
  EXPECT_FALSE(meta.kernel_rx.has_value());
  EXPECT_EQ(meta.ttl, -1);
}

TEST(ParseReceiveMeta, SoftwareTimestampFromTimestamping) {
  Control c;
  c.add(SOL_SOCKET, SO_TIMESTAMPING, software_stamp(1'700'000'000, 123'456'789));
  const ReceiveMeta meta = parse_receive_meta(c.msg());
  ASSERT_TRUE(meta.kernel_rx.has_value());
  EXPECT_EQ(*meta.kernel_rx, wall_from_ns(1'700'000'000'123'456'789LL));
  EXPECT_EQ(meta.ttl, -1);
}

TEST(ParseReceiveMeta, HardwareOnlyTimestampIsIgnored) {
  Timestamping t;
  t.ts[2] = {1'700'000'000, 5};  // raw hardware stamp only; the software slot is zero
  Control c;
  c.add(SOL_SOCKET, SO_TIMESTAMPING, t);
  EXPECT_FALSE(parse_receive_meta(c.msg()).kernel_rx.has_value());
}

TEST(ParseReceiveMeta, ImpossibleTimestampsAreIgnored) {
  // Not something a kernel writes; converting it to nanoseconds would overflow.
  for (const timespec bad : {timespec{INT64_MAX / 1000, 0}, timespec{1, 1'000'000'000},
                             timespec{-1, 0}, timespec{5, -1}}) {
    Timestamping t;
    t.ts[0] = bad;
    Control c;
    c.add(SOL_SOCKET, SO_TIMESTAMPING, t);
    EXPECT_FALSE(parse_receive_meta(c.msg()).kernel_rx.has_value())
        << bad.tv_sec << "." << bad.tv_nsec;
    Control ns;
    ns.add(SOL_SOCKET, SO_TIMESTAMPNS, bad);
    EXPECT_FALSE(parse_receive_meta(ns.msg()).kernel_rx.has_value())
        << bad.tv_sec << "." << bad.tv_nsec;
  }
  // The largest representable second still converts.
  Control c;
  c.add(SOL_SOCKET, SO_TIMESTAMPING, software_stamp(INT64_MAX / 1'000'000'000 - 1, 999'999'999));
  EXPECT_EQ(parse_receive_meta(c.msg()).kernel_rx,
            wall_from_ns((INT64_MAX / 1'000'000'000 - 1) * 1'000'000'000 + 999'999'999));
}

TEST(ParseReceiveMeta, TimestampNs) {
  const timespec ts{42, 999'999'999};
  Control c;
  c.add(SOL_SOCKET, SO_TIMESTAMPNS, ts);
  EXPECT_EQ(parse_receive_meta(c.msg()).kernel_rx, wall_from_ns(42'999'999'999LL));
}

TEST(ParseReceiveMeta, Ipv4Ttl) {
  Control c;
  c.add(SOL_IP, IP_TTL, 57);
  EXPECT_EQ(parse_receive_meta(c.msg()).ttl, 57);
}

TEST(ParseReceiveMeta, Ipv6HopLimit) {
  Control c;
  c.add(SOL_IPV6, IPV6_HOPLIMIT, 64);
  EXPECT_EQ(parse_receive_meta(c.msg()).ttl, 64);
}

TEST(ParseReceiveMeta, TtlOutOfRangeIsIgnored) {
  Control big;
  big.add(SOL_IP, IP_TTL, 256);
  EXPECT_EQ(parse_receive_meta(big.msg()).ttl, -1);
  Control negative;
  negative.add(SOL_IPV6, IPV6_HOPLIMIT, -3);
  EXPECT_EQ(parse_receive_meta(negative.msg()).ttl, -1);
  Control zero;
  zero.add(SOL_IP, IP_TTL, 0);
  EXPECT_EQ(parse_receive_meta(zero.msg()).ttl, 0);
}

TEST(ParseReceiveMeta, SeveralMessagesInOneBuffer) {
  Control c;
  c.add(SOL_IP, IP_TTL, 63);
  c.add(SOL_SOCKET, SO_TIMESTAMPING, software_stamp(10, 20));
  const ReceiveMeta meta = parse_receive_meta(c.msg());
  EXPECT_EQ(meta.ttl, 63);
  EXPECT_EQ(meta.kernel_rx, wall_from_ns(10'000'000'020LL));
}

TEST(ParseReceiveMeta, UnknownMessagesAreSkipped) {
  Control c;
  c.add(SOL_IP, IP_TOS, static_cast<unsigned char>(0x10));
  c.add(SOL_IPV6, IPV6_TCLASS, 7);
  c.add(SOL_IP, IP_TTL, 5);
  c.add(IPPROTO_TCP, IP_TTL, 99);  // right type, wrong level
  EXPECT_EQ(parse_receive_meta(c.msg()).ttl, 5);
}

TEST(ParseReceiveMeta, TruncatedMessagesAreIgnored) {
  // cmsg_len says one timespec only: too short for SCM_TIMESTAMPING's three.
  const Timestamping full = software_stamp(9, 9);
  Control stamp;
  stamp.add(SOL_SOCKET, SO_TIMESTAMPING, &full, sizeof full, CMSG_LEN(sizeof(timespec)));
  EXPECT_FALSE(parse_receive_meta(stamp.msg()).kernel_rx.has_value());
  // Two bytes of TTL.
  Control ttl;
  const int value = 64;
  ttl.add(SOL_IP, IP_TTL, &value, sizeof value, CMSG_LEN(2));
  EXPECT_EQ(parse_receive_meta(ttl.msg()).ttl, -1);
}

TEST(ParseReceiveMeta, ControlBufferShorterThanAHeader) {
  Control c;
  c.add(SOL_IP, IP_TTL, 64);
  EXPECT_EQ(parse_receive_meta(c.msg(sizeof(cmsghdr) - 1)).ttl, -1);
}

TEST(ParseReceiveMeta, MessageLongerThanTheControlBufferIsIgnored) {
  // The header fits, but its cmsg_len runs past msg_controllen (a truncated MSG_CTRUNC buffer,
  // or garbage): the stamp behind the end must not be read.
  Control c;
  c.add(SOL_SOCKET, SO_TIMESTAMPING, software_stamp(77, 1));
  EXPECT_FALSE(parse_receive_meta(c.msg(CMSG_LEN(sizeof(timespec)))).kernel_rx.has_value());
  Control ttl;
  ttl.add(SOL_IP, IP_TTL, 64);
  EXPECT_EQ(parse_receive_meta(ttl.msg(sizeof(cmsghdr))).ttl, -1);
}

// ---------------------------------------------------------------------------------------------
// parse_error_queue_meta

TEST(ParseErrorQueueMeta, NoExtendedErrorMeansNothing) {
  Control empty;
  EXPECT_FALSE(parse_error_queue_meta(empty.msg()).has_value());
  Control stamp_only;
  stamp_only.add(SOL_SOCKET, SO_TIMESTAMPING, software_stamp(1, 2));
  EXPECT_FALSE(parse_error_queue_meta(stamp_only.msg()).has_value());
}

TEST(ParseErrorQueueMeta, TransmitTimestamp) {
  sock_extended_err ee = extended_error(SO_EE_ORIGIN_TIMESTAMPING, ENOMSG);
  ee.ee_data = 41;  // SOF_TIMESTAMPING_OPT_ID key
  ee.ee_info = SCM_TSTAMP_SND;
  Control c;
  c.add(SOL_SOCKET, SO_TIMESTAMPING, software_stamp(1'700'000'001, 500));
  c.add(SOL_IP, IP_RECVERR, ee);
  const auto entry = parse_error_queue_meta(c.msg());
  ASSERT_TRUE(entry.has_value());
  const auto* tx = std::get_if<TxTimestamp>(&*entry);
  ASSERT_NE(tx, nullptr);
  EXPECT_EQ(tx->key, 41U);
  EXPECT_EQ(tx->time, wall_from_ns(1'700'000'001'000'000'500LL));
}

TEST(ParseErrorQueueMeta, TransmitTimestampInEitherOrderAndOnIpv6) {
  sock_extended_err ee = extended_error(SO_EE_ORIGIN_TIMESTAMPING, ENOMSG);
  ee.ee_data = 7;
  Control c;
  c.add(SOL_IPV6, IPV6_RECVERR, ee);
  c.add(SOL_SOCKET, SO_TIMESTAMPING, software_stamp(3, 4));
  const auto entry = parse_error_queue_meta(c.msg());
  ASSERT_TRUE(entry.has_value());
  ASSERT_TRUE(std::holds_alternative<TxTimestamp>(*entry));
  EXPECT_EQ(std::get<TxTimestamp>(*entry).key, 7U);
  EXPECT_EQ(std::get<TxTimestamp>(*entry).time, wall_from_ns(3'000'000'004LL));
}

TEST(ParseErrorQueueMeta, TimestampingOriginWithoutStampIsDropped) {
  Control c;
  c.add(SOL_IP, IP_RECVERR, extended_error(SO_EE_ORIGIN_TIMESTAMPING, ENOMSG));
  EXPECT_FALSE(parse_error_queue_meta(c.msg()).has_value());
}

TEST(ParseErrorQueueMeta, IcmpErrorWithOffender) {
  sock_extended_err ee = extended_error(SO_EE_ORIGIN_ICMP, EHOSTUNREACH);
  ee.ee_type = ICMP_DEST_UNREACH;
  ee.ee_code = ICMP_HOST_UNREACH;
  ee.ee_info = 0;
  const sockaddr_in offender = v4_sockaddr("198.18.200.1");
  const auto payload = recverr_payload(ee, &offender, sizeof offender);
  Control c;
  c.add(SOL_IP, IP_RECVERR, payload.data(), payload.size());
  const auto entry = parse_error_queue_meta(c.msg());
  ASSERT_TRUE(entry.has_value());
  const auto* icmp = std::get_if<IcmpErrorReport>(&*entry);
  ASSERT_NE(icmp, nullptr);
  EXPECT_EQ(icmp->type, ICMP_DEST_UNREACH);
  EXPECT_EQ(icmp->code, ICMP_HOST_UNREACH);
  EXPECT_EQ(icmp->info, 0U);
  EXPECT_TRUE(icmp->offender.is_v4());
  EXPECT_EQ(icmp->offender.to_string(), "198.18.200.1");
}

TEST(ParseErrorQueueMeta, IcmpFragmentationNeededCarriesMtu) {
  sock_extended_err ee = extended_error(SO_EE_ORIGIN_ICMP, EMSGSIZE);
  ee.ee_type = ICMP_DEST_UNREACH;
  ee.ee_code = ICMP_FRAG_NEEDED;
  ee.ee_info = 1400;
  const sockaddr_in offender = v4_sockaddr("198.18.200.2");
  const auto payload = recverr_payload(ee, &offender, sizeof offender);
  Control c;
  c.add(SOL_IP, IP_RECVERR, payload.data(), payload.size());
  const auto entry = parse_error_queue_meta(c.msg());
  ASSERT_TRUE(entry.has_value());
  const auto& icmp = std::get<IcmpErrorReport>(*entry);
  EXPECT_EQ(icmp.info, 1400U);
  EXPECT_EQ(icmp.offender.to_string(), "198.18.200.2");
}

TEST(ParseErrorQueueMeta, Icmp6ErrorWithOffender) {
  sock_extended_err ee = extended_error(SO_EE_ORIGIN_ICMP6, EHOSTUNREACH);
  ee.ee_type = 1;  // ICMP6_DST_UNREACH
  ee.ee_code = 3;  // address unreachable
  const sockaddr_in6 offender = v6_sockaddr("2001:db8::1");
  const auto payload = recverr_payload(ee, &offender, sizeof offender);
  Control c;
  c.add(SOL_IPV6, IPV6_RECVERR, payload.data(), payload.size());
  const auto entry = parse_error_queue_meta(c.msg());
  ASSERT_TRUE(entry.has_value());
  const auto& icmp = std::get<IcmpErrorReport>(*entry);
  EXPECT_EQ(icmp.type, 1);
  EXPECT_EQ(icmp.code, 3);
  EXPECT_TRUE(icmp.offender.is_v6());
  EXPECT_EQ(icmp.offender.to_string(), "2001:db8::1");
}

TEST(ParseErrorQueueMeta, IcmpErrorWithoutOffender) {
  sock_extended_err ee = extended_error(SO_EE_ORIGIN_ICMP, ENETUNREACH);
  ee.ee_type = ICMP_DEST_UNREACH;
  Control c;
  c.add(SOL_IP, IP_RECVERR, ee);
  const auto entry = parse_error_queue_meta(c.msg());
  ASSERT_TRUE(entry.has_value());
  EXPECT_TRUE(std::get<IcmpErrorReport>(*entry).offender.empty());
}

TEST(ParseErrorQueueMeta, Ipv6OffenderCutShortIsNotTrusted) {
  sock_extended_err ee = extended_error(SO_EE_ORIGIN_ICMP6, EHOSTUNREACH);
  const sockaddr_in6 offender = v6_sockaddr("2001:db8::1");
  // Only sizeof(sockaddr_in) bytes of a sockaddr_in6 follow the error.
  const auto payload = recverr_payload(ee, &offender, sizeof(sockaddr_in));
  Control c;
  c.add(SOL_IPV6, IPV6_RECVERR, payload.data(), payload.size());
  const auto entry = parse_error_queue_meta(c.msg());
  ASSERT_TRUE(entry.has_value());
  EXPECT_TRUE(std::get<IcmpErrorReport>(*entry).offender.empty());
}

TEST(ParseErrorQueueMeta, LocalErrorWithMtu) {
  sock_extended_err ee = extended_error(SO_EE_ORIGIN_LOCAL, EMSGSIZE);
  ee.ee_info = 1280;
  Control c;
  c.add(SOL_IP, IP_RECVERR, ee);
  const auto entry = parse_error_queue_meta(c.msg());
  ASSERT_TRUE(entry.has_value());
  const auto* local = std::get_if<LocalErrorReport>(&*entry);
  ASSERT_NE(local, nullptr);
  EXPECT_EQ(local->error, EMSGSIZE);
  EXPECT_EQ(local->info, 1280U);
}

TEST(ParseErrorQueueMeta, UnknownOriginIsDropped) {
  Control none;
  none.add(SOL_IP, IP_RECVERR, extended_error(SO_EE_ORIGIN_NONE, EIO));
  EXPECT_FALSE(parse_error_queue_meta(none.msg()).has_value());
  Control txstatus;
  txstatus.add(SOL_IP, IP_RECVERR, extended_error(SO_EE_ORIGIN_TXSTATUS, 0));
  EXPECT_FALSE(parse_error_queue_meta(txstatus.msg()).has_value());
}

TEST(ParseErrorQueueMeta, TruncatedExtendedErrorIsIgnored) {
  const sock_extended_err ee = extended_error(SO_EE_ORIGIN_LOCAL, EMSGSIZE);
  Control c;
  c.add(SOL_IP, IP_RECVERR, &ee, sizeof ee, CMSG_LEN(sizeof ee - 1));
  EXPECT_FALSE(parse_error_queue_meta(c.msg()).has_value());
}

TEST(ParseErrorQueueMeta, ExtendedErrorOnTheWrongLevelIsIgnored) {
  Control c;
  c.add(SOL_SOCKET, IP_RECVERR, extended_error(SO_EE_ORIGIN_LOCAL, EMSGSIZE));
  EXPECT_FALSE(parse_error_queue_meta(c.msg()).has_value());
}

TEST(ParseErrorQueueMeta, MessageLongerThanTheControlBufferIsIgnored) {
  sock_extended_err ee = extended_error(SO_EE_ORIGIN_LOCAL, EMSGSIZE);
  ee.ee_info = 1500;
  Control c;
  c.add(SOL_IP, IP_RECVERR, ee);
  EXPECT_FALSE(parse_error_queue_meta(c.msg(CMSG_LEN(sizeof ee) - 4)).has_value());
}

}  // namespace
}  // namespace mtool::net
