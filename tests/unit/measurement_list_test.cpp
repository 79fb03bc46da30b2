// Measurement lists as `mtool run` reads them: the three accepted shapes, every field's Atlas
// default and range, and one clear problem per bad definition (../shared/conventions/
// atlas_formats.md).
#include "campaign/measurement_list.h"

#include <gtest/gtest.h>

#include <string>
#include <vector>

namespace mtool::campaign {
namespace {

MeasurementList parse(const std::string& text) { return parse_measurement_list(text); }

// The one problem a list with one definition `body` has ("" when it is valid).
std::string problem_of(const std::string& body) {
  const auto list = parse("[" + body + "]");
  return list.problems.empty() ? "" : list.problems.front().text;
}

TEST(MeasurementList, AtlasCreationBody) {
  const auto list = parse(R"({"definitions":[
     {"type":"ping","af":4,"target":"198.19.0.2","description":"Ping","packets":5,"size":64,"packet_interval":500},
     {"type":"traceroute","af":6,"target":"fd00:6d74:a0::2","description":"Trace","protocol":"UDP","packets":2,
      "size":40,"paris":0,"first_hop":2,"max_hops":20,"response_timeout":1500}],
    "probes":[{"requested":50,"type":"area","value":"WW"}],
    "is_oneoff":true})");
  ASSERT_TRUE(list.problems.empty()) << list.problems.front().text;
  ASSERT_EQ(list.definitions.size(), 2U);
  const auto& ping = list.definitions[0];
  EXPECT_EQ(ping.type, MeasurementType::kPing);
  EXPECT_EQ(ping.af, 4);
  EXPECT_EQ(ping.target, "198.19.0.2");
  EXPECT_EQ(ping.ping.packets, 5U);
  EXPECT_EQ(ping.ping.size, 64U);
  EXPECT_EQ(ping.ping.packet_interval_ms, 500U);
  EXPECT_TRUE(ping.schedule.is_oneoff);
  const auto& trace = list.definitions[1];
  EXPECT_EQ(trace.index, 1U);
  EXPECT_EQ(trace.af, 6);
  EXPECT_EQ(trace.traceroute.protocol, TraceProtocol::kUdp);
  EXPECT_EQ(trace.traceroute.packets, 2U);
  EXPECT_EQ(trace.traceroute.paris, 0U);
  EXPECT_EQ(trace.traceroute.first_hop, 2U);
  EXPECT_EQ(trace.traceroute.max_hops, 20U);
  EXPECT_EQ(trace.traceroute.response_timeout_ms, 1500U);
}

TEST(MeasurementList, ArrayAndJsonLines) {
  EXPECT_EQ(
      parse(R"([{"type":"ping","target":"a"},{"type":"ping","target":"b"}])").definitions.size(),
      2U);
  const auto lines =
      parse("{\"type\":\"ping\",\"target\":\"a\"}\n\n{\"type\":\"traceroute\",\"target\":\"b\"}\n");
  ASSERT_TRUE(lines.problems.empty());
  ASSERT_EQ(lines.definitions.size(), 2U);
  EXPECT_EQ(lines.definitions[1].type, MeasurementType::kTraceroute);
  EXPECT_EQ(parse(R"({"type":"ping","target":"a"})").definitions.size(), 1U);  // one line
}

TEST(MeasurementList, AtlasDefaults) {
  const auto list = parse(R"([{"type":"ping","target":"a"},{"type":"traceroute","target":"b"}])");
  ASSERT_EQ(list.definitions.size(), 2U);
  const auto& p = list.definitions[0];
  EXPECT_EQ(p.af, 4);
  EXPECT_EQ(p.ping.packets, 3U);
  EXPECT_EQ(p.ping.size, 48U);
  EXPECT_EQ(p.ping.packet_interval_ms, 1000U);
  EXPECT_FALSE(p.msm_id.has_value());
  EXPECT_TRUE(p.schedule.is_oneoff);
  const auto& t = list.definitions[1].traceroute;
  EXPECT_EQ(t.protocol, TraceProtocol::kIcmp);
  EXPECT_EQ(t.packets, 3U);
  EXPECT_EQ(t.size, 48U);
  EXPECT_EQ(t.first_hop, 1U);
  EXPECT_EQ(t.max_hops, 32U);
  EXPECT_EQ(t.port, 80U);
  EXPECT_EQ(t.response_timeout_ms, 4000U);
  EXPECT_EQ(t.paris, 16U);
}

