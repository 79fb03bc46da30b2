// parse_ping_options against iputils ping 20221126: every message and exit code below was
// checked against /usr/bin/ping 20221126 (the message is what follows "ping: ").
#include "ping/ping_options.h"

#include <gtest/gtest.h>
#include <sys/socket.h>

#include <climits>
#include <initializer_list>
#include <ostream>
#include <string>
#include <vector>

#include "util/error.h"

namespace mtool::ping {
namespace {

std::vector<std::string> argv_of(std::initializer_list<std::string> args) {
  std::vector<std::string> v{"ping"};
  v.insert(v.end(), args.begin(), args.end());
  return v;
}

ParseResult parse(std::initializer_list<std::string> args, uid_t uid = 0) {
  return parse_ping_options(argv_of(args), uid);
}

struct Failure {
  std::string message;
  int exit_code = -1;
  bool show_usage = false;
};

Failure failure_of(const std::vector<std::string>& argv, uid_t uid = 0) {
  try {
    parse_ping_options(argv, uid);
  } catch (const FatalError& e) {
    return {e.what(), e.exit_code(), e.show_usage()};
  }
  ADD_FAILURE() << "parsing succeeded but an error was expected";
  return {"<no error>", -1, false};
}

Failure failure_of(std::initializer_list<std::string> args, uid_t uid = 0) {
  return failure_of(argv_of(args), uid);
}

// ---------------------------------------------------------------------------------------------
// Errors, table-driven.

struct ErrorCase {
  std::vector<std::string> args;  // without argv[0]
  std::string message;
  int exit_code;
  bool show_usage;
};

void PrintTo(const ErrorCase& c, std::ostream* os) {
  *os << "ping";
  for (const auto& a : c.args) *os << " '" << a << "'";
}

class PingOptionErrors : public ::testing::TestWithParam<ErrorCase> {};

TEST_P(PingOptionErrors, MessageAndExitCodeMatchIputils) {
  const ErrorCase& c = GetParam();
  std::vector<std::string> argv{"ping"};
  argv.insert(argv.end(), c.args.begin(), c.args.end());
  const Failure f = failure_of(argv);
  EXPECT_EQ(f.message, c.message);
  EXPECT_EQ(f.exit_code, c.exit_code);
  EXPECT_EQ(f.show_usage, c.show_usage);
}

const std::string kLongMax = "9223372036854775807";

INSTANTIATE_TEST_SUITE_P(
    Iputils20221126, PingOptionErrors,
    ::testing::Values(
        // strtol_or_err: exit 1, "invalid argument: '<text>'[: reason]".
        ErrorCase{{"-c", "0", "host"},
                  "invalid argument: '0': out of range: 1 <= value <= " + kLongMax,
                  1,
                  false},
        ErrorCase{{"-c", "abc", "host"}, "invalid argument: 'abc'", 1, false},
        ErrorCase{{"-c", "", "host"}, "invalid argument: ''", 1, false},
        ErrorCase{{"-c", "12abc", "host"}, "invalid argument: '12abc'", 1, false},
        ErrorCase{{"-c", "99999999999999999999", "host"},
                  "invalid argument: '99999999999999999999': Numerical result out of range",
                  1,
                  false},
        // Boost, like getopt, takes "-1" as the value of -c: then it is out of range.
        ErrorCase{{"-c", "-1", "host"},
                  "invalid argument: '-1': out of range: 1 <= value <= " + kLongMax,
                  1,
                  false},
        // Like getopt, a value option swallows the next word even if it is the destination.
        ErrorCase{{"-c", "host"}, "invalid argument: 'host'", 1, false},
        ErrorCase{{"-t", "256", "host"},
                  "invalid argument: '256': out of range: 0 <= value <= 255",
                  1,
                  false},
        ErrorCase{{"-e", "70000", "host"},
                  "invalid argument: '70000': out of range: 0 <= value <= 65535",
                  1,
                  false},
        ErrorCase{{"-l", "0", "host"},
                  "invalid argument: '0': out of range: 1 <= value <= 65536",
                  1,
                  false},
        ErrorCase{{"-l", "70000", "host"},
                  "invalid argument: '70000': out of range: 1 <= value <= 65536",
                  1,
                  false},
        ErrorCase{{"-m", "-1", "host"},
                  "invalid argument: '-1': out of range: 0 <= value <= 4294967295",
                  1,
                  false},
        ErrorCase{{"-s", "-1", "host"},
                  "invalid argument: '-1': out of range: 0 <= value <= 2147483647",
                  1,
                  false},
        ErrorCase{{"-S", "0", "host"},
                  "invalid argument: '0': out of range: 1 <= value <= 2147483647",
                  1,
                  false},
        ErrorCase{{"-w", "-1", "host"},
                  "invalid argument: '-1': out of range: 0 <= value <= 2147483647",
                  1,
                  false},
        // strtoul_or_err (-e, -m): "-1" wraps to ULONG_MAX; ERANGE only beyond ULONG_MAX.
        ErrorCase{{"-m", "9999999999999999999", "host"},
                  "invalid argument: '9999999999999999999': out of range: 0 <= value <= 4294967295",
                  1,
                  false},
        ErrorCase{{"-e", "18446744073709551615", "host"},
                  "invalid argument: '18446744073709551615': out of range: 0 <= value <= 65535",
                  1,
                  false},
        ErrorCase{{"-e", "-9999999999999999999", "host"},
                  "invalid argument: '-9999999999999999999': out of range: 0 <= value <= 65535",
                  1,
                  false},
        ErrorCase{{"-m", "18446744073709551616", "host"},
                  "invalid argument: '18446744073709551616': Numerical result out of range",
                  1,
                  false},
        ErrorCase{{"-m", "", "host"}, "invalid argument: ''", 1, false},
        // ping_strtod (-i, -W): empty, NaN, infinite, subnormal and overflowing values.
        ErrorCase{{"-W", "", "host"}, "bad linger time: ", 2, false},
        ErrorCase{{"-i", "", "host"}, "bad timing interval: ", 2, false},
        ErrorCase{{"-i", "nan", "host"},
                  "bad timing interval: nan: Numerical result out of range",
                  2,
                  false},
        ErrorCase{{"-i", "inf", "host"},
                  "bad timing interval: inf: Numerical result out of range",
                  2,
                  false},
        ErrorCase{{"-i", "-inf", "host"},
                  "bad timing interval: -inf: Numerical result out of range",
                  2,
                  false},
        ErrorCase{{"-i", "1e-320", "host"},
                  "bad timing interval: 1e-320: Numerical result out of range",
                  2,
                  false},
        ErrorCase{{"-i", "1e400", "host"},
                  "bad timing interval: 1e400: Numerical result out of range",
                  2,
                  false},
        ErrorCase{
            {"-W", "nan", "host"}, "bad linger time: nan: Numerical result out of range", 2, false},
        ErrorCase{
            {"-W", "inf", "host"}, "bad linger time: inf: Numerical result out of range", 2, false},
        ErrorCase{{"-W", "1e308", "host"}, "bad linger time: 1e308", 2, false},
        // The errno an underflow (1e-400 is 0 with ERANGE) leaves, until an integer option.
        ErrorCase{{"-i", "1e-400", "-W", "", "host"},
                  "bad linger time: : Numerical result out of range",
                  2,
                  false},
        ErrorCase{{"-i", "1e-400", "-c", "1", "-W", "", "host"}, "bad linger time: ", 2, false},
        // error(2, ...) messages.
        ErrorCase{{"-W", "-1", "host"}, "bad linger time: -1", 2, false},
        ErrorCase{{"-W", "3000000", "host"}, "bad linger time: 3000000", 2, false},
        ErrorCase{{"-i", "1e9", "host"}, "bad timing interval: 1e9", 2, false},
        ErrorCase{{"-Q", "300", "host"},
                  "the decimal value of TOS bits must be in range 0-255: 300",
                  2,
                  false},
        ErrorCase{{"-Q", "0x1ff", "host"},
                  "the decimal value of TOS bits must be in range 0-255: 511",
                  2,
                  false},
        // (int)strtol(): only the low 32 bits count.
        ErrorCase{{"-Q", "4294967552", "host"},
                  "the decimal value of TOS bits must be in range 0-255: 256",
                  2,
                  false},
        ErrorCase{{"-Q", "1x", "host"}, "bad TOS value: 1x", 2, false},
        ErrorCase{{"-M", "foo", "host"}, "invalid -M argument: foo", 2, false},
        ErrorCase{{"-4", "-6", "host"}, "only one -4 or -6 option may be specified", 2, false},
        ErrorCase{{"-6", "-4", "host"}, "only one -4 or -6 option may be specified", 2, false},
        ErrorCase{{"-p", "zz", "host"}, "patterns must be specified as hex digits: zz", 2, false},
        ErrorCase{{"-p", "azz", "host"}, "patterns must be specified as hex digits: zz", 2, false},
        ErrorCase{{"-p", "ab-c", "host"}, "patterns must be specified as hex digits: -c", 2, false},
        // getopt's complaints, followed by the usage text.
        ErrorCase{{"-Z", "host"}, "invalid option -- 'Z'", 2, true},
        ErrorCase{{"-nZ", "host"}, "invalid option -- 'Z'", 2, true},
        ErrorCase{{"-nqZc3", "host"}, "invalid option -- 'Z'", 2, true},
        ErrorCase{{"-c"}, "option requires an argument -- 'c'", 2, true},
        ErrorCase{{"host", "-i"}, "option requires an argument -- 'i'", 2, true},
        ErrorCase{{"-h"}, "", 2, true}, ErrorCase{{"-h", "host"}, "", 2, true},
        // No destination: error(EXIT_FAILURE, EDESTADDRREQ, "usage error").
        ErrorCase{{}, "usage error: Destination address required", 1, false},
        ErrorCase{{"-c", "3", "-n"}, "usage error: Destination address required", 1, false}));

// ---------------------------------------------------------------------------------------------
// Defaults and accepted values.

TEST(PingOptions, DefaultsAreIputilsDefaults) {
  const ParseResult r = parse({"example.org"});
  EXPECT_EQ(r.outcome, ParseOutcome::kRun);
  EXPECT_TRUE(r.warnings.empty());
  const PingOptions& o = r.options;
  EXPECT_EQ(o.destination, "example.org");
  EXPECT_EQ(o.family, AF_UNSPEC);
  EXPECT_EQ(o.count, 0);
  EXPECT_EQ(o.interval_ms, 1000);
  EXPECT_FALSE(o.interval_given);
  EXPECT_EQ(o.preload, 1);
  EXPECT_EQ(o.datalen, 56U);
  EXPECT_EQ(o.linger_ms, 10000);
  EXPECT_EQ(o.deadline_s, 0);
  EXPECT_EQ(o.tos, 0);
  EXPECT_FALSE(o.ttl.has_value());
  EXPECT_FALSE(o.ident.has_value());
  EXPECT_FALSE(o.mark.has_value());
  EXPECT_FALSE(o.pattern.has_value());
  EXPECT_EQ(o.pmtu, PmtuDiscovery::kDefault);
  EXPECT_FALSE(o.numeric);
  EXPECT_FALSE(o.quiet);
  EXPECT_FALSE(o.flood);
  EXPECT_FALSE(o.json);
  EXPECT_FALSE(o.percentiles);
  EXPECT_EQ(o.tx_timestamp, TxTimestampSource::kUser);
  EXPECT_FALSE(o.device.has_value());
  EXPECT_TRUE(o.source_v4.empty());
  EXPECT_TRUE(o.source_v6.empty());
}

TEST(PingOptions, ArgvZeroIsNotTheDestination) {
  // Only argv[0] present: it must not be taken as the destination.
  const Failure f = failure_of(std::vector<std::string>{"host-looking-argv0"});
  EXPECT_EQ(f.message, "usage error: Destination address required");
}

TEST(PingOptions, ClusteredSwitchesWithTrailingValue) {
  const PingOptions o = parse({"-nqc3", "host"}).options;
  EXPECT_TRUE(o.numeric);
  EXPECT_TRUE(o.quiet);
  EXPECT_EQ(o.count, 3);
  EXPECT_EQ(o.destination, "host");
}

TEST(PingOptions, ValueAttachedOrSeparate) {
  EXPECT_EQ(parse({"-c5", "host"}).options.count, 5);
  EXPECT_EQ(parse({"-c", "5", "host"}).options.count, 5);
  EXPECT_EQ(parse({"-s1000", "host"}).options.datalen, 1000U);
}

TEST(PingOptions, OptionsAfterTheDestination) {
  const PingOptions o = parse({"host", "-c", "2", "-n"}).options;
  EXPECT_EQ(o.destination, "host");
  EXPECT_EQ(o.count, 2);
  EXPECT_TRUE(o.numeric);
}

TEST(PingOptions, RepeatedOptionLastWins) {
  EXPECT_EQ(parse({"-c", "1", "-c", "2", "host"}).options.count, 2);
  EXPECT_EQ(parse({"-s", "100", "-s", "8", "host"}).options.datalen, 8U);
}

TEST(PingOptions, CountAcceptsLongMax) {
  EXPECT_EQ(parse({"-c", kLongMax, "host"}).options.count, LONG_MAX);
}

TEST(PingOptions, RangeBoundariesAccepted) {
  EXPECT_EQ(*parse({"-t", "0", "host"}).options.ttl, 0);
  EXPECT_EQ(*parse({"-t", "255", "host"}).options.ttl, 255);
  EXPECT_EQ(*parse({"-e", "0", "host"}).options.ident, 0);
  EXPECT_EQ(*parse({"-e", "65535", "host"}).options.ident, 65535);
  EXPECT_EQ(*parse({"-m", "4294967295", "host"}).options.mark, 4294967295U);
  EXPECT_EQ(parse({"-s", "0", "host"}).options.datalen, 0U);
  EXPECT_EQ(parse({"-S", "1", "host"}).options.sndbuf, 1);
  EXPECT_EQ(parse({"-w", "0", "host"}).options.deadline_s, 0);
  EXPECT_EQ(parse({"-w", "2147483647", "host"}).options.deadline_s, INT_MAX);
  EXPECT_EQ(parse({"-l", "65536", "host"}, 0).options.preload, 65536);
}

TEST(PingOptions, IntervalInMilliseconds) {
  const PingOptions o = parse({"-i", "0.2", "host"}).options;
  EXPECT_EQ(o.interval_ms, 200);
  EXPECT_TRUE(o.interval_given);
  EXPECT_EQ(parse({"-i", "2", "host"}).options.interval_ms, 2000);
  EXPECT_EQ(parse({"-i", "0", "host"}).options.interval_ms, 0);
  EXPECT_EQ(parse({"-i", "0.0015", "host"}).options.interval_ms, 1);  // truncated, as (int)(x*1000)
}

// iputils keeps a negative interval ((int)(x * 1000)): root then sends without pacing, and the
// summary has "pipe N" and no ipg/ewma. Beyond INT_MIN it is INT_MIN on x86-64; mtool holds
// it where interval x preload still fits an int.
TEST(PingOptions, NegativeIntervalKept) {
  EXPECT_EQ(parse({"-i", "-1", "host"}).options.interval_ms, -1000);
  EXPECT_EQ(parse({"-i", "-0.0001", "host"}).options.interval_ms, 0);
  EXPECT_EQ(parse({"-i", "-1e300", "host"}).options.interval_ms, -INT_MAX);
  EXPECT_EQ(parse({"-l", "4", "-i", "-1e300", "host"}).options.interval_ms, -(INT_MAX / 4));
  EXPECT_EQ(parse({"-i", "-3000000", "-l", "65536", "host"}).options.interval_ms,
            -(INT_MAX / 65536));
}

// The bound is (double)INT_MAX / 1000, not INT_MAX / 1000 in integers.
TEST(PingOptions, LargestIntervalAndLinger) {
  EXPECT_EQ(parse({"-W", "2147483.647", "host"}).options.linger_ms, INT_MAX);
  EXPECT_EQ(parse({"-i", "2147483.647", "host"}).options.interval_ms, INT_MAX);
  EXPECT_EQ(failure_of({"-W", "2147483.648", "host"}).message, "bad linger time: 2147483.648");
  EXPECT_EQ(failure_of({"-i", "2147483.648", "host"}).message, "bad timing interval: 2147483.648");
}

TEST(PingOptions, StrtoulOptionsWrapNegativeValues) {
  EXPECT_EQ(parse({"-m", "-18446744073709551615", "host"}).options.mark, 1U);
  EXPECT_EQ(parse({"-e", "-18446744073709551615", "host"}).options.ident, 1U);
  EXPECT_EQ(parse({"-m", "-0", "host"}).options.mark, 0U);
}

// An underflow is zero with a warning (strtod's ERANGE), not an error.
TEST(PingOptions, IntervalUnderflowIsZeroWithAWarning) {
  const ParseResult r = parse({"-i", "1e-400", "host"});
  EXPECT_EQ(r.options.interval_ms, 0);
  ASSERT_EQ(r.warnings.size(), 2U);
  EXPECT_EQ(r.warnings[0], "option argument contains garbage: ");
}

// iputils prints a warning as it reads the option; a later fatal error comes after it.
TEST(PingOptions, WarningsPrecedeALaterFatalError) {
  ::testing::internal::CaptureStderr();
  const Failure f = failure_of({"-i", "1x", "-c", "0", "host"});
  const std::string err = ::testing::internal::GetCapturedStderr();
  EXPECT_EQ(f.message, "invalid argument: '0': out of range: 1 <= value <= " + kLongMax);
  EXPECT_EQ(err,
            "ping: option argument contains garbage: x\nping: this will become fatal error in the "
            "future\n");
  ::testing::internal::CaptureStderr();
  const Failure g = failure_of({"-W", "2x"});
  EXPECT_EQ(::testing::internal::GetCapturedStderr(),
            "ping: option argument contains garbage: x\nping: this will become fatal error in the "
            "future\n");
  EXPECT_EQ(g.message, "usage error: Destination address required");
}

TEST(PingOptions, IntervalGarbageIsOnlyAWarning) {
  const ParseResult r = parse({"-i", "abc", "host"});
  EXPECT_EQ(r.options.interval_ms, 0);
  EXPECT_TRUE(r.options.interval_given);
  ASSERT_EQ(r.warnings.size(), 2U);
  EXPECT_EQ(r.warnings[0], "option argument contains garbage: abc");
  EXPECT_EQ(r.warnings[1], "this will become fatal error in the future");
}

TEST(PingOptions, LingerGarbageIsOnlyAWarning) {
  const ParseResult r = parse({"-W", "5x", "host"});
  EXPECT_EQ(r.options.linger_ms, 5000);
  ASSERT_EQ(r.warnings.size(), 2U);
  EXPECT_EQ(r.warnings[0], "option argument contains garbage: x");
  EXPECT_EQ(r.warnings[1], "this will become fatal error in the future");
}

TEST(PingOptions, LingerFractionalSeconds) {
  const ParseResult r = parse({"-W", "0.5", "host"});
  EXPECT_EQ(r.options.linger_ms, 500);
  EXPECT_TRUE(r.warnings.empty());
}

TEST(PingOptions, FloodImpliesNumeric) {
  const PingOptions o = parse({"-f", "host"}).options;
  EXPECT_TRUE(o.flood);
  EXPECT_TRUE(o.numeric);
  EXPECT_FALSE(o.interval_given);
  EXPECT_EQ(o.interval_ms, 1000);  // set to 0 later, after the header, as iputils' setup()
}

TEST(PingOptions, Switches) {
  const PingOptions o =
      parse({"-a", "-A", "-b", "-B", "-C", "-d", "-D", "-L", "-O", "-r", "-U", "-v", "host"})
          .options;
  EXPECT_TRUE(o.audible);
  EXPECT_TRUE(o.adaptive);
  EXPECT_TRUE(o.broadcast);
  EXPECT_TRUE(o.strict_source);
  EXPECT_TRUE(o.connect_socket);
  EXPECT_TRUE(o.so_debug);
  EXPECT_TRUE(o.print_timestamps);
  EXPECT_TRUE(o.no_multicast_loop);
  EXPECT_TRUE(o.outstanding);
  EXPECT_TRUE(o.so_dontroute);
  EXPECT_TRUE(o.user_latency);
  EXPECT_TRUE(o.verbose);
  EXPECT_FALSE(o.quiet);
  EXPECT_FALSE(o.flood);
}

TEST(PingOptions, FamilySelection) {
  EXPECT_EQ(parse({"-4", "host"}).options.family, AF_INET);
  EXPECT_EQ(parse({"-6", "host"}).options.family, AF_INET6);
  EXPECT_EQ(parse({"-4", "-4", "host"}).options.family, AF_INET);
}

TEST(PingOptions, InterfaceName) {
  const PingOptions o = parse({"-I", "lo", "host"}).options;
  EXPECT_EQ(o.device, "lo");
  EXPECT_TRUE(o.source_v4.empty());
  EXPECT_TRUE(o.source_v6.empty());
  EXPECT_FALSE(o.strict_source);
}

TEST(PingOptions, InterfaceIpv4Address) {
  const PingOptions o = parse({"-I", "127.0.0.1", "host"}).options;
  EXPECT_EQ(o.source_v4, "127.0.0.1");
  EXPECT_TRUE(o.source_v6.empty());
  EXPECT_TRUE(o.strict_source);
  EXPECT_FALSE(o.device.has_value());
}

TEST(PingOptions, InterfaceIpv6AddressWithScope) {
  const PingOptions o = parse({"-I", "fe80::1%eth0", "host"}).options;
  EXPECT_EQ(o.source_v6, "fe80::1");
  EXPECT_TRUE(o.source_v4.empty());
  EXPECT_EQ(o.device, "eth0");
  EXPECT_TRUE(o.strict_source);
}

// iputils keeps one source per family: both stay, and each family's target uses its own.
TEST(PingOptions, InterfaceSourcePerFamily) {
  const PingOptions o = parse({"-I", "::1", "-I", "127.0.0.1", "host"}).options;
  EXPECT_EQ(o.source_v6, "::1");
  EXPECT_EQ(o.source_v4, "127.0.0.1");
  EXPECT_TRUE(o.strict_source);
  EXPECT_FALSE(o.device.has_value());
}

// An empty device still is one (iputils' device is "" rather than NULL): -I '' and -I ::1%.
TEST(PingOptions, InterfaceEmptyDeviceIsGiven) {
  PingOptions o = parse({"-I", "", "host"}).options;
  ASSERT_TRUE(o.device.has_value());
  EXPECT_EQ(*o.device, "");
  EXPECT_FALSE(o.strict_source);
  o = parse({"-I", "::1%", "host"}).options;
  ASSERT_TRUE(o.device.has_value());
  EXPECT_EQ(*o.device, "");
  EXPECT_EQ(o.source_v6, "::1");
  o = parse({"-I", "::1%bogus", "host"}).options;
  EXPECT_EQ(o.device, "bogus");
}

TEST(PingOptions, InterfaceInvalidIpv6Address) {
  const Failure f = failure_of({"-I", "fe80::zz", "host"});
  EXPECT_EQ(f.message, "invalid source address: fe80::zz");
  EXPECT_EQ(f.exit_code, 2);
}

TEST(PingOptions, PatternBytes) {
  EXPECT_EQ(*parse({"-p", "ab", "host"}).options.pattern, (std::vector<std::uint8_t>{0xab}));
  EXPECT_EQ(*parse({"-p", "DEadBEef", "host"}).options.pattern,
            (std::vector<std::uint8_t>{0xde, 0xad, 0xbe, 0xef}));
  // sscanf("%2x%2x") on "abc" reads ab, then c.
  EXPECT_EQ(*parse({"-p", "abc", "host"}).options.pattern, (std::vector<std::uint8_t>{0xab, 0x0c}));
  // At most 16 bytes.
  EXPECT_EQ(parse({"-p", std::string(40, 'f'), "host"}).options.pattern->size(), 16U);
}

TEST(PingOptions, TosDecimalAndHex) {
  EXPECT_EQ(parse({"-Q", "16", "host"}).options.tos, 16);
  EXPECT_EQ(parse({"-Q", "0x10", "host"}).options.tos, 16);
  EXPECT_EQ(parse({"-Q", "0XfF", "host"}).options.tos, 255);
}

TEST(PingOptions, TosKeepsTheLow32BitsLikeIputils) {
  // iputils 20221126 accepts these: tos = (int)strtol(...).
  EXPECT_EQ(parse({"-Q", "4294967296", "host"}).options.tos, 0);
  EXPECT_EQ(parse({"-Q", "0x1000000ff", "host"}).options.tos, 255);
  EXPECT_EQ(parse({"-Q", "-1", "host"}).options.tos, -1);  // left for setsockopt() to refuse
}

TEST(PingOptions, PmtuDiscovery) {
  EXPECT_EQ(parse({"-M", "do", "host"}).options.pmtu, PmtuDiscovery::kDo);
  EXPECT_EQ(parse({"-M", "dont", "host"}).options.pmtu, PmtuDiscovery::kDont);
  EXPECT_EQ(parse({"-M", "want", "host"}).options.pmtu, PmtuDiscovery::kWant);
}

TEST(PingOptions, PreloadLimitForNonRoot) {
  const Failure f = failure_of({"-l", "5", "host"}, 1000);
  EXPECT_EQ(f.message, "cannot set preload to value greater than 3: 5");
  EXPECT_EQ(f.exit_code, 2);
  EXPECT_FALSE(f.show_usage);
  EXPECT_EQ(parse({"-l", "3", "host"}, 1000).options.preload, 3);
  EXPECT_EQ(parse({"-l", "5", "host"}, 0).options.preload, 5);
}

TEST(PingOptions, VersionNeedsNoDestination) {
  const ParseResult r = parse({"-V"});
  EXPECT_EQ(r.outcome, ParseOutcome::kPrintVersion);
}

TEST(PingOptions, UnsupportedIputilsOptions) {
  for (const char* letter : {"-R"}) {
    const Failure f = failure_of({letter, "host"});
    EXPECT_NE(f.message.find("not supported"), std::string::npos) << f.message;
    EXPECT_NE(f.message.find("-R"), std::string::npos) << f.message;
    EXPECT_EQ(f.exit_code, 2);
  }
  for (const auto& args :
       std::vector<std::vector<std::string>>{{"-T", "tsonly"}, {"-F", "1"}, {"-N", "name"}}) {
    std::vector<std::string> argv{"ping"};
    argv.insert(argv.end(), args.begin(), args.end());
    argv.emplace_back("host");
    const Failure f = failure_of(argv);
    EXPECT_NE(f.message.find("not supported"), std::string::npos) << f.message;
    EXPECT_EQ(f.exit_code, 2);
  }
}

TEST(PingOptions, SeveralDestinationsRejected) {
  const Failure f = failure_of({"a", "b"});
  EXPECT_NE(f.message.find("not supported"), std::string::npos) << f.message;
  EXPECT_EQ(f.exit_code, 2);
}

// mtool's long options.

TEST(PingOptions, JsonAndPercentiles) {
  const PingOptions o = parse({"--json", "--percentiles", "host"}).options;
  EXPECT_TRUE(o.json);
  EXPECT_TRUE(o.percentiles);
}

TEST(PingOptions, CorrectionSwitches) {
  const PingOptions defaults = parse({"host"}).options;
  EXPECT_TRUE(defaults.correction);
  EXPECT_FALSE(defaults.breakdown);
  const PingOptions o = parse({"--breakdown", "--no-correction", "host"}).options;
  EXPECT_TRUE(o.breakdown);
  EXPECT_FALSE(o.correction);
  EXPECT_FALSE(defaults.require_correction);
  EXPECT_TRUE(parse({"--require-correction", "host"}).options.require_correction);
}

TEST(PingOptions, TxTimestampSource) {
  EXPECT_EQ(parse({"--tx-timestamp", "kernel", "host"}).options.tx_timestamp,
            TxTimestampSource::kKernel);
  EXPECT_EQ(parse({"--tx-timestamp=kernel", "host"}).options.tx_timestamp,
            TxTimestampSource::kKernel);
  EXPECT_EQ(parse({"--tx-timestamp", "user", "host"}).options.tx_timestamp,
            TxTimestampSource::kUser);
  const Failure f = failure_of({"--tx-timestamp", "bogus", "host"});
  EXPECT_EQ(f.message, "invalid --tx-timestamp argument: bogus (kernel or user)");
  EXPECT_EQ(f.exit_code, 2);
}

TEST(PingOptions, TxTimestampMissingValue) {
  const Failure f = failure_of({"host", "--tx-timestamp"});
  EXPECT_EQ(f.message, "option '--tx-timestamp' requires an argument");
  EXPECT_EQ(f.exit_code, 2);
  EXPECT_TRUE(f.show_usage);
}

TEST(PingOptions, UnknownLongOption) {
  const Failure f = failure_of({"--bogus", "host"});
  EXPECT_EQ(f.message, "unrecognized option '--bogus'");
  EXPECT_EQ(f.exit_code, 2);
  EXPECT_TRUE(f.show_usage);
}

TEST(PingOptions, HelpIsSuccessWithUsage) {
  const Failure f = failure_of({"--help"});
  EXPECT_EQ(f.message, "");
  EXPECT_EQ(f.exit_code, 0);
  EXPECT_TRUE(f.show_usage);
}

}  // namespace
}  // namespace mtool::ping
