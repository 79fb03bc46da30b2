// `mtool run` against the Docker-like testbed with two routers behind the target (instance 7):
// Atlas-shaped results for ping and traceroute (every object checked against the published
// format), corrections with the correlator on the host, SIGINT in the middle of a campaign,
// and malformed lists. Root only; the testbed comes up once per suite and goes down after it,
// the correlator and temporary files at the end of each test, also when it fails.
#include <gtest/gtest.h>
#include <signal.h>
#include <unistd.h>

#include <chrono>
#include <fstream>
#include <map>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "campaign_testbed.h"
#include "harness.h"
#include "processes.h"

namespace mtool::testing {
namespace {

using nlohmann::json;
using std::chrono::milliseconds;

// Clear of the demo and benchmarks (0, 13), the correlator suite (9) and traceroute's (11).
constexpr int kTestbedIndex = 7;
constexpr int kRouters = 2;

// What is wrong with one result against Atlas' published format (../shared/conventions/
// atlas_formats.md, section 3), or "" when nothing is.
std::string atlas_problems(const json& r) {
  std::string problems;
  auto need = [&](const char* key, bool ok) {
    if (!ok) problems += std::string(" ") + key;
  };
  auto integer = [&](const char* key) { need(key, r.contains(key) && r[key].is_number_integer()); };
  auto text = [&](const char* key) { need(key, r.contains(key) && r[key].is_string()); };
  integer("fw");
  need("af", r.contains("af") && (r["af"] == 4 || r["af"] == 6));
  text("dst_name");
  text("from");
  text("msm_name");
  text("proto");
  integer("msm_id");
  integer("prb_id");
  integer("timestamp");
  integer("size");
  need("type", r.contains("type") && (r["type"] == "ping" || r["type"] == "traceroute"));
  need("result", r.contains("result") && r["result"].is_array());
  if (!problems.empty()) return "missing or mistyped:" + problems;
  const bool failed = r["result"].size() == 1 && r["result"][0].contains("error");
  if (!failed) {
    text("dst_addr");
    text("src_addr");
  }
  if (r["type"] == "ping") {
    for (const char* key : {"sent", "rcvd", "dup"}) integer(key);
    for (const char* key : {"min", "avg", "max"}) need(key, r.contains(key) && r[key].is_number());
    if (!problems.empty()) return "ping fields:" + problems;
    unsigned replies = 0;
    for (const json& p : r["result"]) {
      const bool ok = (p.contains("rtt") && p["rtt"].is_number() && p["rtt"] >= 0) ||
                      (p.contains("x") && p["x"] == "*") ||
                      (p.contains("error") && p["error"].is_string());
      if (!ok) return "ping packet " + p.dump();
      if (p.contains("rtt") && !p.contains("dup")) ++replies;
    }
    if (r["rcvd"] != replies)
      return "rcvd " + r["rcvd"].dump() + " but " + std::to_string(replies) + " replies";
    if (replies == 0 && (r["min"] != -1 || r["avg"] != -1 || r["max"] != -1))
      return "min/avg/max not -1 on total loss";
    if (replies > 0 && !(r["min"] <= r["avg"] && r["avg"] <= r["max"]))
      return "min <= avg <= max fails";
    return "";
  }
  for (const char* key : {"paris_id", "endtime"}) integer(key);
  if (!problems.empty()) return "traceroute fields:" + problems;
  if (r["endtime"] < r["timestamp"]) return "endtime before timestamp";
  unsigned previous = 0;
  for (const json& hop : r["result"]) {
    if (hop.contains("error")) continue;
    if (!hop.contains("hop") || !hop["hop"].is_number_integer() || hop["hop"] <= previous ||
        !hop.contains("result") || !hop["result"].is_array())
      return "hop " + hop.dump();
    previous = hop["hop"];
    for (const json& p : hop["result"]) {
      if (p.contains("x") && p["x"] == "*") continue;
      if (!(p.contains("from") && p["from"].is_string() && p.contains("rtt") &&
            p["rtt"].is_number() && p.contains("size") && p["size"].is_number_integer() &&
            p.contains("ttl") && p["ttl"].is_number_integer()))
        return "hop reply " + p.dump();
    }
  }
  return "";
}

std::vector<json> parse_results(const std::string& out) {
  std::vector<json> results;
  for (const std::string& line : lines_of(out)) results.push_back(json::parse(line));
  return results;
}

class Campaign : public CampaignTestbed<Campaign> {
 public:
  static CampaignTestbedSetup testbed() {
    return {kTestbedIndex,
            "--routers " + std::to_string(kRouters),
            {"TESTBED_CONTAINER_NS", "TESTBED_GATEWAY", "TESTBED_TARGET", "TESTBED_TARGET6",
             "TESTBED_TARGET_NS", "TESTBED_UPLINK_ADDR", "TESTBED_UPLINK", "TESTBED_CHAIN_END",
             "TESTBED_CHAIN_END6", "TESTBED_ROUTER_ADDR_1"},
            "mtool-run-test"};
  }

