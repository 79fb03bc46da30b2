#pragma once
// What the Paris suites read back from the multipath testbed: the routers each hop line of a
// trace shows, the testbed's lists, and the probes a capture on the container's eth0 saw.
#include <gtest/gtest.h>
#include <sys/socket.h>

#include <array>
#include <chrono>
#include <csignal>
#include <cstdint>
#include <map>
#include <set>
#include <string>
#include <thread>
#include <vector>

#include "harness.h"
#include "processes.h"

namespace mtool::testing {

using HopSets = std::vector<std::set<std::string>>;

// The addresses each hop line of `trace` shows (after its header line), IPv4 or IPv6 (`-n`).
HopSets hop_sets(const std::string& trace);

// A testbed list: "a,b,c".
std::set<std::string> words(const std::string& text);

// "{a b c}", for messages.
std::string joined(const std::set<std::string>& s);

// A probe as a capture shows it: its transport header's first 8 bytes.
struct WireProbe {
  int protocol = 0;
  unsigned ttl = 0;
  std::uint32_t flow_label = 0;  // IPv6 only
  std::uint16_t word[4] = {};    // UDP: ports, length, checksum; ICMP: type/code, checksum, id, seq
  std::uint32_t tcp_sequence = 0;
};

// Probes to `destination` (IPv4 or IPv6, numeric) in a classic pcap file of Ethernet frames.
std::vector<WireProbe> read_capture(const std::string& path, const std::string& destination);

// A probe's fields as Paris sees them: those balancers hash, which every probe of a flow holds
// (the IPv6 flow label; the ports; ICMP's type, code, checksum and identifier), and the one
// that tells the probes of a flow apart (UDP's checksum, ICMP's sequence, TCP's sequence
// number).
struct FlowFields {
  std::array<std::uint32_t, 4> held{};
  std::uint32_t told_apart = 0;
};
FlowFields flow_fields(const WireProbe& p);

// Of a group of probes: the distinct held fields (one for a Paris flow) and the distinct
// told-apart values (one per probe).
struct FlowSummary {
  std::set<std::array<std::uint32_t, 4>> held;
  std::set<std::uint32_t> told_apart;
};
FlowSummary summarise_flows(const std::vector<WireProbe>& probes);

// A suite on its own multipath testbed (instance `Index`: up before its first test, down after
// its last) with a correlator of its own (pins and socket named after the instance), started by
// the tests that ask for it and stopped after each. Behind the target: a two-way ECMP hop (3),
// a join (4), a diamond of two (5) then three (6) routers, and the end (7). Root only.
template <int Index>
class MultipathSuite : public ::testing::Test {
 public:
  static constexpr int kHops = 7;
  static constexpr const char* kNoCorrelator = "env MTOOL_CORRELATOR=off ";

 protected:
  static void SetUpTestSuite() {
    if (!running_as_root()) return;
    std::vector<std::string> keys{"TESTBED_CONTAINER_NS",    "TESTBED_GATEWAY",
                                  "TESTBED_CONTAINER_ADDR6", "TESTBED_TARGET",
                                  "TESTBED_TARGET6",         "TESTBED_UPLINK",
                                  "TESTBED_MULTIPATH_END",   "TESTBED_MULTIPATH_END6"};
    for (int hop = 3; hop < kHops; ++hop) {
      keys.push_back("TESTBED_MULTIPATH_HOP_" + std::to_string(hop));
      keys.push_back("TESTBED_MULTIPATH_HOP6_" + std::to_string(hop));
    }
    bed_ = testbed_up(Index, "--multipath", keys, setup_error_);
  }

  static void TearDownTestSuite() {
    if (!running_as_root()) return;
    run(testbed_script(Index) + " down");
    run("rm -f " + capture_path());
    bed_.clear();
    setup_error_.clear();
  }

  void SetUp() override {
    if (!running_as_root()) GTEST_SKIP() << "needs root: creates network namespaces, loads BPF";
    ASSERT_EQ(setup_error_, "");
  }

  void TearDown() override {
    if (correlator_.running()) {
      const auto code = correlator_.stop();
      EXPECT_EQ(code, std::optional<int>(0)) << "correlator log:\n" << correlator_.log();
    }
    if (correlator_started_) run("rm -rf " + pin_dir() + " " + socket_dir());
  }

  static std::string pin_dir() { return "/sys/fs/bpf/mtool-paris-" + std::to_string(Index); }
  static std::string socket_dir() { return "/run/mtool-paris-" + std::to_string(Index); }
  static std::string socket_path() { return socket_dir() + "/correlator.sock"; }
  static std::string capture_path() {
    return "/tmp/mtool-paris-" + std::to_string(Index) + ".pcap";
  }
  static std::string with_correlator() { return correlator_env(pin_dir(), socket_path()); }