TEST(MeasurementList, Scheduling) {
  auto list = parse(
      R"([{"type":"ping","target":"a","interval":300,"start_time":1800000000,"stop_time":1800003600,"spread":30}])");
  ASSERT_TRUE(list.problems.empty()) << list.problems.front().text;
  const auto& s = list.definitions[0].schedule;
  EXPECT_FALSE(s.is_oneoff);  // an interval makes it periodic unless is_oneoff says otherwise
  EXPECT_EQ(s.interval_s, 300);
  EXPECT_EQ(s.start_time, 1800000000);
  EXPECT_EQ(s.stop_time, 1800003600);
  EXPECT_EQ(s.spread_s, 30);
  list = parse(R"([{"type":"traceroute","target":"a","is_oneoff":false}])");
  EXPECT_EQ(list.definitions[0].schedule.interval_s, 900);  // Atlas' traceroute default
  // The creation body's times apply to definitions without their own.
  list = parse(
      R"({"definitions":[{"type":"ping","target":"a"}],"is_oneoff":false,"start_time":1800000000})");
  ASSERT_EQ(list.definitions.size(), 1U);
  EXPECT_FALSE(list.definitions[0].schedule.is_oneoff);
  EXPECT_EQ(list.definitions[0].schedule.start_time, 1800000000);
}

TEST(MeasurementList, RangesNameTheDefinitionAndField) {
  EXPECT_EQ(problem_of(R"({"type":"ping","target":"a","packets":17})"),
            "definition 0: field 'packets': 17 is out of range (1..16)");
  EXPECT_EQ(problem_of(R"({"type":"ping","target":"a","packets":0})"),
            "definition 0: field 'packets': 0 is out of range (1..16)");
  EXPECT_EQ(problem_of(R"({"type":"ping","target":"a","size":2049})"),
            "definition 0: field 'size': 2049 is out of range (1..2048)");
  EXPECT_EQ(problem_of(R"({"type":"ping","target":"a","packet_interval":1})"),
            "definition 0: field 'packet_interval': 1 is out of range (2..30000)");
  EXPECT_EQ(problem_of(R"({"type":"ping","target":"a","af":5})"),
            "definition 0: field 'af': 5 is not 4 or 6");
  EXPECT_EQ(problem_of(R"({"type":"traceroute","target":"a","max_hops":256})"),
            "definition 0: field 'max_hops': 256 is out of range (1..255)");
  EXPECT_EQ(problem_of(R"({"type":"traceroute","target":"a","first_hop":9,"max_hops":5})"),
            "definition 0: field 'first_hop': 9 is beyond max_hops 5");
  EXPECT_EQ(problem_of(R"({"type":"traceroute","target":"a","paris":65})"),
            "definition 0: field 'paris': 65 is out of range (0..64)");
  EXPECT_EQ(problem_of(R"({"type":"traceroute","target":"a","port":0})"),
            "definition 0: field 'port': 0 is out of range (1..65535)");
  EXPECT_EQ(problem_of(R"({"type":"traceroute","target":"a","response_timeout":60001})"),
            "definition 0: field 'response_timeout': 60001 is out of range (1..60000)");
  EXPECT_EQ(problem_of(R"({"type":"traceroute","target":"a","protocol":"SCTP"})"),
            "definition 0: field 'protocol': 'SCTP' is not ICMP, UDP or TCP");
  EXPECT_EQ(problem_of(R"({"type":"ping","target":"a","interval":30})"),
            "definition 0: field 'interval': 30 is out of range (60..31622400)");
  EXPECT_EQ(problem_of(R"({"type":"ping","target":"a","start_time":20,"stop_time":10})"),
            "definition 0: field 'stop_time': 10 is not after start_time 20");
  EXPECT_EQ(problem_of(R"({"type":"ping","target":"a","msm_id":0})"),
            "definition 0: field 'msm_id': 0 is out of range (1..2147483647)");
}