 protected:
  std::string write_list(const std::string& name, const std::string& text) {
    const std::string path = dir_ + "/" + name;
    std::ofstream(path) << text;
    return path;
  }
  // The list every shape test runs: pings (v4, v6, a lost target), traceroutes by all three
  // protocols to the chain's end, and one to its IPv6 end.
  std::string standard_list() {
    const std::string target = bed_["TESTBED_TARGET"];
    const std::string end = bed_["TESTBED_CHAIN_END"];
    return write_list("list.json",
                      R"({"definitions": [
      {"type": "ping", "af": 4, "target": ")" +
                          target + R"(", "packets": 3, "packet_interval": 50, "msm_id": 42},
      {"type": "ping", "af": 6, "target": ")" +
                          bed_["TESTBED_TARGET6"] + R"(", "packets": 2, "packet_interval": 50},
      {"type": "traceroute", "af": 4, "target": ")" +
                          end + R"(", "protocol": "ICMP", "packets": 2},
      {"type": "traceroute", "af": 4, "target": ")" +
                          end + R"(", "protocol": "UDP", "packets": 2},
      {"type": "traceroute", "af": 4, "target": ")" +
                          end + R"(", "protocol": "TCP", "packets": 1},
      {"type": "traceroute", "af": 6, "target": ")" +
                          bed_["TESTBED_CHAIN_END6"] + R"(", "packets": 1}
    ]})");
  }
  // The one result of running `list` in the container (null, with a failure, otherwise),
  // checked against Atlas' format.
  static json only_result(const std::string& list) {
    const CommandResult r = run(in_container(list));
    if (r.exit_code != 0) {
      ADD_FAILURE() << "mtool run exited " << r.exit_code << ": " << r.err;
      return nullptr;
    }
    const auto results = parse_results(r.out);
    if (results.size() != 1) {
      ADD_FAILURE() << results.size() << " results:\n" << r.out;
      return nullptr;
    }
    EXPECT_EQ(atlas_problems(results[0]), "") << results[0].dump();
    return results[0];
  }
  static std::map<unsigned, json> by_msm(const std::vector<json>& results) {
    std::map<unsigned, json> out;
    for (const json& r : results) out[r["msm_id"].get<unsigned>()] = r;
    return out;
  }
};

