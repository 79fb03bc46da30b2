// The traceroute command line against Butskoy 2.1.2's: values, defaults, and its parser's
// exact diagnostics (samples in ../shared/conventions/traceroute_annot_err_samples.txt).
#include "trace/trace_options.h"

#include <gtest/gtest.h>

#include <cmath>
#include <string>
#include <vector>

namespace mtool::trace {
namespace {

ParseResult parse(std::vector<std::string> args) {
  args.insert(args.begin(), "traceroute");
  return parse_trace_options(args);
}

std::string error_of(std::vector<std::string> args) {
  auto r = parse(std::move(args));
  if (r.outcome == ParseOutcome::kError) return r.error;
  if (auto problem = validate_trace_options(r.options)) return *problem;
  return "";
}

TEST(TraceOptions, DefaultsAreButskoys) {
  auto r = parse({"198.18.0.1"});
  ASSERT_EQ(r.outcome, ParseOutcome::kRun);
  const auto& o = r.options;
  EXPECT_EQ(o.host, "198.18.0.1");
  EXPECT_EQ(o.method, TraceMethod::kUdp);
  EXPECT_EQ(o.first_hop, 1U);
  EXPECT_EQ(o.max_hops, 30U);
  EXPECT_EQ(o.probes_per_hop, 3U);
  EXPECT_EQ(o.sim_probes, 16U);
  EXPECT_DOUBLE_EQ(o.wait_max_s, 5.0);
  EXPECT_DOUBLE_EQ(o.wait_here, 3.0);
  EXPECT_DOUBLE_EQ(o.wait_near, 10.0);
  EXPECT_EQ(o.packet_length, -1);
  EXPECT_TRUE(o.correction);
}

TEST(TraceOptions, ShortOptionsClusterAndJoinTheirValues) {
  auto r = parse({"-nI", "-q1", "-m", "5", "-w", "1,2,3", "-N", "4", "-f2", "198.18.0.1", "100"});
  ASSERT_EQ(r.outcome, ParseOutcome::kRun) << r.error;
  EXPECT_TRUE(r.options.numeric);
  EXPECT_EQ(r.options.method, TraceMethod::kIcmp);
  EXPECT_EQ(r.options.probes_per_hop, 1U);
  EXPECT_EQ(r.options.max_hops, 5U);
  EXPECT_EQ(r.options.sim_probes, 4U);
  EXPECT_EQ(r.options.first_hop, 2U);
  EXPECT_DOUBLE_EQ(r.options.wait_max_s, 1);
  EXPECT_DOUBLE_EQ(r.options.wait_here, 2);
  EXPECT_DOUBLE_EQ(r.options.wait_near, 3);
  EXPECT_EQ(r.options.packet_length, 100);
}

TEST(TraceOptions, WaitWithOneValueTurnsTheFactorsOff) {
  auto r = parse({"-w", "2.5", "198.18.0.1"});
  ASSERT_EQ(r.outcome, ParseOutcome::kRun);
  EXPECT_DOUBLE_EQ(r.options.wait_max_s, 2.5);
  EXPECT_DOUBLE_EQ(r.options.wait_here, 0);
  EXPECT_DOUBLE_EQ(r.options.wait_near, 0);
}

TEST(TraceOptions, LongOptionsTakeValuesAfterEquals) {
  auto r =
      parse({"--queries=2", "--max-hops=7", "--tcp", "--port=443", "--sport=4000", "198.18.0.1"});
  ASSERT_EQ(r.outcome, ParseOutcome::kRun) << r.error;
  EXPECT_EQ(r.options.probes_per_hop, 2U);
  EXPECT_EQ(r.options.max_hops, 7U);
  EXPECT_EQ(r.options.method, TraceMethod::kTcp);
  EXPECT_EQ(r.options.port, 443U);
  ASSERT_FALSE(validate_trace_options(r.options));
  EXPECT_EQ(r.options.sim_probes, 1U);  // --sport implies -N 1
}

TEST(TraceOptions, MethodsAndModules) {
  EXPECT_EQ(parse({"-U", "h"}).options.method, TraceMethod::kUdpFixed);
  EXPECT_EQ(parse({"-T", "h"}).options.method, TraceMethod::kTcp);
  EXPECT_EQ(parse({"-M", "icmp", "h"}).options.method, TraceMethod::kIcmp);
  EXPECT_EQ(parse({"-M", "default", "-I", "h"}).options.method, TraceMethod::kIcmp);
  EXPECT_EQ(error_of({"-M", "foo", "h"}), "Unknown traceroute module foo");
  EXPECT_EQ(error_of({"-M", "dccp", "h"}), "-M dccp is not supported by mtool traceroute");
}

TEST(TraceOptions, ProgramNameChoosesDefaults) {
  EXPECT_EQ(parse_trace_options({"traceroute6", "h"}).options.family, AF_INET6);
  EXPECT_EQ(parse_trace_options({"/usr/bin/tcptraceroute", "h"}).options.method, TraceMethod::kTcp);
  EXPECT_EQ(parse_trace_options({"tracert", "h"}).options.method, TraceMethod::kIcmp);
}

TEST(TraceOptions, ErrorsReadAsButskoys) {
  EXPECT_EQ(error_of({"-Z", "127.0.0.1"}), "Bad option `-Z' (argc 1)");
  EXPECT_EQ(error_of({"-q"}), "Option `-q' (argc 1) requires an argument: `-q nqueries'");
  EXPECT_EQ(error_of({"-q", "abc", "127.0.0.1"}),
            "Cannot handle `-q' option with arg `abc' (argc 2)");
  EXPECT_EQ(error_of({"-nq1", "127.0.0.1"}),
            "Option `-q' (argc 1) requires an argument: `-q nqueries'");
  EXPECT_EQ(error_of({"--xyz=3", "127.0.0.1"}), "Bad option `--xyz=3' (with arg `3') (argc 1)");
  EXPECT_EQ(error_of({"--queries", "127.0.0.1"}),
            "Option `--queries' (argc 1) requires an argument: `--queries=nqueries'");
  EXPECT_EQ(error_of({"--que", "2", "127.0.0.1"}), "Bad option `--que' (argc 1)");
  EXPECT_EQ(error_of({"-n", "127.0.0.1", "60", "extra"}), "Extra arg `extra' (position 3, argc 4)");
  EXPECT_EQ(error_of({"-n", "127.0.0.1", "abc"}),
            "Cannot handle \"packetlen\" cmdline arg `abc' on position 2 (argc 3)");
  EXPECT_EQ(error_of({"-n"}), "Specify \"host\" missing argument.");
}

TEST(TraceOptions, RangeChecksInButskoysOrder) {
  EXPECT_EQ(error_of({"-m", "0", "h"}), "first hop out of range");
  EXPECT_EQ(error_of({"-f", "31", "h"}), "first hop out of range");
  EXPECT_EQ(error_of({"-m", "300", "h"}), "max hops cannot be more than 255");
  EXPECT_EQ(error_of({"-q", "0", "h"}), "no more than 10 probes per hop");
  EXPECT_EQ(error_of({"-q", "11", "h"}), "no more than 10 probes per hop");
  EXPECT_EQ(error_of({"-w", "-1", "h"}), "bad wait specifications `-1,0,0' used");
  EXPECT_EQ(error_of({"h", "70000"}), "too big packetlen 70000 specified");
  EXPECT_EQ(error_of({"-z", "-1", "h"}), "bad sendtime `-1' specified");
  EXPECT_EQ(error_of({"-q", "10", "-m", "255", "h"}), "");
}

TEST(TraceOptions, SendWaitAboveTenIsMilliseconds) {
  auto r = parse({"-z", "50", "h"});
  ASSERT_FALSE(validate_trace_options(r.options));
  EXPECT_DOUBLE_EQ(r.options.send_wait_s, 0.05);
  r = parse({"-z", "0.5", "h"});
  ASSERT_FALSE(validate_trace_options(r.options));
  EXPECT_DOUBLE_EQ(r.options.send_wait_s, 0.5);
}

// Butskoy takes any double for -w and -z: NaN, inf and 1e308 wait for ever (its poll() gets an
// int it cannot represent), NaN factors always give MAX, -z NaN never waits. The scheduler
// turns each into 64-bit nanoseconds (and a factor into RTT x factor): all must stay in range.
TEST(TraceOptions, NonFiniteAndHugeWaitsStayInRange) {
  constexpr double kForever = 1e9;
  const struct {
    std::vector<std::string> args;
    double max, here, near, send;
  } cases[] = {
      {{"-w", "nan"}, kForever, 0, 0, 0},    {{"-w", "-nan"}, kForever, 0, 0, 0},
      {{"-w", "inf"}, kForever, 0, 0, 0},    {{"-w", "1e308"}, kForever, 0, 0, 0},
      {{"-w", "2e9"}, kForever, 0, 0, 0},    {{"-w", "5,nan,inf"}, 5, 5000, 5000, 0},
      {{"-w", "5,1e308,2"}, 5, 5000, 2, 0},  {{"-w", "inf,nan,1e300"}, kForever, 1e6, 1e6, 0},
      {{"-w", "0.5,3,10"}, 0.5, 3, 10, 0},   {{"-w", "0,3,10"}, 0, 0, 0, 0},
      {{"-z", "nan"}, 5, 3, 10, 0},          {{"-z", "inf"}, 5, 3, 10, kForever},
      {{"-z", "1e308"}, 5, 3, 10, kForever}, {{"-z", "-0"}, 5, 3, 10, 0},
  };
  for (const auto& c : cases) {
    std::vector<std::string> args = c.args;
    args.push_back("h");
    auto r = parse(args);
    const std::string line = args[0] + " " + args[1];
    ASSERT_EQ(r.outcome, ParseOutcome::kRun) << line;
    ASSERT_FALSE(validate_trace_options(r.options)) << line;
    const TraceOptions& o = r.options;
    EXPECT_DOUBLE_EQ(o.wait_max_s, c.max) << line;
    EXPECT_DOUBLE_EQ(o.wait_here, c.here) << line;
    EXPECT_DOUBLE_EQ(o.wait_near, c.near) << line;
    EXPECT_DOUBLE_EQ(o.send_wait_s, c.send) << line;
    for (const double seconds : {o.wait_max_s, o.send_wait_s}) {
      EXPECT_TRUE(std::isfinite(seconds) && seconds * 1e9 < 0x1p62) << line;
    }
    for (const double factor : {o.wait_here, o.wait_near}) {
      EXPECT_TRUE(std::isfinite(factor) && factor <= 1e6) << line;
    }
  }
  EXPECT_EQ(error_of({"-w", "-inf", "h"}), "bad wait specifications `-inf,0,0' used");
  EXPECT_EQ(error_of({"-w", "nan,-1", "h"}), "bad wait specifications `nan,-1,0' used");
  EXPECT_EQ(error_of({"-z", "-inf", "h"}), "bad sendtime `-inf' specified");
}

TEST(TraceOptions, HelpVersionAndEmpty) {
  EXPECT_EQ(parse({"--help"}).outcome, ParseOutcome::kHelp);
  EXPECT_EQ(parse({"-V"}).outcome, ParseOutcome::kVersion);
  EXPECT_EQ(parse_trace_options({"traceroute"}).outcome, ParseOutcome::kHelp);
  EXPECT_EQ(std::string(trace_usage_text()).rfind("Usage:\n  traceroute [ -46dFITnreAUDV ]", 0),
            0U);
}

TEST(TraceOptions, UnsupportedOptionsSaySo) {
  EXPECT_EQ(error_of({"-A", "h"}),
            "-A (AS path lookups query remote whois servers) is not supported by mtool traceroute");
  EXPECT_EQ(error_of({"--mtu", "h"}),
            "--mtu (path MTU discovery) is not supported by mtool traceroute");
  EXPECT_EQ(error_of({"-UL", "h"}), "-UL (UDPLITE) is not supported by mtool traceroute");
}

TEST(TraceOptions, MtoolAdditions) {
  auto r = parse({"--no-correction", "--breakdown", "h"});
  ASSERT_EQ(r.outcome, ParseOutcome::kRun);
  EXPECT_FALSE(r.options.correction);
  EXPECT_TRUE(r.options.breakdown);
}

// --paris is mtool's, a long option only (Butskoy's letters keep their meaning), with an
// optional ID; UDP's port + ID must stay a port.
TEST(TraceOptions, ParisTakesAnOptionalFlowId) {
  auto bare = parse({"--paris", "198.18.0.1"});
  ASSERT_EQ(bare.outcome, ParseOutcome::kRun) << bare.error;
  EXPECT_EQ(bare.options.paris, std::optional<unsigned>(0));
  auto with_id = parse({"--paris=7", "-I", "198.18.0.1"});
  ASSERT_EQ(with_id.outcome, ParseOutcome::kRun) << with_id.error;
  EXPECT_EQ(with_id.options.paris, std::optional<unsigned>(7));
  EXPECT_EQ(parse({"198.18.0.1"}).options.paris, std::nullopt);
  EXPECT_EQ(error_of({"--paris=x", "198.18.0.1"}),
            "Cannot handle `--paris' option with arg `x' (argc 1)");
  EXPECT_EQ(error_of({"--paris=65536", "198.18.0.1"}),
            "Cannot handle `--paris' option with arg `65536' (argc 1)");
  EXPECT_EQ(error_of({"--paris=32102", "198.18.0.1"}),
            "--paris=32102: port 33434 + ID is past 65535");
  EXPECT_EQ(error_of({"--paris=32101", "198.18.0.1"}), "");
  EXPECT_EQ(error_of({"--paris=65535", "-T", "198.18.0.1"}), "");
}

// --mda[=CONFIDENCE], --mda-seed=N and --json are mtool's long options: a confidence strictly
// between 0 and 100, a seed that is a whole number, and neither without --mda.
TEST(TraceOptions, MultipathDiscoveryOptions) {
  auto bare = parse({"--mda", "198.18.0.1"});
  ASSERT_EQ(bare.outcome, ParseOutcome::kRun);
  EXPECT_EQ(bare.options.mda, std::optional<double>(95));
  EXPECT_EQ(bare.options.mda_seed, std::nullopt);
  auto full = parse({"--mda=99.5", "--mda-seed=12", "--json", "-T", "198.18.0.1"});
  ASSERT_EQ(full.outcome, ParseOutcome::kRun) << full.error;
  EXPECT_EQ(full.options.mda, std::optional<double>(99.5));
  EXPECT_EQ(full.options.mda_seed, std::optional<std::uint64_t>(12));
  EXPECT_TRUE(full.options.json);
  EXPECT_EQ(error_of({"--mda", "198.18.0.1"}), "");
  for (const char* bad : {"0", "100", "-5", "x", "95%", "nan"}) {
    EXPECT_EQ(error_of({std::string("--mda=") + bad, "198.18.0.1"}),
              std::string("Cannot handle `--mda' option with arg `") + bad + "' (argc 1)");
  }
  EXPECT_EQ(error_of({"--mda", "--mda-seed=-1", "198.18.0.1"}),
            "Cannot handle `--mda-seed' option with arg `-1' (argc 2)");
  EXPECT_EQ(error_of({"--mda", "--mda-seed=99999999999999999999", "198.18.0.1"}),
            "Cannot handle `--mda-seed' option with arg `99999999999999999999' (argc 2)");
  EXPECT_EQ(error_of({"--mda", "--paris", "198.18.0.1"}),
            "--mda and --paris exclude each other: --mda chooses its own flows");
  EXPECT_EQ(error_of({"--json", "198.18.0.1"}),
            "--json needs --mda (a plain trace prints Butskoy's text)");
  EXPECT_EQ(error_of({"--mda-seed=3", "198.18.0.1"}), "--mda-seed needs --mda");
  EXPECT_EQ(error_of({"--mda", "-p", "65535", "198.18.0.1"}),
            "--mda: port 65535 leaves no flow to use");
}

}  // namespace
}  // namespace mtool::trace