TEST(MeasurementList, WrongTypesAndHugeNumbers) {
  EXPECT_EQ(problem_of(R"({"type":"ping","target":"a","packets":"3"})"),
            "definition 0: field 'packets': must be an integer, not a string");
  EXPECT_EQ(problem_of(R"({"type":"ping","target":"a","packets":2.5})"),
            "definition 0: field 'packets': must be an integer, not the number 2.5");
  EXPECT_EQ(problem_of(R"({"type":"ping","target":"a","packets":18446744073709551615})"),
            "definition 0: field 'packets': 18446744073709551615 is out of range (1..16)");
  // A number beyond any double does not parse at all: the list is refused.
  EXPECT_EQ(problem_of(R"({"type":"ping","target":"a","packets":1e400})"),
            "list: not JSON (a creation body, an array of definitions, or JSON lines)");
  EXPECT_EQ(problem_of(R"({"type":"ping","target":"a","is_oneoff":1})"),
            "definition 0: field 'is_oneoff': must be true or false, not 1");
  EXPECT_EQ(problem_of(R"({"type":"ping","target":7})"),
            "definition 0: field 'target': must be a string, not 7");
  EXPECT_EQ(problem_of(R"("ping")"), "definition 0: must be a JSON object, not a string");
}

TEST(MeasurementList, RequiredUnknownAndUnsupportedFields) {
  EXPECT_EQ(problem_of(R"({"target":"a"})"), "definition 0: field 'type': is required");
  EXPECT_EQ(problem_of(R"({"type":"ping"})"), "definition 0: field 'target': is required");
  EXPECT_EQ(problem_of(R"({"type":"ping","target":""})"),
            "definition 0: field 'target': must not be empty");
  EXPECT_EQ(problem_of(R"({"type":"dns","target":"a"})"),
            "definition 0: field 'type': 'dns' is not supported by mtool run (ping, traceroute)");
  EXPECT_EQ(problem_of(R"({"type":"ping","target":"a","packts":3})"),
            "definition 0: field 'packts': is not a ping definition field");
  EXPECT_EQ(problem_of(R"({"type":"ping","target":"a","protocol":"ICMP"})"),
            "definition 0: field 'protocol': is not a ping definition field");
  EXPECT_EQ(problem_of(R"({"type":"traceroute","target":"a","hop_by_hop_option_size":8})"),
            "definition 0: field 'hop_by_hop_option_size': IPv6 option headers are not supported "
            "by mtool run");
  // Atlas fields that change nothing locally are accepted.
  EXPECT_EQ(
      problem_of(
          R"({"type":"ping","target":"a","is_public":true,"tags":["x"],"resolve_on_probe":true})"),
      "");
}

TEST(MeasurementList, BadDefinitionsAreCountedAndTheGoodOnesKept) {
  const auto list = parse(
      R"([{"type":"ping","target":"a"},{"type":"ping","target":"b","size":0},{"type":"ping","target":"c"}])");
  EXPECT_EQ(list.total, 3U);
  ASSERT_EQ(list.definitions.size(), 2U);
  EXPECT_EQ(list.definitions[1].index, 2U);
  ASSERT_EQ(list.problems.size(), 1U);
  EXPECT_EQ(list.problems[0].text, "definition 1: field 'size': 0 is out of range (1..2048)");
}

TEST(MeasurementList, JsonLinesProblemsNameTheLine) {
  const auto list = parse(
      "{\"type\":\"ping\",\"target\":\"a\"}\n{\"type\":\"ping\",\n{\"type\":\"ping\",\"target\":"
      "\"c\",\"af\":8}\n");
  EXPECT_EQ(list.total, 3U);
  EXPECT_EQ(list.definitions.size(), 1U);
  ASSERT_EQ(list.problems.size(), 2U);
  EXPECT_EQ(list.problems[0].text, "definition 1 (line 2): is not valid JSON");
  EXPECT_EQ(list.problems[1].text, "definition 2 (line 3): field 'af': 8 is out of range (4..6)");
}