TEST_F(Campaign, PingAndTracerouteResultsHaveAtlasShape) {
  const CommandResult r = run(in_container("--prb-id 7001 --pps 500 " + standard_list()));
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_EQ(r.err, "");  // not a terminal: no progress, and nothing went wrong
  const auto results = parse_results(r.out);
  ASSERT_EQ(results.size(), 6U) << r.out;
  for (const json& result : results) EXPECT_EQ(atlas_problems(result), "") << result.dump();
  auto msm = by_msm(results);
  // msm_id as given, else assigned from 1000000 + the index in the list.
  ASSERT_EQ(msm.count(42), 1U);
  for (unsigned id = 1000001; id <= 1000005; ++id) ASSERT_EQ(msm.count(id), 1U) << id;

  const json& ping = msm[42];
  EXPECT_EQ(ping["type"], "ping");
  EXPECT_EQ(ping["prb_id"], 7001);
  EXPECT_EQ(ping["dst_addr"], bed_["TESTBED_TARGET"]);
  EXPECT_EQ(ping["sent"], 3);
  EXPECT_EQ(ping["rcvd"], 3);
  EXPECT_EQ(ping["dup"], 0);
  EXPECT_GT(ping["min"].get<double>(), 0);
  EXPECT_TRUE(ping.contains("ttl"));
  EXPECT_EQ(msm[1000001]["af"], 6);
  EXPECT_EQ(msm[1000001]["rcvd"], 2);

  const std::vector<std::string> hops{bed_["TESTBED_GATEWAY"], bed_["TESTBED_TARGET"],
                                      bed_["TESTBED_ROUTER_ADDR_1"], bed_["TESTBED_CHAIN_END"]};
  for (unsigned id : {1000002U, 1000003U, 1000004U}) {
    const json& trace = msm[id];
    ASSERT_EQ(trace["result"].size(), hops.size()) << trace.dump();
    for (std::size_t h = 0; h < hops.size(); ++h) {
      EXPECT_EQ(trace["result"][h]["hop"], h + 1);
      for (const json& reply : trace["result"][h]["result"])
        EXPECT_EQ(reply["from"], hops[h]) << trace.dump();
    }
    // The destination's own answer carries no error code (a port unreachable from it ends a
    // UDP trace); every hop before it answered "time exceeded": no code either.
    for (const json& hop : trace["result"])
      for (const json& reply : hop["result"]) EXPECT_FALSE(reply.contains("err")) << reply.dump();
  }
  EXPECT_EQ(msm[1000002]["proto"], "ICMP");
  EXPECT_EQ(msm[1000003]["proto"], "UDP");
  EXPECT_EQ(msm[1000004]["proto"], "TCP");
  const json& trace6 = msm[1000005];
  ASSERT_FALSE(trace6["result"].empty());
  EXPECT_EQ(trace6["result"].back()["result"][0]["from"], bed_["TESTBED_CHAIN_END6"])
      << trace6.dump();
}

TEST_F(Campaign, WithTheCorrelatorEveryReplyIsCorrected) {
  ASSERT_TRUE(start_correlator());
  const CommandResult r = run(in_container("--pps 500 --breakdown " + standard_list(), true));
  ASSERT_EQ(r.exit_code, 0) << r.err;
  const auto results = parse_results(r.out);
  ASSERT_EQ(results.size(), 6U);
  unsigned replies = 0;
  for (const json& result : results) {
    EXPECT_EQ(atlas_problems(result), "") << result.dump();
    std::vector<std::pair<int, json>> answers;  // (hop, reply); hop 0 for a ping
    if (result["type"] == "ping") {
      for (const json& p : result["result"]) answers.emplace_back(0, p);
      EXPECT_TRUE(result["mtool"]["corrected"]["avg"].is_number()) << result.dump();
    } else {
      for (const json& hop : result["result"])
        for (const json& p : hop["result"]) answers.emplace_back(hop["hop"].get<int>(), p);
      EXPECT_EQ(result["mtool"]["corrected_replies"], result["mtool"]["replies_beyond_host"]);
    }
    for (const auto& [hop, p] : answers) {
      ASSERT_TRUE(p.contains("rtt")) << p.dump();
      ++replies;
      ASSERT_TRUE(p.contains("overhead")) << p.dump();
      EXPECT_TRUE(p.contains("breakdown")) << p.dump();
      if (p.contains("inside_host")) {
        EXPECT_EQ(hop, 1) << "only the host's own gateway answers inside it: " << result.dump();
        continue;
      }
      ASSERT_TRUE(p.contains("rtt_corrected")) << p.dump();
      EXPECT_GT(p["rtt_corrected"].get<double>(), 0) << p.dump();
      EXPECT_LE(p["rtt_corrected"].get<double>(), p["rtt"].get<double>() + 1e-6) << p.dump();
    }
  }
  EXPECT_GE(replies, 20U);
}

TEST_F(Campaign, SigintLosesNoCompletedResult) {
  // Forty pings of 16 packets, 100 ms apart, four at a time: about 16 s in all. Interrupted
  // after the first results, every result written must be whole and the count said must match.
  std::string list;
  for (int i = 0; i < 40; ++i)
    list += R"({"type": "ping", "target": ")" + bed_["TESTBED_TARGET"] +
            R"(", "packets": 16, "packet_interval": 100})" + "\n";
  const std::string path = write_list("long.jsonl", list);
  const std::string out = dir_ + "/results.jsonl";
  Background campaign(in_container("--concurrency 4 --out " + out + " " + path), "campaign");
  ASSERT_TRUE(campaign.started());
  ASSERT_TRUE(wait_until([&] { return lines_of(slurp(out)).size() >= 4; }, milliseconds(20000)))
      << campaign.err();
  const auto code = campaign.stop(SIGINT);
  EXPECT_EQ(code, std::optional<int>(128 + SIGINT)) << campaign.err();
  const auto results = parse_results(slurp(out));  // throws on a torn line
  EXPECT_GE(results.size(), 4U);
  EXPECT_LT(results.size(), 40U);
  for (const json& result : results) {
    EXPECT_EQ(atlas_problems(result), "") << result.dump();
    EXPECT_EQ(result["sent"], 16);
  }
  const std::string said =
      "stopped by SIGINT: " + std::to_string(results.size()) + " results written";
  EXPECT_NE(campaign.err().find(said), std::string::npos) << campaign.err();
}

