// `mtool correlator --metrics` on the testbed (instance 31): pings from the container's and a
// load namespace, each run in a cgroup shaped as Docker's or a Kubernetes pod's, and the
// daemon's /metrics scraped over loopback. Root only; every test removes its testbed,
// correlator, cgroups and namespaces, also when it fails.
#include <arpa/inet.h>
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <chrono>
#include <fstream>
#include <map>
#include <memory>
#include <nlohmann/json.hpp>
#include <optional>
#include <sstream>
#include <string>
#include <vector>

#include "correlator_abi.h"
#include "harness.h"
#include "modules/exporter_abi.h"
#include "ping_json.h"
#include "processes.h"
#include "util/fd.h"

namespace mtool::testing {
namespace {

using std::chrono::milliseconds;

constexpr int kTestbedIndex = 31;
constexpr const char* kPinDir = "/sys/fs/bpf/mtool-metrics-test";
constexpr const char* kSocketDir = "/run/mtool-metrics-test";
constexpr const char* kSocket = "/run/mtool-metrics-test/correlator.sock";
constexpr const char* kCgroupDir = "mtool-metrics-test";  // under the cgroup v2 hierarchy
constexpr const char* kDockerId =
    "d0cce1d0cce1d0cce1d0cce1d0cce1d0cce1d0cce1d0cce1d0cce1d0cce1d0cc";
constexpr const char* kPodContainerId =
    "9a9a9a9a9a9a9a9a9a9a9a9a9a9a9a9a9a9a9a9a9a9a9a9a9a9a9a9a9a9a9a9a";
constexpr const char* kPodSandboxId =
    "5a5a5a5a5a5a5a5a5a5a5a5a5a5a5a5a5a5a5a5a5a5a5a5a5a5a5a5a5a5a5a5a";
constexpr const char* kPodUid = "31313131-aaaa-4bbb-8ccc-313131313131";

// Where cgroup v2 is mounted (/sys/fs/cgroup/unified beside v1, /sys/fs/cgroup alone).
std::string cgroup2_mount() {
  std::ifstream mounts("/proc/self/mounts");
  std::string device;
  std::string where;
  std::string type;
  std::string rest;
  while (mounts >> device >> where >> type && std::getline(mounts, rest)) {
    if (type == "cgroup2") return where;
  }
  return "";
}

// A port nobody listens on now, on loopback.
int free_port() {
  const UniqueFd fd(::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0));
  sockaddr_in address{};
  address.sin_family = AF_INET;
  address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  socklen_t length = sizeof address;
  if (!fd || ::bind(fd.get(), reinterpret_cast<sockaddr*>(&address), sizeof address) != 0 ||
      ::getsockname(fd.get(), reinterpret_cast<sockaddr*>(&address), &length) != 0)
    return 0;
  return ntohs(address.sin_port);
}

// A connection to loopback `port` (to hold, or to send junk on).
UniqueFd connect_to(int port) {
  UniqueFd fd(::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0));
  sockaddr_in address{};
  address.sin_family = AF_INET;
  address.sin_port = htons(static_cast<std::uint16_t>(port));
  address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  if (!fd || ::connect(fd.get(), reinterpret_cast<sockaddr*>(&address), sizeof address) != 0)
    return {};
  return fd;
}

// The value of the sample of `name` whose labels include every one of `labels` (`key="v"`),
// or nullopt.
std::optional<double> sample(const std::string& text, const std::string& name,
                             const std::vector<std::string>& labels = {}) {
  std::istringstream in(text);
  std::string line;
  while (std::getline(in, line)) {
    if (line.rfind(name, 0) != 0) continue;
    const char after = line.size() > name.size() ? line[name.size()] : '\0';
    if (after != '{' && after != ' ') continue;
    bool all = true;
    for (const std::string& label : labels) all = all && line.find(label) != std::string::npos;
    if (all) return std::stod(line.substr(line.rfind(' ') + 1));
  }
  return std::nullopt;
}

double sum_of(const PingJson& p, const char* field) {
  double sum = 0;
  for (const nlohmann::json& r : p.replies) sum += r["correction"][field].get<double>();
  return sum;
}

class CorrelatorMetricsTest : public ::testing::Test {
 protected:
  void SetUp() override {
    if (!running_as_root()) GTEST_SKIP() << "needs root: creates namespaces, cgroups, loads BPF";
    ASSERT_FALSE(correlator_answers(kSocket)) << "a correlator already answers on " << kSocket;
    cgroups_ = cgroup2_mount();
    ASSERT_FALSE(cgroups_.empty()) << "no cgroup v2 hierarchy mounted";
    clean_up();
    std::string error;
    bed_ = testbed_up(kTestbedIndex, "--load 1",
                      {"TESTBED_CONTAINER_NS", "TESTBED_TARGET", "TESTBED_UPLINK"}, error);
    ASSERT_TRUE(error.empty()) << error;
    port_ = free_port();
    ASSERT_GT(port_, 0);
  }