TEST(MeasurementList, ListLevelErrors) {
  EXPECT_EQ(parse("").problems.at(0).text, "list: empty (no definitions)");
  EXPECT_EQ(parse("  \n ").problems.at(0).text, "list: empty (no definitions)");
  EXPECT_EQ(parse("[]").problems.at(0).text, "list: empty (no definitions)");
  EXPECT_EQ(parse("not json").problems.at(0).text,
            "list: not JSON (a creation body, an array of definitions, or JSON lines)");
  EXPECT_EQ(parse("42").problems.at(0).text,
            "list: expected a creation body, an array of definitions or JSON lines, not 42");
  EXPECT_EQ(parse(R"({"definitions":{}})").problems.at(0).text,
            "list: field 'definitions' must be an array, not an object");
  EXPECT_EQ(parse(R"({"definitions":[],"probe":[]})").problems.at(0).text,
            "list: field 'probe' is not a measurement creation field");
}

// True when `text` holds a byte a terminal could take for a command (C0 controls, DEL).
bool has_control(const std::string& text) {
  for (const char c : text) {
    if (static_cast<unsigned char>(c) < 0x20 || c == 0x7f) return true;
  }
  return false;
}

TEST(MeasurementList, DeepNestingIsRefusedWithoutBuildingIt) {
  // One object whose field opens 100,000 arrays: refused by its place, not a stack overflow.
  const std::string head = R"({"type":"ping","af":4,"target":"198.18.0.1","tags":)";
  auto list = parse(head + std::string(100000, '[') + std::string(100000, ']') + "}");
  ASSERT_EQ(list.problems.size(), 1U);
  EXPECT_TRUE(list.definitions.empty());
  EXPECT_EQ(list.problems[0].text, "list: nested deeper than 64 levels at line 1 (offset " +
                                       std::to_string(head.size() + 63) + ")");
  list = parse(head + std::string(100000, '['));  // never closed
  ASSERT_EQ(list.problems.size(), 1U);
  EXPECT_TRUE(list.definitions.empty());
  EXPECT_EQ(list.problems[0].text, "list: nested deeper than 64 levels at line 1 (offset " +
                                       std::to_string(head.size() + 63) + ")");
  // The same in an array, a creation body and on the third of three JSON lines.
  list = parse("[" + head + std::string(100000, '[') + std::string(100000, ']') + "}]");
  ASSERT_EQ(list.problems.size(), 1U);
  EXPECT_EQ(list.problems[0].text.rfind("list: nested deeper than 64 levels at line 1 (offset ", 0),
            0U);
  list =
      parse(R"({"definitions":[)" + head + std::string(5000, '[') + std::string(5000, ']') + "}]}");
  EXPECT_EQ(list.problems.at(0).text.rfind("list: nested deeper than 64 levels at line 1 ", 0), 0U);
  list = parse("{\"type\":\"ping\",\"target\":\"a\"}\n\n" + head + std::string(100000, '[') + "\n");
  EXPECT_EQ(list.problems.at(0).text.rfind("list: nested deeper than 64 levels at line 3 ", 0), 0U);
  // Brackets inside strings do not count; 64 levels are allowed (the definition is one).
  list = parse(R"({"type":"ping","target":"a","description":")" + std::string(1000, '[') + "\"}");
  EXPECT_TRUE(list.problems.empty()) << list.problems.front().text;
  list = parse(head + std::string(63, '[') + std::string(63, ']') + "}");
  EXPECT_TRUE(list.problems.empty()) << list.problems.front().text;
  list = parse(head + std::string(64, '[') + std::string(64, ']') + "}");
  EXPECT_EQ(list.problems.at(0).text, "list: nested deeper than 64 levels at line 1 (offset " +
                                          std::to_string(head.size() + 63) + ")");
}

TEST(MeasurementList, NulBytesAreRefusedWhereTheyAre) {
  // A NUL byte used to end the list silently: the definitions after it were lost.
  const std::string ping = R"({"type":"ping","target":"a"})";
  std::string text = "[" + ping + "]";
  text += '\0';
  text += "[" + ping + "]";
  auto list = parse(text);
  EXPECT_TRUE(list.definitions.empty());
  ASSERT_EQ(list.problems.size(), 1U);
  EXPECT_EQ(list.problems[0].text,
            "list: a NUL byte at line 1 (offset " + std::to_string(ping.size() + 2) + ")");
  text = ping + "\n" + ping + "\n" + ping;
  text[2 * ping.size() + 2 + 5] = '\0';
  list = parse(text);
  EXPECT_TRUE(list.definitions.empty());
  ASSERT_EQ(list.problems.size(), 1U);
  EXPECT_EQ(list.problems[0].text,
            "list: a NUL byte at line 3 (offset " + std::to_string(2 * ping.size() + 7) + ")");
}