TEST_F(Campaign, DuplicatesAndErrorsAreListedAsAtlasDoes) {
  const std::string target = bed_["TESTBED_TARGET"];
  const std::string list =
      write_list("two.json", R"([{"type": "ping", "target": ")" + target +
                                 R"(", "packets": 4, "packet_interval": 50}])");
  {
    // The target sends every reply twice: TEE clones it towards the host, which passes it on.
    const ScopedRule tee(bed_["TESTBED_TARGET_NS"],
                         "POSTROUTING -t mangle -p icmp --icmp-type echo-reply -j TEE --gateway " +
                             bed_["TESTBED_UPLINK_ADDR"]);
    ASSERT_TRUE(tee.added()) << tee.error();
    const json ping = only_result(list);
    ASSERT_TRUE(ping.is_object());
    EXPECT_EQ(ping["rcvd"], 4) << ping.dump();
    EXPECT_GE(ping["dup"].get<int>(), 1) << ping.dump();
    // Each duplicate follows its original; statistics leave them out.
    double max_original = 0;
    for (std::size_t i = 0; i < ping["result"].size(); ++i) {
      const json& p = ping["result"][i];
      if (p.contains("dup")) {
        EXPECT_EQ(p["dup"], 1);
        ASSERT_GT(i, 0U);
      } else {
        max_original = std::max(max_original, p["rtt"].get<double>());
      }
    }
    EXPECT_DOUBLE_EQ(ping["max"].get<double>(), max_original) << ping.dump();
  }
  {
    const ScopedRule reject(
        bed_["TESTBED_TARGET_NS"],
        "INPUT -p icmp --icmp-type echo-request -j REJECT --reject-with icmp-host-unreachable");
    ASSERT_TRUE(reject.added()) << reject.error();
    const json ping = only_result(list);
    ASSERT_TRUE(ping.is_object());
    EXPECT_EQ(ping["sent"], 4);
    EXPECT_EQ(ping["rcvd"], 0);
    EXPECT_EQ(ping["min"], -1);
    ASSERT_EQ(ping["result"].size(), 4U) << ping.dump();
    for (const json& p : ping["result"])
      EXPECT_EQ(p.value("error", ""), "Destination Host Unreachable from " + target) << ping.dump();
  }
}

TEST_F(Campaign, MalformedListsGetOneLineErrorsAndRunNothing) {
  struct Case {
    std::string text;
    std::string message;  // part of the one line on stderr
  };
  const std::vector<Case> cases{
      {"{\"definitions\": [", "not JSON"},
      {"", "no definitions"},
      {"[]", "no definitions"},
      {R"([{"type": "ping", "target": "198.19.7.2", "packets": "3"}])",
       "definition 0: field 'packets': must be an integer"},
      {R"([{"type": "ping", "target": "198.19.7.2", "packets": 1e30}])",
       "definition 0: field 'packets'"},
      {R"([{"type": "ping", "target": "198.19.7.2", "packets": 99999999999999999999}])",
       "definition 0: field 'packets'"},
      {R"([{"type": "ping", "target": "198.19.7.2"}, {"type": "dns", "target": "x"}])",
       "definition 1: field 'type'"},
      {R"([{"type": "ping", "target": "198.19.7.2", "colour": "red"}])",
       "definition 0: field 'colour'"},
  };
  for (std::size_t i = 0; i < cases.size(); ++i) {
    const std::string path = write_list("bad" + std::to_string(i) + ".json", cases[i].text);
    const CommandResult r = run(in_container(path));
    EXPECT_EQ(r.exit_code, 2) << cases[i].text << "\n" << r.err;
    EXPECT_EQ(r.out, "") << cases[i].text;
    EXPECT_NE(r.err.find(cases[i].message), std::string::npos) << cases[i].text << "\n" << r.err;
    for (const std::string& line : lines_of(r.err))
      EXPECT_EQ(line.rfind("mtool run: ", 0), 0U) << line;
  }
  const CommandResult missing = run(in_container(dir_ + "/no-such-list.json"));
  EXPECT_EQ(missing.exit_code, 2);
  EXPECT_NE(missing.err.find("cannot read"), std::string::npos) << missing.err;
  const CommandResult usage = run(in_container("--pps 0 " + standard_list()));
  EXPECT_EQ(usage.exit_code, 2);
  EXPECT_EQ(usage.out, "");
}