  void TearDown() override {
    background_.clear();
    if (correlator_.running()) {
      EXPECT_EQ(correlator_.stop(), std::optional<int>(0)) << correlator_.log();
    }
    clean_up();
    if (HasFailure()) std::cerr << "correlator log:\n" << correlator_.log();
  }

  void clean_up() const {
    run(testbed_script(kTestbedIndex) + " down");
    run(std::string("rm -rf ") + kPinDir + " " + kSocketDir);
    if (!cgroups_.empty()) {
      run("find " + cgroups_ + "/" + kCgroupDir + " -depth -type d -exec rmdir {} + 2>/dev/null");
    }
  }

  ::testing::AssertionResult start_correlator(const std::string& extra = "") {
    return correlator_.start(bed_["TESTBED_UPLINK"],
                             "--metrics 127.0.0.1:" + std::to_string(port_) + " " + extra);
  }

  // A cgroup under this suite's, made if needed: its path.
  std::string cgroup(const std::string& relative) const {
    const std::string path = cgroups_ + "/" + kCgroupDir + "/" + relative;
    must("mkdir -p " + path);
    return path;
  }

  // `command` in namespace `ns`, from cgroup `cgroup_path` (none if empty).
  static std::string in(const std::string& ns, const std::string& cgroup_path,
                        const std::string& command) {
    const std::string enter =
        cgroup_path.empty() ? "" : "echo $$ > " + cgroup_path + "/cgroup.procs && ";
    return "sh -c '" + enter + "exec ip netns exec " + ns + " " + command + "'";
  }

  // `mtool ping --json ARGS TARGET` in namespace `ns` as nobody (through the socket), from
  // cgroup `cgroup_path` (none if empty).
  static CommandResult ping_from(const std::string& ns, const std::string& cgroup_path,
                                 const std::string& args, const std::string& target) {
    return run(in(ns, cgroup_path,
                  correlator_env(kPinDir, kSocket) +
                      "setpriv --reuid=65534 --regid=65534 --clear-groups " + mtool_binary() +
                      " ping --json " + args + " " + target));
  }

  // A container's long-lived process (its main one, a pod's sandbox) in `ns` and `cgroup_path`.
  void resident(const std::string& ns, const std::string& cgroup_path, const std::string& name) {
    background_.push_back(std::make_unique<Background>(in(ns, cgroup_path, "sleep 120"), name));
  }

  [[nodiscard]] std::string scrape() const {
    const CommandResult r =
        run("/usr/bin/python3 -c 'import sys, urllib.request; "
            "sys.stdout.write(urllib.request.urlopen(sys.argv[1], timeout=10).read().decode())' "
            "http://127.0.0.1:" +
            std::to_string(port_) + "/metrics");
    return r.exit_code == 0 ? r.out : "";
  }

  // Waits (up to 10 s) until the namespace's histograms hold `replies` samples; the scrape.
  std::string scrape_once_counted(std::uint64_t netns, std::size_t replies) {
    std::string text;
    const std::string label = "netns=\"" + std::to_string(netns) + "\"";
    wait_until(
        [&] {
          text = scrape();
          return sample(text, "mtool_correlator_wire_rtt_seconds_count", {label}) ==
                 static_cast<double>(replies);
        },
        milliseconds(10000));
    return text;
  }

  std::string cgroups_;
  std::map<std::string, std::string> bed_;
  int port_ = 0;
  CorrelatorProcess correlator_{kPinDir, kSocket};
  std::vector<std::unique_ptr<Background>> background_;
};