  ::testing::AssertionResult start_correlator() {
    if (correlator_answers(socket_path()))
      return ::testing::AssertionFailure() << "a correlator already answers on " << socket_path();
    correlator_started_ = true;
    run("rm -rf " + pin_dir() + " " + socket_dir());
    return correlator_.start(bed_["TESTBED_UPLINK"]);
  }

  static const std::string& end(int family = AF_INET) {
    return bed_[family == AF_INET6 ? "TESTBED_MULTIPATH_END6" : "TESTBED_MULTIPATH_END"];
  }
  static std::string in_container(const std::string& command) {
    return "ip netns exec " + bed_["TESTBED_CONTAINER_NS"] + " " + command;
  }
  // Every router of every hop, as the testbed names them.
  static HopSets expected_hops(int family = AF_INET) {
    const bool v6 = family == AF_INET6;
    std::string gateway = bed_["TESTBED_GATEWAY"];
    if (v6) {  // the bridge's ::1 beside the container's ::2
      gateway = bed_["TESTBED_CONTAINER_ADDR6"];
      gateway.back() = '1';
    }
    HopSets hops{{gateway}, {bed_[v6 ? "TESTBED_TARGET6" : "TESTBED_TARGET"]}};
    for (int hop = 3; hop < kHops; ++hop)
      hops.push_back(words(
          bed_[(v6 ? "TESTBED_MULTIPATH_HOP6_" : "TESTBED_MULTIPATH_HOP_") + std::to_string(hop)]));
    hops.push_back({end(family)});
    return hops;
  }
  // `mtool traceroute ARGS END` in the container (as root unless `user` says otherwise); ARGS
  // with -6 trace to the IPv6 end.
  static CommandResult mtool(const std::string& args, const std::string& env = kNoCorrelator,
                             const std::string& user = "") {
    return run(mtool_command(args, user + env));
  }
  // The command line of `mtool traceroute ARGS` as mtool() runs it.
  static std::string mtool_command(const std::string& args,
                                   const std::string& env = kNoCorrelator) {
    const bool v6 = args.starts_with("-6") || args.find(" -6") != std::string::npos;
    return in_container(env + mtool_binary() + " traceroute " + args + " " +
                        end(v6 ? AF_INET6 : AF_INET));
  }
  // Runs `command` (it must succeed) while tcpdump on the container's eth0 writes what goes to
  // `hosts` ("A or B" works) to capture_path(); `diagnostics` says what ran and what tcpdump
  // said, for messages. Whether both went well.
  static bool capture_while(const std::string& command, const std::string& hosts,
                            std::string& diagnostics) {
    const std::string path = capture_path();
    run("rm -f " + path);
    Background capture(
        in_container("tcpdump --immediate-mode -U -n -i eth0 -w " + path + " dst host " + hosts),
        "paris-tcpdump-" + std::to_string(Index));
    if (!wait_until([&] { return run("test -s " + path).exit_code == 0; },
                    std::chrono::milliseconds(5000))) {
      diagnostics = "tcpdump did not start: " + capture.err();
      return false;
    }
    const CommandResult r = run(command);
    std::this_thread::sleep_for(std::chrono::milliseconds(300));
    capture.stop(SIGINT);
    diagnostics = command + " exited " + std::to_string(r.exit_code) + "\n" + r.out + r.err +
                  "capture: " + std::to_string(slurp(path).size()) + " bytes\n" + capture.err();
    return r.exit_code == 0;
  }
  // The probes to `destination` that capture_while(`command`) saw (none if it failed).
  static std::vector<WireProbe> captured(const std::string& command, const std::string& destination,
                                         std::string& diagnostics) {
    if (!capture_while(command, destination, diagnostics)) return {};
    return read_capture(capture_path(), destination);
  }
  // A trace that reached the end on one path: each hop one router of that hop's.
  static void expect_one_path(const std::string& args, const HopSets& hops,
                              const std::string& trace, int family = AF_INET) {
    const HopSets expected = expected_hops(family);
    ASSERT_EQ(hops.size(), expected.size()) << args << "\n" << trace;
    for (std::size_t h = 0; h < hops.size(); ++h) {
      EXPECT_EQ(hops[h].size(), 1U) << args << ": hop " << h + 1 << "\n" << trace;
      for (const auto& a : hops[h])
        EXPECT_TRUE(expected[h].contains(a)) << args << ": hop " << h + 1 << " " << a;
    }
  }

  inline static std::map<std::string, std::string> bed_;
  inline static std::string setup_error_;
  CorrelatorProcess correlator_{pin_dir(), socket_path()};
  bool correlator_started_ = false;
};

}  // namespace mtool::testing
