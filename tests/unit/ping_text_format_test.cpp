// iputils ping's text, byte for byte: number formats, TextPingSink lines and summary blocks, and
// the JSON-lines sink's objects.
#include <gtest/gtest.h>
#include <netinet/icmp6.h>
#include <netinet/ip_icmp.h>
#include <sys/socket.h>

#include <cstdio>
#include <cstdlib>
#include <nlohmann/json.hpp>
#include <sstream>
#include <string>
#include <vector>

#include "report/icmp_text.h"
#include "report/ping_json_sink.h"
#include "report/ping_text_sink.h"

namespace mtool::report {
namespace {

// A FILE* writing into memory.
class MemoryFile {
 public:
  MemoryFile() : file_(open_memstream(&buffer_, &size_)) {}
  ~MemoryFile() {
    std::fclose(file_);
    std::free(buffer_);
  }
  MemoryFile(const MemoryFile&) = delete;
  MemoryFile& operator=(const MemoryFile&) = delete;
  [[nodiscard]] std::FILE* get() const { return file_; }
  [[nodiscard]] std::string text() const {
    std::fflush(file_);
    return {buffer_, size_};
  }

 private:
  char* buffer_ = nullptr;
  std::size_t size_ = 0;
  std::FILE* file_;
};

// ---------------------------------------------------------------------------------------------
// Number formats.

TEST(FormatReplyTime, PrecisionBands) {
  EXPECT_EQ(format_reply_time(0), "0.000");
  EXPECT_EQ(format_reply_time(23), "0.023");
  EXPECT_EQ(format_reply_time(999), "0.999");
  EXPECT_EQ(format_reply_time(1000), "1.00");
  EXPECT_EQ(format_reply_time(1234), "1.23");
  EXPECT_EQ(format_reply_time(1235), "1.24");  // +5 then truncate: rounds half up
  EXPECT_EQ(format_reply_time(9994), "9.99");
  EXPECT_EQ(format_reply_time(9995), "10.0");
  EXPECT_EQ(format_reply_time(10049), "10.0");
  EXPECT_EQ(format_reply_time(10050), "10.1");
  EXPECT_EQ(format_reply_time(99949), "99.9");
  EXPECT_EQ(format_reply_time(99950), "100");
  EXPECT_EQ(format_reply_time(123456), "123");
  EXPECT_EQ(format_reply_time(123500), "124");
  EXPECT_EQ(format_reply_time(12345678), "12346");
}

TEST(FormatUsAsMs, ThreeDecimals) {
  EXPECT_EQ(format_us_as_ms(0), "0.000");
  EXPECT_EQ(format_us_as_ms(23), "0.023");
  EXPECT_EQ(format_us_as_ms(1000), "1.000");
  EXPECT_EQ(format_us_as_ms(1234567), "1234.567");
}

TEST(FormatLossPercent, FloatWithPercentG) {
  EXPECT_EQ(format_loss_percent(3, 2), "33.3333");
  EXPECT_EQ(format_loss_percent(7, 5), "28.5714");
  EXPECT_EQ(format_loss_percent(1, 0), "100");
  EXPECT_EQ(format_loss_percent(3, 3), "0");
  EXPECT_EQ(format_loss_percent(3, 1), "66.6667");
  EXPECT_EQ(format_loss_percent(8, 7), "12.5");
}

TEST(FormatPrintTimestamp, SecondsAndMicroseconds) {
  EXPECT_EQ(format_print_timestamp(wall_from_ns(1795325611072191999LL)), "[1795325611.072191] ");
  EXPECT_EQ(format_print_timestamp(wall_from_ns(5'000'001'000LL)), "[5.000001] ");
  EXPECT_EQ(format_print_timestamp(wall_from_ns(0)), "[0.000000] ");
}

// ---------------------------------------------------------------------------------------------
// TextPingSink.

class TextSinkTest : public ::testing::Test {
 protected:
  TextPingSink sink(TextSinkOptions options = {}) {
    return {out_.get(), err_.get(), std::move(options)};
  }
  std::string out() const { return out_.text(); }
  std::string err() const { return err_.text(); }

  static PingReply reply_line() {
    PingReply r;
    r.sequence = 1;
    r.from = "127.0.0.1";
    r.bytes = 64;
    r.ttl = 64;
    r.rtt_us = 23;
    r.rtt_ns = 23'400;
    return r;
  }

  static PingSummary summary_of(const std::string& host, long transmitted, long received,
                                std::int64_t elapsed_ms = 0) {
    PingSummary s;
    s.hostname = host;
    s.transmitted = transmitted;
    s.received = received;
    s.elapsed_ms = elapsed_ms;
    return s;
  }

  static PingHeader v4_header() {
    PingHeader h;
    h.hostname = "127.0.0.1";
    h.address_text = "127.0.0.1";
    h.family = AF_INET;
    h.datalen = 56;
    h.ip_packet_size = 84;
    return h;
  }

  MemoryFile out_;
  MemoryFile err_;
};

TEST_F(TextSinkTest, HeaderIpv4) {
  auto s = sink();
  s.header(v4_header());
  EXPECT_EQ(out(), "PING 127.0.0.1 (127.0.0.1) 56(84) bytes of data.\n");
}

TEST_F(TextSinkTest, HeaderIpv4WithSource) {
  auto s = sink();
  PingHeader h = v4_header();
  h.show_source = true;
  h.source_text = "127.0.0.1";
  h.device = "lo";
  s.header(h);
  EXPECT_EQ(out(), "PING 127.0.0.1 (127.0.0.1) from 127.0.0.1 lo: 56(84) bytes of data.\n");
}

TEST_F(TextSinkTest, HeaderIpv4WithSourceAddressOnly) {
  auto s = sink();
  PingHeader h = v4_header();
  h.hostname = "localhost";
  h.show_source = true;
  h.source_text = "127.0.0.1";
  s.header(h);
  EXPECT_EQ(out(), "PING localhost (127.0.0.1) from 127.0.0.1 : 56(84) bytes of data.\n");
}

TEST_F(TextSinkTest, HeaderIpv6) {
  auto s = sink();
  PingHeader h;
  h.hostname = "::1";
  h.address_text = "::1";
  h.family = AF_INET6;
  h.datalen = 56;
  s.header(h);
  EXPECT_EQ(out(), "PING ::1(::1) 56 data bytes\n");
}

TEST_F(TextSinkTest, HeaderIpv6WithSource) {
  auto s = sink();
  PingHeader h;
  h.hostname = "ip6-localhost";
  h.address_text = "ip6-localhost (::1)";
  h.family = AF_INET6;
  h.datalen = 100;
  h.show_source = true;
  h.source_text = "::1";
  h.device = "lo";
  s.header(h);
  EXPECT_EQ(out(), "PING ip6-localhost(ip6-localhost (::1)) from ::1 lo: 100 data bytes\n");
}

TEST_F(TextSinkTest, ReplyLine) {
  auto s = sink();
  s.reply(reply_line());
  EXPECT_EQ(out(), "64 bytes from 127.0.0.1: icmp_seq=1 ttl=64 time=0.023 ms\n");
  EXPECT_EQ(err(), "");
}

TEST_F(TextSinkTest, ReplyUsesTheRoundedMicroseconds) {
  auto s = sink();
  PingReply r = reply_line();
  r.sequence = 65535;
  r.rtt_us = 12345;
  r.rtt_ns = 12'345'678;
  s.reply(r);
  EXPECT_EQ(out(), "64 bytes from 127.0.0.1: icmp_seq=65535 ttl=64 time=12.3 ms\n");
}

TEST_F(TextSinkTest, DuplicateReply) {
  auto s = sink();
  PingReply r = reply_line();
  r.duplicate = true;
  s.reply(r);
  EXPECT_EQ(out(), "64 bytes from 127.0.0.1: icmp_seq=1 ttl=64 time=0.023 ms (DUP!)\n");
}

TEST_F(TextSinkTest, BadChecksumReply) {
  auto s = sink();
  PingReply r = reply_line();
  r.bad_checksum = true;
  s.reply(r);
  EXPECT_EQ(out(), "64 bytes from 127.0.0.1: icmp_seq=1 ttl=64 time=0.023 ms (BAD CHECKSUM!)\n");
}

TEST_F(TextSinkTest, DuplicateWithBadChecksumOrder) {
  auto s = sink();
  PingReply r = reply_line();
  r.duplicate = true;
  r.bad_checksum = true;
  s.reply(r);
  EXPECT_EQ(out(),
            "64 bytes from 127.0.0.1: icmp_seq=1 ttl=64 time=0.023 ms (DUP!) (BAD CHECKSUM!)\n");
}

TEST_F(TextSinkTest, TruncatedReplyHasNoTime) {
  auto s = sink();
  PingReply r = reply_line();
  r.bytes = 20;
  r.truncated = true;
  r.duplicate = true;  // iputils returns before the DUP marker too
  s.reply(r);
  EXPECT_EQ(out(), "20 bytes from 127.0.0.1: icmp_seq=1 ttl=64 (truncated)\n");
}

TEST_F(TextSinkTest, ReplyWithoutTtl) {
  auto s = sink();
  PingReply r = reply_line();
  r.ttl = -1;
  s.reply(r);
  EXPECT_EQ(out(), "64 bytes from 127.0.0.1: icmp_seq=1 time=0.023 ms\n");
}

TEST_F(TextSinkTest, ReplyWithoutTiming) {
  auto s = sink();
  PingReply r = reply_line();
  r.bytes = 8;
  r.rtt_us.reset();
  r.rtt_ns.reset();
  s.reply(r);
  EXPECT_EQ(out(), "8 bytes from 127.0.0.1: icmp_seq=1 ttl=64\n");
}

TEST_F(TextSinkTest, PrintTimestampPrefix) {
  TextSinkOptions o;
  o.print_timestamps = true;
  auto s = sink(o);
  PingReply r = reply_line();
  r.print_time = wall_from_ns(1795325611072191000LL);
  s.reply(r);
  EXPECT_EQ(out(),
            "[1795325611.072191] 64 bytes from 127.0.0.1: icmp_seq=1 ttl=64 time=0.023 ms\n");
}

TEST_F(TextSinkTest, AudibleBellBeforeNewline) {
  TextSinkOptions o;
  o.audible = true;
  auto s = sink(o);
  s.reply(reply_line());
  EXPECT_EQ(out(), "64 bytes from 127.0.0.1: icmp_seq=1 ttl=64 time=0.023 ms\a\n");
}

TEST_F(TextSinkTest, ErrorLine) {
  auto s = sink();
  PingError e;
  e.sequence = 1;
  e.from = "127.0.0.1";
  e.text = "Destination Host Unreachable";
  s.icmp_error(e);
  EXPECT_EQ(out(), "From 127.0.0.1 icmp_seq=1 Destination Host Unreachable\n");
}

TEST_F(TextSinkTest, ErrorLineWithTimestamp) {
  TextSinkOptions o;
  o.print_timestamps = true;
  auto s = sink(o);
  PingError e;
  e.print_time = wall_from_ns(12'000'500'000LL);
  e.sequence = 4;
  e.from = "198.18.200.1";
  e.text = "Time to live exceeded";
  s.icmp_error(e);
  EXPECT_EQ(out(), "[12.000500] From 198.18.200.1 icmp_seq=4 Time to live exceeded\n");
}

TEST_F(TextSinkTest, NoticeLine) {
  auto s = sink();
  PingNotice n;
  n.sequence = 3;
  n.from = "198.18.200.1";
  n.text = "Redirect Host(New nexthop: 198.18.200.254)";
  s.notice(n);
  n.bad_checksum = true;
  s.notice(n);
  EXPECT_EQ(
      out(),
      "From 198.18.200.1: icmp_seq=3 Redirect Host(New nexthop: 198.18.200.254)\n"
      "From 198.18.200.1: icmp_seq=3 (BAD CHECKSUM)Redirect Host(New nexthop: 198.18.200.254)\n");
}

TEST_F(TextSinkTest, NoAnswerYet) {
  auto s = sink();
  s.no_answer_yet(wall_from_ns(0), 2);
  EXPECT_EQ(out(), "no answer yet for icmp_seq=2\n");
}

TEST_F(TextSinkTest, NoAnswerYetIsPrintedEvenWhenQuiet) {
  TextSinkOptions o;
  o.quiet = true;
  o.print_timestamps = true;
  auto s = sink(o);
  s.no_answer_yet(wall_from_ns(3'250'000'000LL), 7);
  EXPECT_EQ(out(), "[3.250000] no answer yet for icmp_seq=7\n");
}

TEST_F(TextSinkTest, LocalErrorGoesToStderrWithProgramName) {
  TextSinkOptions o;
  o.program = "/usr/bin/ping";
  auto s = sink(o);
  s.local_error("sendmsg: No route to host");
  EXPECT_EQ(out(), "");
  EXPECT_EQ(err(), "/usr/bin/ping: sendmsg: No route to host\n");
}

TEST_F(TextSinkTest, QuietSuppressesPerPacketLines) {
  TextSinkOptions o;
  o.quiet = true;
  auto s = sink(o);
  s.reply(reply_line());
  PingError e;
  e.from = "x";
  s.icmp_error(e);
  PingNotice n;
  s.notice(n);
  s.local_error("sendmsg: whatever");
  s.flood_sent();
  EXPECT_EQ(out(), "");
  EXPECT_EQ(err(), "");
}

TEST_F(TextSinkTest, FloodDotsAndBackspaces) {
  TextSinkOptions o;
  o.flood = true;
  auto s = sink(o);
  s.flood_sent();
  s.flood_sent();
  s.reply(reply_line());
  PingReply bad = reply_line();
  bad.bad_checksum = true;
  s.reply(bad);
  PingError e;
  e.from = "198.18.200.1";
  e.text = "Destination Host Unreachable";
  s.icmp_error(e);
  s.local_error("sendmsg: No buffer space available");
  PingNotice n;
  n.text = "Redirect";
  s.notice(n);  // not shown during a flood
  EXPECT_EQ(out(), "..\b \b\bC\bEE");
  EXPECT_EQ(err(), "");
}

TEST_F(TextSinkTest, StatusLine) {
  auto s = sink();
  PingStatus st;
  st.transmitted = 4;
  st.received = 3;
  st.rtt = RttSummary{23, 39, 58, 0};
  st.ewma_us_x8 = 320;
  s.status(st);
  EXPECT_EQ(out(), "");
  EXPECT_EQ(err(), "\r3/4 packets, 25% loss, min/avg/ewma/max = 0.023/0.039/0.040/0.058 ms\n");
}

TEST_F(TextSinkTest, StatusLineWithoutReplies) {
  auto s = sink();
  PingStatus st;
  st.transmitted = 3;
  s.status(st);
  EXPECT_EQ(err(), "\r0/3 packets, 100% loss\n");
}

TEST_F(TextSinkTest, SummaryNormal) {
  auto s = sink();
  PingSummary sum = summary_of("127.0.0.1", 3, 3, 2046);
  sum.rtt = RttSummary{23, 39, 58, 14};
  s.summary(sum);
  EXPECT_EQ(out(),
            "\n--- 127.0.0.1 ping statistics ---\n"
            "3 packets transmitted, 3 received, 0% packet loss, time 2046ms\n"
            "rtt min/avg/max/mdev = 0.023/0.039/0.058/0.014 ms\n");
}

TEST_F(TextSinkTest, SummaryWithDuplicates) {
  auto s = sink();
  PingSummary sum = summary_of("198.18.0.2", 3, 3);
  sum.duplicates = 2;
  sum.elapsed_ms = 408;
  sum.rtt = RttSummary{39, 49, 64, 10};
  s.summary(sum);
  EXPECT_EQ(out(),
            "\n--- 198.18.0.2 ping statistics ---\n"
            "3 packets transmitted, 3 received, +2 duplicates, 0% packet loss, time 408ms\n"
            "rtt min/avg/max/mdev = 0.039/0.049/0.064/0.010 ms\n");
}

TEST_F(TextSinkTest, SummaryWithErrorsAndNoReplies) {
  auto s = sink();
  PingSummary sum;
  sum.hostname = "198.18.250.1";
  sum.transmitted = 3;
  sum.errors = 2;
  sum.elapsed_ms = 1017;
  s.summary(sum);
  EXPECT_EQ(out(),
            "\n--- 198.18.250.1 ping statistics ---\n"
            "3 packets transmitted, 0 received, +2 errors, 100% packet loss, time 1017ms\n"
            "\n");
}

TEST_F(TextSinkTest, SummaryWithCorruptedAndLoss) {
  auto s = sink();
  PingSummary sum = summary_of("h", 7, 5);
  sum.corrupted = 1;
  sum.errors = 1;
  sum.elapsed_ms = 6009;
  sum.rtt = RttSummary{1000, 2000, 3000, 400};
  s.summary(sum);
  EXPECT_EQ(out(),
            "\n--- h ping statistics ---\n"
            "7 packets transmitted, 5 received, +1 corrupted, +1 errors, 28.5714% packet loss, "
            "time 6009ms\n"
            "rtt min/avg/max/mdev = 1.000/2.000/3.000/0.400 ms\n");
}

TEST_F(TextSinkTest, SummaryFloodWithIpgAndEwma) {
  auto s = sink();
  PingSummary sum = summary_of("127.0.0.1", 100, 100, 11);
  sum.rtt = RttSummary{20, 40, 100, 10};
  sum.ipg_us = 110;
  sum.ewma_us_x8 = 8 * 46 + 7;  // the EWMA is kept times 8; the remainder is dropped
  s.summary(sum);
  EXPECT_EQ(out(),
            "\n--- 127.0.0.1 ping statistics ---\n"
            "100 packets transmitted, 100 received, 0% packet loss, time 11ms\n"
            "rtt min/avg/max/mdev = 0.020/0.040/0.100/0.010 ms, ipg/ewma 0.110/0.046 ms\n");
}

TEST_F(TextSinkTest, SummaryWithPipe) {
  auto s = sink();
  PingSummary sum = summary_of("h", 3, 3, 401);
  sum.rtt = RttSummary{300000, 300000, 300000, 0};
  sum.pipe = 2;
  s.summary(sum);
  EXPECT_EQ(out(),
            "\n--- h ping statistics ---\n"
            "3 packets transmitted, 3 received, 0% packet loss, time 401ms\n"
            "rtt min/avg/max/mdev = 300.000/300.000/300.000/0.000 ms, pipe 2\n");
}

TEST_F(TextSinkTest, SummaryPipeOneIsNotShown) {
  auto s = sink();
  PingSummary sum = summary_of("h", 1, 1);
  sum.rtt = RttSummary{1, 1, 1, 0};
  sum.pipe = 1;
  s.summary(sum);
  EXPECT_EQ(out(),
            "\n--- h ping statistics ---\n"
            "1 packets transmitted, 1 received, 0% packet loss, time 0ms\n"
            "rtt min/avg/max/mdev = 0.001/0.001/0.001/0.000 ms\n");
}

TEST_F(TextSinkTest, SummaryPipeAndIpgWithoutRtt) {
  auto s = sink();
  PingSummary sum = summary_of("h", 5, 5, 1);
  sum.pipe = 3;
  sum.ipg_us = 250;
  s.summary(sum);
  EXPECT_EQ(out(),
            "\n--- h ping statistics ---\n"
            "5 packets transmitted, 5 received, 0% packet loss, time 1ms\n"
            "pipe 3, ipg/ewma 0.250/0.000 ms\n");
}

TEST_F(TextSinkTest, SummaryWithPercentiles) {
  auto s = sink();
  PingSummary sum = summary_of("127.0.0.1", 3, 3, 2046);
  sum.rtt = RttSummary{23, 39, 58, 14};
  // Nanoseconds, rounded to the nearest microsecond.
  sum.percentiles = PercentileSummary{23'456, 45'500, 99'499, 1'000'000};
  s.summary(sum);
  EXPECT_EQ(out(),
            "\n--- 127.0.0.1 ping statistics ---\n"
            "3 packets transmitted, 3 received, 0% packet loss, time 2046ms\n"
            "rtt min/avg/max/mdev = 0.023/0.039/0.058/0.014 ms\n"
            "rtt p50/p90/p99/p99.9 = 0.023/0.046/0.099/1.000 ms\n");
}

TEST_F(TextSinkTest, SummaryWithNothingTransmitted) {
  auto s = sink();
  PingSummary sum;
  sum.hostname = "h";
  s.summary(sum);
  EXPECT_EQ(out(), "\n--- h ping statistics ---\n0 packets transmitted, 0 received\n\n");
}

// ---------------------------------------------------------------------------------------------
// ICMP wording used by the error and notice lines.

TEST(IcmpText, Ipv4Wording) {
  EXPECT_EQ(describe_icmp(AF_INET, ICMP_DEST_UNREACH, ICMP_HOST_UNREACH, 0),
            "Destination Host Unreachable");
  EXPECT_EQ(describe_icmp(AF_INET, ICMP_DEST_UNREACH, ICMP_PORT_UNREACH, 0),
            "Destination Port Unreachable");
  EXPECT_EQ(describe_icmp(AF_INET, ICMP_DEST_UNREACH, ICMP_FRAG_NEEDED, 1400),
            "Frag needed and DF set (mtu = 1400)");
  EXPECT_EQ(describe_icmp(AF_INET, ICMP_DEST_UNREACH, 99, 0), "Dest Unreachable, Bad Code: 99");
  EXPECT_EQ(describe_icmp(AF_INET, ICMP_TIME_EXCEEDED, ICMP_EXC_TTL, 0), "Time to live exceeded");
  EXPECT_EQ(describe_icmp(AF_INET, ICMP_PARAMETERPROB, 0, 20), "Parameter problem: pointer = 20");
  EXPECT_EQ(describe_icmp(AF_INET, ICMP_REDIRECT, ICMP_REDIR_HOST, 0xC612C8FE),
            "Redirect Host(New nexthop: 198.18.200.254)");
  EXPECT_EQ(describe_icmp(AF_INET, 200, 0, 0), "Bad ICMP type: 200");
}

TEST(IcmpText, Ipv6Wording) {
  EXPECT_EQ(describe_icmp(AF_INET6, ICMP6_DST_UNREACH, ICMP6_DST_UNREACH_ADDR, 0),
            "Destination unreachable: Address unreachable");
  EXPECT_EQ(describe_icmp(AF_INET6, ICMP6_PACKET_TOO_BIG, 0, 1280), "Packet too big: mtu=1280");
  EXPECT_EQ(describe_icmp(AF_INET6, ICMP6_TIME_EXCEEDED, ICMP6_TIME_EXCEED_TRANSIT, 0),
            "Time exceeded: Hop limit");
  EXPECT_EQ(describe_icmp(AF_INET6, ICMP6_PARAM_PROB, ICMP6_PARAMPROB_HEADER, 6),
            "Parameter problem: Wrong header field at 6");
}

// ---------------------------------------------------------------------------------------------
// JsonPingSink: one JSON object per line.

std::vector<nlohmann::json> json_lines(const std::string& text) {
  std::vector<nlohmann::json> lines;
  std::istringstream in(text);
  std::string line;
  while (std::getline(in, line)) {
    EXPECT_FALSE(line.empty());
    lines.push_back(nlohmann::json::parse(line));  // throws (fails the test) on bad JSON
  }
  EXPECT_TRUE(text.empty() || text.back() == '\n');
  return lines;
}

class JsonSinkTest : public TextSinkTest {
 protected:
  JsonPingSink json_sink(bool quiet = false) { return {out_.get(), err_.get(), quiet, "ping"}; }
};

TEST_F(JsonSinkTest, Header) {
  auto s = json_sink();
  PingHeader h = v4_header();
  h.socket_kind = "dgram";
  s.header(h);
  h.family = AF_INET6;
  h.show_source = true;
  h.source_text = "::1";
  h.device = "lo";
  s.header(h);
  const auto lines = json_lines(out());
  ASSERT_EQ(lines.size(), 2U);
  EXPECT_EQ(lines[0]["type"], "header");
  EXPECT_EQ(lines[0]["target"], "127.0.0.1");
  EXPECT_EQ(lines[0]["address"], "127.0.0.1");
  EXPECT_EQ(lines[0]["family"], 4);
  EXPECT_EQ(lines[0]["data_bytes"], 56);
  EXPECT_EQ(lines[0]["socket"], "dgram");
  EXPECT_FALSE(lines[0].contains("source"));
  EXPECT_EQ(lines[1]["family"], 6);
  EXPECT_EQ(lines[1]["source"], "::1");
  EXPECT_EQ(lines[1]["device"], "lo");
}

TEST_F(JsonSinkTest, Reply) {
  auto s = json_sink();
  PingReply r = reply_line();
  r.print_time = wall_from_ns(1'700'000'000'250'000'000LL);
  r.sequence = 9;
  r.tx_reference = "kernel";
  r.rx_from_kernel = true;
  r.kernel_rtt_ns = 20'000;
  r.send_stack_ns = 3'400;
  s.reply(r);
  const auto lines = json_lines(out());
  ASSERT_EQ(lines.size(), 1U);
  const auto& o = lines[0];
  EXPECT_EQ(o["type"], "reply");
  EXPECT_EQ(o["seq"], 9);
  EXPECT_EQ(o["from"], "127.0.0.1");
  EXPECT_EQ(o["bytes"], 64);
  EXPECT_EQ(o["ttl"], 64);
  EXPECT_EQ(o["dup"], false);
  EXPECT_EQ(o["bad_checksum"], false);
  EXPECT_EQ(o["truncated"], false);
  EXPECT_EQ(o["tx_reference"], "kernel");
  EXPECT_EQ(o["rx_kernel_timestamp"], true);
  EXPECT_DOUBLE_EQ(o["rtt_ms"].get<double>(), 0.0234);
  EXPECT_DOUBLE_EQ(o["kernel_rtt_ms"].get<double>(), 0.02);
  EXPECT_DOUBLE_EQ(o["send_stack_us"].get<double>(), 3.4);
  EXPECT_DOUBLE_EQ(o["time"].get<double>(), 1'700'000'000.25);
}

TEST_F(JsonSinkTest, ReplyWithoutTtlOrTiming) {
  auto s = json_sink();
  PingReply r = reply_line();
  r.ttl = -1;
  r.rtt_us.reset();
  r.rtt_ns.reset();
  r.duplicate = true;
  s.reply(r);
  const auto lines = json_lines(out());
  ASSERT_EQ(lines.size(), 1U);
  EXPECT_TRUE(lines[0]["ttl"].is_null());
  EXPECT_TRUE(lines[0]["rtt_ms"].is_null());
  EXPECT_EQ(lines[0]["dup"], true);
  EXPECT_EQ(lines[0]["tx_reference"], "user");
  EXPECT_FALSE(lines[0].contains("kernel_rtt_ms"));
  EXPECT_FALSE(lines[0].contains("send_stack_us"));
}

TEST_F(JsonSinkTest, QuietDropsPerPacketObjects) {
  auto s = json_sink(/*quiet=*/true);
  s.reply(reply_line());
  s.icmp_error(PingError{});
  s.notice(PingNotice{});
  s.no_answer_yet(wall_from_ns(0), 1);
  EXPECT_EQ(out(), "");
}

TEST_F(JsonSinkTest, ErrorNoticeAndNoAnswer) {
  auto s = json_sink();
  PingError e;
  e.sequence = 2;
  e.from = "198.18.200.1";
  e.text = "Destination Host Unreachable";
  e.icmp_type = 3;
  e.icmp_code = 1;
  s.icmp_error(e);
  PingNotice n;
  n.sequence = 3;
  n.from = "198.18.200.1";
  n.text = "Source Quench";
  s.notice(n);
  s.no_answer_yet(wall_from_ns(2'000'000'000), 4);
  const auto lines = json_lines(out());
  ASSERT_EQ(lines.size(), 3U);
  EXPECT_EQ(lines[0]["type"], "error");
  EXPECT_EQ(lines[0]["seq"], 2);
  EXPECT_EQ(lines[0]["from"], "198.18.200.1");
  EXPECT_EQ(lines[0]["icmp_type"], 3);
  EXPECT_EQ(lines[0]["icmp_code"], 1);
  EXPECT_EQ(lines[0]["description"], "Destination Host Unreachable");
  EXPECT_EQ(lines[1]["type"], "notice");
  EXPECT_EQ(lines[1]["seq"], 3);
  EXPECT_EQ(lines[1]["description"], "Source Quench");
  EXPECT_EQ(lines[2]["type"], "no_answer");
  EXPECT_EQ(lines[2]["seq"], 4);
  EXPECT_DOUBLE_EQ(lines[2]["time"].get<double>(), 2.0);
}

TEST_F(JsonSinkTest, LocalErrorAndStatusGoToStderr) {
  auto s = json_sink();
  s.local_error("sendmsg: No route to host");
  PingStatus st;
  st.transmitted = 4;
  st.received = 3;
  s.status(st);
  EXPECT_EQ(out(), "");
  const std::string e = err();
  const auto newline = e.find('\n');
  ASSERT_NE(newline, std::string::npos);
  EXPECT_EQ(e.substr(0, newline + 1), "ping: sendmsg: No route to host\n");
  const auto status = json_lines(e.substr(newline + 1));
  ASSERT_EQ(status.size(), 1U);
  EXPECT_EQ(status[0]["type"], "status");
  EXPECT_EQ(status[0]["transmitted"], 4);
  EXPECT_EQ(status[0]["received"], 3);
}

TEST_F(JsonSinkTest, Summary) {
  auto s = json_sink();
  PingSummary sum = summary_of("127.0.0.1", 3, 2);
  sum.duplicates = 1;
  sum.corrupted = 0;
  sum.errors = 1;
  sum.elapsed_ms = 2046;
  sum.rtt = RttSummary{23, 39, 58, 14};
  sum.percentiles = PercentileSummary{23'000, 40'000, 58'000, 58'500};
  sum.pipe = 2;
  sum.ipg_us = 1000;
  sum.ewma_us_x8 = 8 * 46;
  s.summary(sum);
  const auto lines = json_lines(out());
  ASSERT_EQ(lines.size(), 1U);
  const auto& o = lines[0];
  EXPECT_EQ(o["type"], "summary");
  EXPECT_EQ(o["target"], "127.0.0.1");
  EXPECT_EQ(o["transmitted"], 3);
  EXPECT_EQ(o["received"], 2);
  EXPECT_EQ(o["duplicates"], 1);
  EXPECT_EQ(o["corrupted"], 0);
  EXPECT_EQ(o["errors"], 1);
  EXPECT_EQ(o["time_ms"], 2046);
  EXPECT_NEAR(o["loss_pct"].get<double>(), 100.0 / 3.0, 1e-9);
  EXPECT_DOUBLE_EQ(o["rtt_ms"]["min"].get<double>(), 0.023);
  EXPECT_DOUBLE_EQ(o["rtt_ms"]["avg"].get<double>(), 0.039);
  EXPECT_DOUBLE_EQ(o["rtt_ms"]["max"].get<double>(), 0.058);
  EXPECT_DOUBLE_EQ(o["rtt_ms"]["mdev"].get<double>(), 0.014);
  EXPECT_DOUBLE_EQ(o["percentiles_ms"]["p50"].get<double>(), 0.023);
  EXPECT_DOUBLE_EQ(o["percentiles_ms"]["p99.9"].get<double>(), 0.0585);
  EXPECT_EQ(o["pipe"], 2);
  EXPECT_DOUBLE_EQ(o["ipg_ms"].get<double>(), 1.0);
  EXPECT_DOUBLE_EQ(o["ewma_ms"].get<double>(), 0.046);
}

TEST_F(JsonSinkTest, SummaryWithoutReplies) {
  auto s = json_sink();
  PingSummary sum;
  sum.hostname = "h";
  s.summary(sum);
  sum.transmitted = 2;
  sum.pipe = 1;
  s.summary(sum);
  const auto lines = json_lines(out());
  ASSERT_EQ(lines.size(), 2U);
  EXPECT_TRUE(lines[0]["loss_pct"].is_null());
  EXPECT_DOUBLE_EQ(lines[1]["loss_pct"].get<double>(), 100.0);
  for (const auto& o : lines) {
    EXPECT_FALSE(o.contains("rtt_ms"));
    EXPECT_FALSE(o.contains("percentiles_ms"));
    EXPECT_FALSE(o.contains("pipe"));
    EXPECT_FALSE(o.contains("ipg_ms"));
  }
}

// ---------------------------------------------------------------------------------------------
// Corrections (a correlator connected).

namespace corrections {

ReplyCorrection sample_correction() {
  ReplyCorrection c;
  c.corrected_ns = 41'400;
  c.corrected_us = 41;
  c.overhead_ns = 61'600;
  c.shared_ns = 0;
  c.overhead.egress_ns = 52'000;
  c.overhead.ingress_ns = 9'600;
  c.overhead.wire_ns = 13'000;
  c.overhead.wire_flow = 27071;
  c.overhead.egress = {{"eth0", 2, 20, MTOOL_HOOK_DEV_QUEUE, 0},
                       {"veth1", 10, 1, MTOOL_HOOK_NETIF_RX, 8'000},
                       {"up0", 12, 1, MTOOL_HOOK_DEV_QUEUE, 52'000}};
  c.overhead.ingress = {{"up0", 12, 1, MTOOL_HOOK_NETIF_RX, 0},
                        {"eth0", 2, 20, MTOOL_HOOK_NETIF_RX, 9'600}};
  return c;
}

}  // namespace corrections

// Three replies, all corrected.
PingSummary corrected_summary() {
  PingSummary sum;
  sum.hostname = "198.18.0.2";
  sum.transmitted = 3;
  sum.received = 3;
  sum.elapsed_ms = 2003;
  sum.rtt = RttSummary{101, 110, 123, 9};
  CorrectionSummary c;
  c.corrected = 3;
  c.timed = 3;
  c.rtt = RttSummary{40, 45, 52, 5};
  c.egress_p50_ns = 52'400;
  c.ingress_p50_ns = 9'600;
  sum.correction = c;
  return sum;
}

TEST_F(TextSinkTest, CorrectedReplyKeepsIputilsPrefix) {
  auto s = sink();
  PingReply r = reply_line();
  r.rtt_us = 103;
  r.correction = corrections::sample_correction();
  s.reply(r);
  EXPECT_EQ(out(),
            "64 bytes from 127.0.0.1: icmp_seq=1 ttl=64 time=0.103 ms corrected=0.041 ms "
            "overhead=0.062 ms\n");
}

TEST_F(TextSinkTest, CorrectedDuplicateKeepsDupLast) {
  auto s = sink();
  PingReply r = reply_line();
  r.correction = corrections::sample_correction();
  r.duplicate = true;
  s.reply(r);
  EXPECT_EQ(out(),
            "64 bytes from 127.0.0.1: icmp_seq=1 ttl=64 time=0.023 ms corrected=0.041 ms "
            "overhead=0.062 ms (DUP!)\n");
}

TEST_F(TextSinkTest, BreakdownLines) {
  TextSinkOptions options;
  options.breakdown = true;
  auto s = sink(options);
  PingReply r = reply_line();
  r.correction = corrections::sample_correction();
  s.reply(r);
  const std::string text = out();
  EXPECT_NE(text.find("\n    egress     52.0 us: eth0/xmit 0.0 > veth1/rx 8.0 > up0/xmit 52.0\n"),
            std::string::npos)
      << text;
  EXPECT_NE(text.find("\n    wire       13.0 us: uplink to uplink\n"), std::string::npos) << text;
  EXPECT_NE(text.find("\n    ingress     9.6 us: up0/rx 0.0 > eth0/rx 9.6\n"), std::string::npos)
      << text;
  EXPECT_EQ(text.find("shared"), std::string::npos);
}

TEST_F(TextSinkTest, BreakdownOnlyWhenAsked) {
  auto s = sink();
  PingReply r = reply_line();
  r.correction = corrections::sample_correction();
  s.reply(r);
  EXPECT_EQ(out().find("egress"), std::string::npos);
}

TEST_F(TextSinkTest, SummaryWithCorrections) {
  auto s = sink();
  PingSummary sum = corrected_summary();
  s.summary(sum);
  EXPECT_EQ(out(),
            "\n--- 198.18.0.2 ping statistics ---\n"
            "3 packets transmitted, 3 received, 0% packet loss, time 2003ms\n"
            "rtt min/avg/max/mdev = 0.101/0.110/0.123/0.009 ms\n"
            "corrected rtt min/avg/max/mdev = 0.040/0.045/0.052/0.005 ms\n"
            "overhead median egress/ingress = 0.052/0.010 ms, 3/3 replies corrected\n");
}

TEST_F(TextSinkTest, SummaryWhenNothingWasCorrected) {
  auto s = sink();
  PingSummary sum = summary_of("198.18.0.2", 2, 2, 1001);
  sum.rtt = RttSummary{101, 110, 123, 9};
  CorrectionSummary c;
  c.timed = 2;
  sum.correction = c;
  s.summary(sum);
  EXPECT_NE(
      out().find("rtt min/avg/max/mdev = 0.101/0.110/0.123/0.009 ms\n0/2 replies corrected\n"),
      std::string::npos)
      << out();
}

TEST_F(JsonSinkTest, ReplyCarriesCorrectionAndPaths) {
  auto s = json_sink();
  PingReply r = reply_line();
  r.correction = corrections::sample_correction();
  s.reply(r);
  const auto lines = json_lines(out());
  ASSERT_EQ(lines.size(), 1U);
  const auto& c = lines[0]["correction"];
  EXPECT_DOUBLE_EQ(c["corrected_rtt_ms"].get<double>(), 0.0414);
  EXPECT_DOUBLE_EQ(c["overhead_ms"].get<double>(), 0.0616);
  EXPECT_DOUBLE_EQ(c["egress_us"].get<double>(), 52.0);
  EXPECT_DOUBLE_EQ(c["ingress_us"].get<double>(), 9.6);
  EXPECT_DOUBLE_EQ(c["wire_rtt_ms"].get<double>(), 0.013);
  EXPECT_EQ(c["wire_ident"], 27071);
  ASSERT_EQ(c["egress_path"].size(), 3U);
  EXPECT_EQ(c["egress_path"][1]["device"], "veth1");
  EXPECT_EQ(c["egress_path"][1]["hook"], "rx");
  EXPECT_DOUBLE_EQ(c["egress_path"][1]["at_us"].get<double>(), 8.0);
  EXPECT_EQ(c["ingress_path"].size(), 2U);
  EXPECT_TRUE(c["target_path"].empty());
}

TEST_F(JsonSinkTest, SummaryCarriesCorrection) {
  auto s = json_sink();
  PingSummary sum = corrected_summary();
  s.summary(sum);
  const auto lines = json_lines(out());
  ASSERT_EQ(lines.size(), 1U);
  const auto& j = lines[0]["correction"];
  EXPECT_EQ(j["corrected"], 3);
  EXPECT_DOUBLE_EQ(j["rtt_ms"]["avg"].get<double>(), 0.045);
  EXPECT_DOUBLE_EQ(j["egress_p50_us"].get<double>(), 52.4);
}

}  // namespace
}  // namespace mtool::report
