// ResultParser on single results: Atlas' fields in any order, every kind of packet and hop
// reply, mtool's corrections, and the one-line reasons a text is not a result.
#include "analysis/result_parser.h"

#include <gtest/gtest.h>

#include <string>

namespace mtool::analysis {
namespace {

// Parses `text` (padded as the parser needs); the problem, "" for a result. The record's views
// point into the line, so the line lives until the next parse, as a LineReader's chunk does
// (ASan caught a test reading a reply's err from a line already freed).
std::string parse(ResultParser& parser, const std::string& text, ResultRecord& out) {
  static std::string line;
  line = text + std::string(ResultParser::kPadding, ' ');
  return parser.parse(line.data(), text.size(), out);
}

const std::string kHeader =
    R"("fw":5120,"prb_id":7,"msm_id":9,"timestamp":1700000000,"dst_name":"t.example",)";

TEST(ResultParser, AtlasPingWithTypeAfterResult) {
  ResultParser parser;
  ResultRecord r;
  ASSERT_EQ(parse(parser,
                  R"({"fw":4610,"result":[{"x":"*","srcaddr":"198.18.0.1"},{"dup":1,"rtt":36.5},)"
                  R"({"rtt":27.75,"ttl":54},{"error":"sendto failed"},{"late":2}],"sent":3,)"
                  R"("prb_id":1216,"msm_id":1000192,"timestamp":1395277728,"from":"198.18.0.9",)"
                  R"("dst_addr":"198.18.1.1","type":"ping"})",
                  r),
            "");
  EXPECT_EQ(r.type, ResultType::kPing);
  EXPECT_EQ(r.fw, 4610);
  EXPECT_EQ(r.prb_id, 1216U);
  EXPECT_EQ(r.from, "198.18.0.9");
  EXPECT_EQ(r.target(), "198.18.1.1");  // no dst_name: the address
  EXPECT_EQ(r.sent, 3U);
  ASSERT_EQ(r.packets.size(), 5U);
  using Kind = PingPacket::Kind;
  EXPECT_EQ(r.packets[0].kind, Kind::kLost);
  EXPECT_EQ(r.packets[1].kind, Kind::kDuplicate);
  EXPECT_EQ(r.packets[2].kind, Kind::kReply);
  EXPECT_DOUBLE_EQ(r.packets[2].figures.rtt_ms, 27.75);
  EXPECT_TRUE(std::isnan(r.packets[2].figures.corrected_ms));
  EXPECT_EQ(r.packets[3].kind, Kind::kError);
  EXPECT_EQ(r.packets[4].kind, Kind::kLate);
  EXPECT_FALSE(r.failed);
}

TEST(ResultParser, MtoolCorrectionsAndBreakdown) {
  ResultParser parser;
  ResultRecord r;
  ASSERT_EQ(
      parse(parser,
            "{" + kHeader +
                R"("type":"ping","result":[{"rtt":0.1,"overhead":0.04,"rtt_corrected":0.06,)"
                R"("breakdown":{"egress_ms":0.01,"ingress_ms":0.03,"egress":[{"dev":"eth0"}]}}]})",
            r),
      "");
  ASSERT_EQ(r.packets.size(), 1U);
  const ReplyFigures& f = r.packets[0].figures;
  EXPECT_DOUBLE_EQ(f.corrected_ms, 0.06);
  EXPECT_DOUBLE_EQ(f.overhead_ms, 0.04);
  EXPECT_DOUBLE_EQ(f.egress_ms, 0.01);
  EXPECT_DOUBLE_EQ(f.ingress_ms, 0.03);
}

TEST(ResultParser, TracerouteHopsInAnyFieldOrder) {
  ResultParser parser;
  ResultRecord r;
  ASSERT_EQ(
      parse(parser,
            "{" + kHeader +
                R"("type":"traceroute","paris_id":5,"dst_addr":"198.18.9.9","result":[)"
                R"({"result":[{"from":"198.18.0.1","rtt":0.5,"inside_host":true,"overhead":0.5},)"
                R"({"x":"*"}],"hop":1},)"
                R"({"hop":2,"result":[{"from":"198.18.2.1","rtt":2,"err":"N"},)"
                R"({"from":"198.18.2.2","rtt":3,"err":9},{"late":4,"from":"198.18.2.1"},)"
                R"({"from":"198.18.2.1","rtt":2.5,"dup":true},{"error":"sendto failed"}]},)"
                R"({"hop":3,"error":"bind failed"}]})",
            r),
      "");
  EXPECT_EQ(r.type, ResultType::kTraceroute);
  EXPECT_EQ(r.paris_id, 5U);
  ASSERT_EQ(r.hops.size(), 3U);
  EXPECT_EQ(r.hops[0].number, 1U);
  EXPECT_EQ(r.hops[0].replies, 2U);
  EXPECT_TRUE(r.hop_replies[0].figures.inside_host);
  EXPECT_EQ(r.hop_replies[1].kind, HopReply::Kind::kTimeout);
  const Hop& two = r.hops[1];
  ASSERT_EQ(two.replies, 5U);
  const HopReply* replies = &r.hop_replies[two.first_reply];
  EXPECT_EQ(replies[0].err, "N");
  EXPECT_EQ(replies[1].err, "9");
  EXPECT_EQ(replies[2].kind, HopReply::Kind::kLate);
  EXPECT_EQ(replies[3].kind, HopReply::Kind::kDuplicate);
  EXPECT_EQ(replies[4].kind, HopReply::Kind::kError);
  EXPECT_TRUE(r.hops[2].error);
  EXPECT_TRUE(r.packets.empty());
}

TEST(ResultParser, AnErrorAloneIsAFailedResult) {
  ResultParser parser;
  ResultRecord r;
  ASSERT_EQ(parse(parser, "{" + kHeader + R"("type":"traceroute","result":[{"error":"no"}]})", r),
            "");
  EXPECT_TRUE(r.failed);
  EXPECT_TRUE(r.hops.empty());
  ASSERT_EQ(parse(parser, "{" + kHeader + R"("type":"ping","result":[{"error":"no"}]})", r), "");
  EXPECT_TRUE(r.failed);
}

TEST(ResultParser, TheRecordIsClearedBetweenResults) {
  ResultParser parser;
  ResultRecord r;
  ASSERT_EQ(parse(parser, "{" + kHeader + R"("type":"ping","sent":3,"result":[{"rtt":1}]})", r),
            "");
  ASSERT_EQ(parse(parser, "{" + kHeader + R"("type":"ping","result":[]})", r), "");
  EXPECT_FALSE(r.sent.has_value());
  EXPECT_TRUE(r.packets.empty());
}

TEST(ResultParser, ReasonsATextIsNotAResult) {
  struct Case {
    std::string text;
    std::string why;
  };
  const std::string ping = R"("type":"ping",)";
  const std::vector<Case> cases{
      {"not json", "not a JSON object"},
      {"[1]", "not a JSON object"},
      {"{}", "no 'type' field: not an Atlas result"},
      {R"({"type":"ping"})", "no 'fw' field"},
      {"{" + kHeader + R"("type":"dns","result":[]})", "a dns result (only ping and traceroute"},
      {"{" + kHeader + R"("type":"\u0007","result":[]})", R"(a \x07 result)"},
      {R"({"fw":4460,"type":"ping","prb_id":1,"msm_id":1,"timestamp":1,"result":[]})",
       "fw 4460 is older than 4570"},
      {"{" + kHeader + ping + R"("result":[{"rtt":-1}]})", "field 'rtt' is not a duration (ms)"},
      {"{" + kHeader + ping + R"("result":[{"rtt":"1"}]})", "field 'rtt' is not a number"},
      {"{" + kHeader + ping + R"("result":[{"ttl":3}]})", "no rtt, x, late, error nor hop"},
      {"{" + kHeader + ping + R"("result":{}})", "field 'result' is not an array"},
      {"{" + kHeader + ping + R"("result":[{"hop":1,"result":[]}]})",
       "a ping result with traceroute hops"},
      {"{" + kHeader + R"("type":"traceroute","result":[{"rtt":1}]})",
       "a traceroute result with ping packets"},
      {"{" + kHeader + R"("type":"traceroute","result":[{"hop":0,"result":[]}]})",
       "field 'hop': 0 is out of range (1..255)"},
      {"{" + kHeader + ping + R"("prb_id":-4,"result":[]})", "field 'prb_id' is not an unsigned"},
      {"{" + kHeader + ping + R"("result":[]} {})", "text after the result's object"},
      {"{" + kHeader + ping + R"("result":[{"rtt":1})", "not JSON: "},
      {R"({"fw":5120,"type":"ping","prb_id":1,"msm_id":1,"timestamp":1,"result":[]})",
       "no 'dst_name' nor 'dst_addr'"},
  };
  ResultParser parser;
  ResultRecord r;
  for (const Case& c : cases) {
    const std::string why = parse(parser, c.text, r);
    EXPECT_NE(why.find(c.why), std::string::npos) << c.text << "\n -> " << why;
    EXPECT_EQ(why.find('\n'), std::string::npos) << why;
  }
}

TEST(ResultParser, ArraysGiveEachElementAndNameTheBadOnes) {
  ResultParser parser;
  const std::string good = "{" + kHeader + R"("type":"ping","result":[{"rtt":1}]})";
  std::string text = "[" + good + R"(, 7, {"type":"dns"}, )" + good + "]";
  text += std::string(ResultParser::kPadding, ' ');
  std::vector<std::size_t> results;
  std::vector<std::pair<std::size_t, std::string>> bad;
  const std::string broken = parser.parse_array(
      text.data(), text.size() - ResultParser::kPadding,
      [&](const ResultRecord& r, std::size_t i) {
        EXPECT_EQ(r.packets.size(), 1U);
        results.push_back(i);
      },
      [&](std::size_t i, const std::string& why) { bad.emplace_back(i, why); });
  EXPECT_EQ(broken, "");
  EXPECT_EQ(results, (std::vector<std::size_t>{0, 3}));
  ASSERT_EQ(bad.size(), 2U);
  EXPECT_EQ(bad[0], (std::pair<std::size_t, std::string>{1, "not a JSON object"}));
  EXPECT_EQ(bad[1].first, 2U);

  std::string cut = "[" + good + ", {\"fw\": ]" + std::string(ResultParser::kPadding, ' ');
  results.clear();
  const std::string why = parser.parse_array(
      cut.data(), cut.size() - ResultParser::kPadding,
      [&](const ResultRecord&, std::size_t i) { results.push_back(i); },
      [&](std::size_t, const std::string&) {});
  // Element 1's "fw" is not a number; then the array itself breaks: nothing after is read.
  EXPECT_NE(why.find(": not JSON: "), std::string::npos) << why;
  EXPECT_EQ(results, (std::vector<std::size_t>{0}));
}

}  // namespace
}  // namespace mtool::analysis