TEST(MeasurementList, ControlCharactersInStringsAreRefusedByField) {
  // "127.0.0.1\u0000evil" used to ping 127.0.0.1.
  EXPECT_EQ(problem_of(R"({"type":"ping","target":"127.0.0.1\u0000evil"})"),
            R"(definition 0: field 'target': contains a control character (\x00))");
  EXPECT_EQ(problem_of(R"({"type":"ping","target":"a","description":"x\u001b[2Jy"})"),
            R"(definition 0: field 'description': contains a control character (\x1b))");
  EXPECT_EQ(problem_of(R"({"type":"ping","target":"a","tags":["ok","bell\u0007"]})"),
            R"(definition 0: field 'tags': contains a control character (\x07))");
  EXPECT_EQ(problem_of(R"({"type":"traceroute","target":"a\nb"})"),
            R"(definition 0: field 'target': contains a control character (\x0a))");
  EXPECT_EQ(problem_of(R"({"type":"ping","target":"a","description":"del\u007f"})"),
            R"(definition 0: field 'description': contains a control character (\x7f))");
  EXPECT_EQ(problem_of(R"({"type":"ping","target":"a","description":"csi\u009b"})"),
            R"(definition 0: field 'description': contains a control character (\u009b))");
  // Other text is fine.
  EXPECT_EQ(
      problem_of(
          R"({"type":"ping","target":"a","description":"caf\u00e9 \u2603 tab-free","tags":["x"]})"),
      "");
}

TEST(MeasurementList, ProblemsQuoteListContentEscaped) {
  EXPECT_EQ(problem_of(R"({"type":"ping","target":"a","\u001b[2J":1})"),
            R"(definition 0: field '\x1b[2J': is not a ping definition field)");
  EXPECT_EQ(parse(R"({"definitions":[],"\u001b]0;title\u0007":1})").problems.at(0).text,
            R"(list: field '\x1b]0;title\x07' is not a measurement creation field)");
  const std::vector<std::string> hostile = {
      R"([{"type":"\u001b[31mdns","target":"a"}])",
      R"([{"type":"traceroute","target":"a","protocol":"\u001bc"}])",
      R"([{"type":"ping","target":"a","\r\u001b[K":1}])",
      "{\"type\":\"ping\",\"target\":\"a\"}\n{\"type\":\"ping\",\"\\u001b[2J\":1}\n",
  };
  for (const std::string& text : hostile) {
    const auto list = parse(text);
    ASSERT_FALSE(list.problems.empty()) << text;
    for (const auto& problem : list.problems)
      EXPECT_FALSE(has_control(problem.text)) << problem.text;
  }
}

TEST(MeasurementList, DuplicateKeysAreRefusedByName) {
  // The last one used to win silently.
  EXPECT_EQ(problem_of(R"({"type":"ping","target":"a","target":"b"})"),
            "definition 0: field 'target': appears more than once");
  EXPECT_EQ(problem_of(R"({"type":"ping","target":"a","tags":[{"k":1,"k":2}]})"),
            "definition 0: field 'tags': has the key 'k' more than once");
  const auto list = parse(
      R"([{"type":"ping","target":"a"},{"type":"ping","packets":3,"target":"b","packets":16}])");
  EXPECT_EQ(list.total, 2U);
  ASSERT_EQ(list.definitions.size(), 1U);
  ASSERT_EQ(list.problems.size(), 1U);
  EXPECT_EQ(list.problems[0].text, "definition 1: field 'packets': appears more than once");
  const auto lines = parse(
      "{\"type\":\"ping\",\"target\":\"a\"}\n{\"type\":\"ping\",\"type\":\"ping\",\"target\":\"b\"}"
      "\n");
  ASSERT_EQ(lines.problems.size(), 1U);
  EXPECT_EQ(lines.problems[0].text, "definition 1 (line 2): field 'type': appears more than once");
  EXPECT_EQ(parse(R"({"definitions":[{"type":"ping","target":"a"}],"definitions":[]})")
                .problems.at(0)
                .text,
            "list: field 'definitions' appears more than once");
}

}  // namespace
}  // namespace mtool::campaign