TEST_F(Campaign, KeepGoingRunsTheValidDefinitionsAndSaysSo) {
  const std::string path = write_list("mixed.json", R"([
    {"type": "ping", "target": ")" + bed_["TESTBED_TARGET"] +
                                                        R"(", "packets": 1},
    {"type": "ping", "target": ")" + bed_["TESTBED_TARGET"] +
                                                        R"(", "packets": 17},
    {"type": "ping", "target": "no-such-host.invalid", "packets": 1}
  ])");
  const CommandResult r = run(in_container("--keep-going " + path));
  EXPECT_EQ(r.exit_code, 1) << r.err;
  EXPECT_NE(r.err.find("definition 1: field 'packets': 17 is out of range (1..16)"),
            std::string::npos)
      << r.err;
  const auto results = parse_results(r.out);
  ASSERT_EQ(results.size(), 2U) << r.out;
  auto msm = by_msm(results);
  EXPECT_EQ(msm[1000000]["rcvd"], 1);
  // An unresolvable target is Atlas' error-only result, not a failure of the campaign.
  const json& unresolved = msm[1000002];
  EXPECT_EQ(atlas_problems(unresolved), "") << unresolved.dump();
  ASSERT_EQ(unresolved["result"].size(), 1U);
  EXPECT_NE(unresolved["result"][0]["error"].get<std::string>().find("name resolution failed"),
            std::string::npos);
}

// The capability sets of a running process, from /proc (CapPrm, CapEff), or "" when it is gone.
std::string capability_sets(pid_t pid) {
  std::string sets;
  for (const std::string& line : lines_of(slurp("/proc/" + std::to_string(pid) + "/status"))) {
    if (line.rfind("CapPrm:", 0) == 0 || line.rfind("CapEff:", 0) == 0) sets += line + " ";
  }
  return sets;
}

TEST_F(Campaign, HostileListsGetOneLineErrorsNotCrashes) {
  const std::string target = bed_["TESTBED_TARGET"];
  const std::string ping = R"({"type": "ping", "target": ")" + target + R"(", "packets": 1})";
  std::string nul = "[" + ping + "]";
  nul += '\0';
  nul += "[" + ping + "]";
  struct Case {
    std::string text;
    std::string message;
  };
  const std::vector<Case> cases{
      // One object with a field nested 100,000 deep: a stack overflow (SIGSEGV) before.
      {R"({"type":"ping","af":4,"target":")" + target + R"(","tags":)" + std::string(100000, '[') +
           std::string(100000, ']') + "}",
       "list: nested deeper than 64 levels at line 1 (offset "},
      // A NUL byte ended the list silently.
      {nul, "list: a NUL byte at line 1 (offset "},
      // ... and inside a string it cut the target short: this pinged 127.0.0.1.
      {R"([{"type": "ping", "target": "127.0.0.1\u0000evil", "packets": 1}])",
       R"(definition 0: field 'target': contains a control character (\x00))"},
      {R"([{"type": "ping", "target": ")" + target + R"(", "packets": 1, "packets": 16}])",
       "definition 0: field 'packets': appears more than once"},
      // Control characters quoted from the list reach the terminal escaped.
      {R"([{"type": "ping", "target": ")" + target + R"(", "\u001b[2J\u001b]0;owned\u0007": 1}])",
       R"(definition 0: field '\x1b[2J\x1b]0;owned\x07': is not a ping definition field)"},
  };
  for (std::size_t i = 0; i < cases.size(); ++i) {
    const std::string path = write_list("hostile" + std::to_string(i) + ".json", cases[i].text);
    const CommandResult r = run(in_container(path));
    EXPECT_EQ(r.exit_code, 2) << i << "\n" << r.err;
    EXPECT_EQ(r.out, "") << i;
    EXPECT_NE(r.err.find(cases[i].message), std::string::npos) << i << "\n" << r.err;
    for (const std::string& line : lines_of(r.err))
      EXPECT_EQ(line.rfind("mtool run: ", 0), 0U) << line;
    EXPECT_EQ(r.err.find('\x1b'), std::string::npos) << i;
    EXPECT_EQ(r.err.find('\x07'), std::string::npos) << i;
  }
}