// A container's and a pod's pings: each namespace's three histograms count exactly its replies,
// their sums are the overheads the tool was handed, the labels name the container and the pod,
// and the counters say what the pings did. The pod's namespace holds its sandbox too: the
// label names the container that probes (still running when the daemon first looks).
TEST_F(CorrelatorMetricsTest, HistogramsCountTheRepliesAndNameTheirNamespace) {
  ASSERT_TRUE(start_correlator());
  const std::string container = bed_["TESTBED_CONTAINER_NS"];
  const std::string load = "mtb" + std::to_string(kTestbedIndex) + "-load1";
  const std::string docker_cgroup =
      cgroup(std::string("system.slice/docker-") + kDockerId + ".scope");
  const std::string pod_cgroup = std::string("kubepods/besteffort/pod") + kPodUid + "/";
  resident(container, docker_cgroup, "docker-main");
  resident(load, cgroup(pod_cgroup + kPodSandboxId), "pod-sandbox");
  const CommandResult docker_ping =
      ping_from(container, docker_cgroup, "-c 20 -i 0.05", bed_["TESTBED_TARGET"]);
  ASSERT_EQ(docker_ping.exit_code, 0) << docker_ping.err;
  const CommandResult pod_ping = ping_from(load, cgroup(pod_cgroup + kPodContainerId),
                                           "-c 40 -i 0.05", bed_["TESTBED_TARGET"]);
  ASSERT_EQ(pod_ping.exit_code, 0) << pod_ping.err;
  const PingJson docker = parse_ping_json(docker_ping.out);
  const PingJson pod = parse_ping_json(pod_ping.out);
  ASSERT_EQ(docker.replies.size(), 20U);
  ASSERT_EQ(pod.replies.size(), 40U);
  for (const PingJson* p : {&docker, &pod}) {
    for (const nlohmann::json& r : p->replies)
      ASSERT_TRUE(r.contains("correction")) << "uncorrected: " << r.dump();
  }

  const std::uint64_t docker_ns = netns_cookie_of(container);
  const std::uint64_t pod_ns = netns_cookie_of(load);
  scrape_once_counted(docker_ns, docker.replies.size());
  scrape_once_counted(pod_ns, pod.replies.size());
  // The daemon's own counters are published every second; the kernel's are read at the scrape.
  std::string text;
  wait_until(
      [&] {
        text = scrape();
        return sample(text, "mtool_correlator_records_served_total") == 60.0;
      },
      milliseconds(5000));
  const std::string docker_labels = "{container_id=\"" + std::string(kDockerId) + "\",netns=\"" +
                                    std::to_string(docker_ns) + "\",pod_uid=\"\"";
  const std::string pod_labels = "{container_id=\"" + std::string(kPodContainerId) + "\",netns=\"" +
                                 std::to_string(pod_ns) + "\",pod_uid=\"" + kPodUid + "\"";
  for (const auto& [labels, p] : {std::pair{docker_labels, &docker}, std::pair{pod_labels, &pod}}) {
    const auto replies = static_cast<double>(p->replies.size());
    for (const char* histogram :
         {"mtool_correlator_egress_overhead_seconds", "mtool_correlator_ingress_overhead_seconds",
          "mtool_correlator_wire_rtt_seconds"}) {
      EXPECT_EQ(sample(text, std::string(histogram) + "_count", {labels}), replies)
          << histogram << labels << "}\n"
          << text;
      EXPECT_EQ(sample(text, std::string(histogram) + "_bucket", {labels, "le=\"+Inf\""}), replies);
    }
    const auto egress = sample(text, "mtool_correlator_egress_overhead_seconds_sum", {labels});
    const auto ingress = sample(text, "mtool_correlator_ingress_overhead_seconds_sum", {labels});
    ASSERT_TRUE(egress && ingress) << text;
    EXPECT_NEAR(*egress * 1e6, sum_of(*p, "egress_us"), 0.01);
    EXPECT_NEAR(*ingress * 1e6, sum_of(*p, "ingress_us"), 0.01);
  }
  // Nothing else probed from these namespaces, and both pings took their records by socket.
  EXPECT_EQ(sample(text, "mtool_correlator_probes_followed_total"), 60.0);
  EXPECT_EQ(sample(text, "mtool_correlator_replies_matched_total"), 60.0);
  EXPECT_EQ(sample(text, "mtool_correlator_records_written_total"), 60.0);
  EXPECT_EQ(sample(text, "mtool_correlator_records_served_total"), 60.0);
  EXPECT_EQ(sample(text, "mtool_correlator_histograms_full_total"), 0.0);
  EXPECT_EQ(sample(text, "mtool_correlator_map_entries", {"map=\"histograms\""}), 2.0);
  EXPECT_EQ(sample(text, "mtool_correlator_map_capacity_entries", {"map=\"histograms\""}),
            static_cast<double>(MTOOL_HISTOGRAM_NAMESPACES));
}