TEST_F(Campaign, ListsAreBoundedInSize) {
  // 17 MiB of valid JSON lines: beyond the 16 MiB default, refused before it is parsed.
  const std::string line =
      R"({"type": "ping", "target": ")" + bed_["TESTBED_TARGET"] + R"(", "packets": 1})" + "\n";
  std::string big;
  while (big.size() <= (17U << 20)) big += line;
  const std::string path = write_list("big.jsonl", big);
  CommandResult r = run(in_container("--validate " + path));
  EXPECT_EQ(r.exit_code, 2) << r.err;
  EXPECT_EQ(r.err, "mtool run: " + path + " is larger than 16 MiB (--max-list-size)\n");
  r = run(in_container("--validate --max-list-size 32 " + path));
  EXPECT_EQ(r.exit_code, 0) << r.err;
  r = run(in_container("--validate --max-list-size 0 " + path));
  EXPECT_EQ(r.exit_code, 2) << r.err;
  // An endless input ends at the bound too, from a file or from standard input.
  r = run(in_container("/dev/zero"));
  EXPECT_EQ(r.exit_code, 2) << r.err;
  EXPECT_EQ(r.err, "mtool run: /dev/zero is larger than 16 MiB (--max-list-size)\n");
  r = run(in_container("- < /dev/zero"));
  EXPECT_EQ(r.exit_code, 2) << r.err;
  EXPECT_EQ(r.err, "mtool run: standard input is larger than 16 MiB (--max-list-size)\n");
}

TEST_F(Campaign, BadArgumentsAreRefusedNotWrapped) {
  const std::string two = write_list(
      "two.json", R"([{"type": "ping", "target": "a"}, {"type": "ping", "target": "b"}])");
  // A directory used to be an empty list.
  CommandResult r = run(in_container(dir_));
  EXPECT_EQ(r.exit_code, 2) << r.err;
  EXPECT_EQ(r.err, "mtool run: " + dir_ + " is a directory, not a measurement list\n");
  // -1 used to become 4294967295, as MTOOL_PRB_ID=-1 never did.
  for (const char* id : {"-1", "4294967296", "12x", ""}) {
    r = run(in_container(std::string("--validate --prb-id '") + id + "' " + two));
    EXPECT_EQ(r.exit_code, 2) << id << ": " << r.err;
    EXPECT_EQ(r.err, std::string("mtool run: --prb-id is not a probe id: ") + id + "\n");
    r = run("MTOOL_PRB_ID='" + std::string(id) + "' " + in_container("--validate " + two));
    EXPECT_EQ(r.exit_code, 2) << id << ": " << r.err;
  }
  r = run(in_container("--validate --prb-id 4294967295 " + two));
  EXPECT_EQ(r.exit_code, 0) << r.err;
  // msm_id = --first-msm-id + index: 4294967295 + 1 used to wrap to 0.
  r = run(in_container("--validate --first-msm-id 4294967295 " + two));
  EXPECT_EQ(r.exit_code, 2) << r.err;
  EXPECT_EQ(r.err,
            "mtool run: --first-msm-id 4294967295 leaves no room for definition 1 (msm_ids end at "
            "4294967295)\n");
  r = run(in_container("--validate --first-msm-id 4294967294 " + two));
  EXPECT_EQ(r.exit_code, 0) << r.err;
  r = run(in_container("--validate --first-msm-id -1 " + two));
  EXPECT_EQ(r.exit_code, 2) << r.err;
  EXPECT_EQ(r.err, "mtool run: --first-msm-id is not a measurement id: -1\n");
}

TEST_F(Campaign, CapabilitiesAreDroppedOnceTheSharedSocketsAreOpen) {
  const std::string target = bed_["TESTBED_TARGET"];
  const std::string ping1 =
      R"({"type": "ping", "target": ")" + target + R"(", "packets": 1})" + "\n";
  const std::string ping16 = R"({"type": "ping", "target": ")" + target +
                             R"(", "packets": 16, "packet_interval": 100})" + "\n";
  const std::string tcp = R"({"type": "traceroute", "target": ")" + bed_["TESTBED_CHAIN_END"] +
                          R"(", "protocol": "TCP", "packets": 1})" + "\n";
  struct Case {
    std::string list;
    std::string sets;  // while the second ping runs
  };
  // Root has every capability; a campaign keeps none, or CAP_NET_RAW (bit 13) permitted but not
  // effective while a TCP traceroute still has to open its raw socket.
  const std::vector<Case> cases{
      {ping1 + ping16, "CapPrm:\t0000000000000000 CapEff:\t0000000000000000 "},
      {ping1 + ping16 + tcp, "CapPrm:\t0000000000002000 CapEff:\t0000000000000000 "},
  };
  for (std::size_t i = 0; i < cases.size(); ++i) {
    const std::string path = write_list("caps" + std::to_string(i) + ".jsonl", cases[i].list);
    const std::string out = dir_ + "/caps" + std::to_string(i) + ".out";
    Background campaign("exec " + in_container("--concurrency 1 --out " + out + " " + path),
                        "caps");
    ASSERT_TRUE(campaign.started());
    ASSERT_TRUE(wait_until([&] { return !lines_of(slurp(out)).empty(); }, milliseconds(10000)))
        << campaign.err();
    EXPECT_EQ(capability_sets(campaign.pid()), cases[i].sets) << i;
    ASSERT_EQ(campaign.wait(milliseconds(20000)), std::optional<int>(0)) << campaign.err();
    const auto results = parse_results(slurp(out));
    ASSERT_EQ(results.size(), i == 0 ? 2U : 3U);
    if (i == 1) {  // the raw socket opened after the drop, and the trace reached its end
      const json& trace = results[2];
      EXPECT_EQ(atlas_problems(trace), "") << trace.dump();
      ASSERT_FALSE(trace["result"].empty()) << trace.dump();
      EXPECT_EQ(trace["result"].back()["result"][0].value("from", ""), bed_["TESTBED_CHAIN_END"])
          << trace.dump();
    }
  }
}

TEST_F(Campaign, WithoutCapNetRawTcpTracesAreRefusedUpFront) {
  const std::string end = bed_["TESTBED_CHAIN_END"];
  const std::string path = write_list("traces.json", R"([
    {"type": "traceroute", "target": ")" + end + R"(", "protocol": "UDP", "packets": 1},
    {"type": "traceroute", "target": ")" + end + R"(", "protocol": "TCP", "packets": 1}
  ])");
  // As the image's uid 10001 without its file capability: no capability at all.
  const std::string unprivileged =
      "ip netns exec " + bed_["TESTBED_CONTAINER_NS"] +
      " setpriv --reuid 10001 --regid 10001 --clear-groups --inh-caps=-all"
      " env MTOOL_CORRELATOR=off " +
      mtool_binary() + " run ";
  const std::string refused =
      "mtool run: definition 1: field 'protocol': TCP needs a raw socket (CAP_NET_RAW), which "
      "mtool run does not have\n";
  CommandResult r = run(unprivileged + "- < " + path);
  EXPECT_EQ(r.exit_code, 2) << r.err;
  EXPECT_EQ(r.out, "");
  EXPECT_EQ(r.err, refused +
                       "mtool run: 1 of 2 definitions are invalid; nothing was run (--keep-going "
                       "runs the rest)\n");
  r = run(unprivileged + "--keep-going - < " + path);
  EXPECT_EQ(r.exit_code, 1) << r.err;
  EXPECT_EQ(r.err, refused);
  const auto results = parse_results(r.out);
  ASSERT_EQ(results.size(), 1U) << r.out;
  EXPECT_EQ(results[0]["proto"], "UDP");
  EXPECT_EQ(atlas_problems(results[0]), "") << results[0].dump();
  ASSERT_FALSE(results[0]["result"].empty());
  EXPECT_EQ(results[0]["result"].back()["result"][0].value("from", ""), end) << results[0].dump();
  // Validating the list needs no capability.
  r = run(unprivileged + "--validate - < " + path);
  EXPECT_EQ(r.exit_code, 0) << r.err;
}

}  // namespace
}  // namespace mtool::testing