// Once a namespace is deleted, its series leave the metrics (the map's entry with them).
TEST_F(CorrelatorMetricsTest, ADeletedNamespaceLeavesTheMetrics) {
  ASSERT_TRUE(start_correlator());
  const std::string load = "mtb" + std::to_string(kTestbedIndex) + "-load1";
  const std::uint64_t netns = netns_cookie_of(load);
  const CommandResult r = ping_from(load, "", "-c 3 -i 0.05", bed_["TESTBED_TARGET"]);
  ASSERT_EQ(r.exit_code, 0) << r.err;
  const std::string label = "netns=\"" + std::to_string(netns) + "\"";
  ASSERT_TRUE(
      sample(scrape_once_counted(netns, 3), "mtool_correlator_wire_rtt_seconds_count", {label}))
      << "the namespace's series never appeared";

  must("ip netns del " + load);
  std::string text;
  EXPECT_TRUE(wait_until(
      [&] {
        text = scrape();
        return !text.empty() && text.find(label) == std::string::npos;
      },
      milliseconds(10000)))
      << "still there:\n"
      << text;
  EXPECT_EQ(sample(text, "mtool_correlator_evictions_total", {"map=\"histograms\""}), 1.0);
  EXPECT_EQ(sample(text, "mtool_correlator_map_entries", {"map=\"histograms\""}), 0.0);
}

// HTTP only where asked: without --metrics the daemon listens on no TCP port and has not even
// loaded the exporter module; with it, on the one address given.
TEST_F(CorrelatorMetricsTest, ListensOnlyWhereAsked) {
  const auto exporter_loaded = [this] {
    return slurp("/proc/" + std::to_string(correlator_.pid()) + "/maps")
               .find(MTOOL_EXPORTER_FILE) != std::string::npos;
  };
  const auto tcp_listeners = [this] {
    const CommandResult r =
        run("ss -Hltnp | grep 'pid=" + std::to_string(correlator_.pid()) + ",' | awk '{print $4}'");
    return r.out;
  };
  ASSERT_TRUE(correlator_.start(bed_["TESTBED_UPLINK"]));
  EXPECT_EQ(tcp_listeners(), "");
  EXPECT_FALSE(exporter_loaded());
  correlator_.stop();
  ASSERT_TRUE(start_correlator());
  EXPECT_EQ(tcp_listeners(), "127.0.0.1:" + std::to_string(port_) + "\n");
  EXPECT_TRUE(exporter_loaded());
}

// Whoever can reach the port cannot stall or crash the daemon through it: connections that
// never finish their request, and junk, leave the socket answering and probes corrected; once
// they are gone, scrapes are served again.
TEST_F(CorrelatorMetricsTest, StalledAndJunkHttpClientsDoNotStallTheDaemon) {
  ASSERT_TRUE(start_correlator());
  std::vector<UniqueFd> stalled;
  for (int i = 0; i < 32; ++i) {
    UniqueFd fd = connect_to(port_);
    ASSERT_TRUE(fd);
    const std::string partial = "GET /metr";
    ASSERT_GT(::send(fd.get(), partial.data(), partial.size(), MSG_NOSIGNAL), 0);
    stalled.push_back(std::move(fd));
  }
  for (const std::string& junk :
       {std::string(64 * 1024, 'A') + "\r\n\r\n", std::string("\0\xff\r\n\r\n", 6),
        std::string("GET /metrics HTTP/1.1\r\nHost: x\r\nContent-Length: -5\r\n\r\n")}) {
    const UniqueFd fd = connect_to(port_);
    ASSERT_TRUE(fd);
    ::send(fd.get(), junk.data(), junk.size(), MSG_NOSIGNAL);
  }
  EXPECT_TRUE(correlator_answers(kSocket));
  const CommandResult r =
      ping_from(bed_["TESTBED_CONTAINER_NS"], "", "-c 3 -i 0.05", bed_["TESTBED_TARGET"]);
  ASSERT_EQ(r.exit_code, 0) << r.err;
  for (const nlohmann::json& reply : parse_ping_json(r.out).replies)
    EXPECT_TRUE(reply.contains("correction")) << reply.dump();
  stalled.clear();
  EXPECT_TRUE(wait_until([&] { return !scrape().empty(); }, milliseconds(15000)))
      << "no scrape served after the stalled clients left";
  EXPECT_TRUE(correlator_.running());
}

// A bad address is a one-line error and the usage, exit 2, before anything is loaded.
TEST(CorrelatorMetricsOptions, ABadAddressIsAUsageError) {
  for (const char* bad : {"localhost:9462", "9462", "127.0.0.1:70000"}) {
    const CommandResult r =
        run(mtool_binary() + " correlator --metrics " + bad + " --pin-dir /nonexistent");
    EXPECT_EQ(r.exit_code, 2) << bad;
    EXPECT_EQ(r.err.rfind(std::string("mtool correlator: --metrics ") + bad + ": ", 0), 0U)
        << r.err;
  }
  const CommandResult r = run(mtool_binary() + " correlator --metrics-buckets-per-octave 3");
  EXPECT_EQ(r.exit_code, 2);
  EXPECT_NE(r.err.find("must be 1, 2 or 4"), std::string::npos) << r.err;
}

}  // namespace
}  // namespace mtool::testing
