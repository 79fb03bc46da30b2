// The correlator's listeners inside containers' network namespaces (the abstract name
// MTOOL_SOCKET_ABSTRACT_NAME): one per namespace with a process, the caller's namespace taken
// from the kernel, a name held by someone else reported, and nothing kept once a namespace's
// processes are gone. Root only; the correlator follows `lo` (these tests send no probe).
#include <fcntl.h>
#include <gtest/gtest.h>
#include <sched.h>
#include <signal.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cstddef>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <regex>
#include <string>
#include <thread>
#include <vector>

#include "correlator_abi.h"
#include "harness.h"
#include "processes.h"
#include "util/fd.h"

namespace mtool::testing {
namespace {

using std::chrono::milliseconds;
using SteadyClock = std::chrono::steady_clock;

constexpr const char* kPinDir = "/sys/fs/bpf/mtool-listeners";
constexpr const char* kSocketDir = "/run/mtool-listeners";
constexpr const char* kSocket = "/run/mtool-listeners/correlator.sock";
constexpr const char* kPrefix = "mtool-lst";  // namespaces mtool-lst<N>, veths mtlst<N>h/c

// A HELLO on the abstract name from a thread inside `ns`: the namespace the correlator says it
// sees the caller in (its cookie), or nullopt if nobody answers there.
std::optional<std::uint64_t> hello_in(const std::string& ns) {
  std::optional<std::uint64_t> seen;
  std::thread([&] {
    const UniqueFd nsfd(::open(("/run/netns/" + ns).c_str(), O_RDONLY | O_CLOEXEC));
    if (!nsfd || ::setns(nsfd.get(), CLONE_NEWNET) != 0) return;
    const UniqueFd fd(::socket(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0));
    sockaddr_un address{};
    address.sun_family = AF_UNIX;
    constexpr std::size_t kLength = sizeof(MTOOL_SOCKET_ABSTRACT_NAME) - 1;
    std::memcpy(address.sun_path + 1, MTOOL_SOCKET_ABSTRACT_NAME, kLength);
    const auto length = static_cast<socklen_t>(offsetof(sockaddr_un, sun_path) + 1 + kLength);
    if (!fd || ::connect(fd.get(), reinterpret_cast<sockaddr*>(&address), length) != 0) return;
    const timeval timeout{2, 0};
    ::setsockopt(fd.get(), SOL_SOCKET, SO_RCVTIMEO, &timeout, sizeof timeout);
    mtool_query query{};
    query.version = MTOOL_ABI_VERSION;
    query.kind = MTOOL_QUERY_HELLO;
    mtool_answer answer{};
    if (::send(fd.get(), &query, sizeof query, MSG_NOSIGNAL) != sizeof query ||
        ::recv(fd.get(), &answer, sizeof answer, 0) != sizeof answer) {
      return;
    }
    seen = answer.caller_netns;
  }).join();
  return seen;
}

std::size_t open_descriptors(pid_t pid) {
  std::error_code ec;
  std::size_t n = 0;
  for (auto it = std::filesystem::directory_iterator("/proc/" + std::to_string(pid) + "/fd", ec);
       !ec && it != std::filesystem::directory_iterator(); ++it) {
    ++n;
  }
  return n;
}

long resident_kib(pid_t pid) {
  std::ifstream status("/proc/" + std::to_string(pid) + "/status");
  std::string line;
  while (std::getline(status, line)) {
    if (line.rfind("VmRSS:", 0) == 0) return std::stol(line.substr(6));
  }
  return -1;
}

double percentile(std::vector<double> v, double p) {
  if (v.empty()) return 0;
  std::sort(v.begin(), v.end());
  return v[static_cast<std::size_t>(p * static_cast<double>(v.size() - 1))];
}

class CorrelatorListeners : public PrivateCorrelatorTest {
 protected:
  CorrelatorListeners() : PrivateCorrelatorTest(kPinDir, kSocketDir, kPrefix) {}
  static std::string ns_name(int i) { return kPrefix + std::to_string(i); }
  // A container-like namespace: a veth to the host (so its lifetime shows there) and one
  // long-lived process in it (its "init").
  void make_container(int i) {
    const std::string ns = ns_name(i);
    const std::string host_if = "mtlst" + std::to_string(i) + "h";
    // A namespace deleted by the test before is torn down by the kernel asynchronously: its
    // veth (same name) may still be there for a moment.
    wait_until([&] { return !host_veth_exists(i); }, milliseconds(5000));
    const CommandResult r = run("ip netns add " + ns + " && ip link add " + host_if +
                                " type veth peer name eth0 netns " + ns);
    ASSERT_EQ(r.exit_code, 0) << r.err;
    background("exec ip netns exec " + ns + " sleep 600", "init-" + ns);
  }
  void stop_container(int i) {
    background_.back()->stop(SIGKILL);
    background_.pop_back();
    run("ip netns del " + ns_name(i));
  }
  static bool host_veth_exists(int i) {
    return std::filesystem::exists("/sys/class/net/mtlst" + std::to_string(i) + "h");
  }
};

// Each namespace's listener answers with that namespace, as the kernel knows it; the host
// itself has no listener (its tools use the path socket).
TEST_F(CorrelatorListeners, EachNamespaceIsAnsweredAsItself) {
  ASSERT_TRUE(correlator_.start("lo"));
  make_container(1);
  make_container(2);
  ASSERT_TRUE(
      wait_until([&] { return hello_in(ns_name(1)) && hello_in(ns_name(2)); }, milliseconds(3000)))
      << correlator_answers(kSocket).message();
  EXPECT_EQ(hello_in(ns_name(1)), std::optional<std::uint64_t>(netns_cookie_of(ns_name(1))));
  EXPECT_EQ(hello_in(ns_name(2)), std::optional<std::uint64_t>(netns_cookie_of(ns_name(2))));
  EXPECT_NE(netns_cookie_of(ns_name(1)), netns_cookie_of(ns_name(2)));
  // A namespace with no process gets no listener (and keeps none).
  ASSERT_EQ(run(std::string("ip netns add ") + kPrefix + "9").exit_code, 0);
  std::this_thread::sleep_for(milliseconds(1500));
  EXPECT_FALSE(hello_in(std::string(kPrefix) + "9"));
}

// A process in the container bound the name before the correlator came: the daemon does not
// take it over, reports it in its log and status, and serves the other namespaces.
TEST_F(CorrelatorListeners, ATakenNameIsReported) {
  make_container(1);
  make_container(2);
  Background& squatter =
      background("exec ip netns exec " + ns_name(1) +
                     " /usr/bin/python3 -c 'import socket,time; s=socket.socket(socket.AF_UNIX, "
                     "socket.SOCK_SEQPACKET); s.bind(\"\\0" MTOOL_SOCKET_ABSTRACT_NAME
                     "\"); s.listen(); "
                     "print(\"bound\", flush=True); time.sleep(600)'",
                 "squatter");
  ASSERT_TRUE(wait_until([&] { return !squatter.out().empty(); }, milliseconds(5000)))
      << squatter.err();
  ASSERT_TRUE(correlator_.start("lo"));
  ASSERT_TRUE(wait_until([&] { return hello_in(ns_name(2)).has_value(); }, milliseconds(3000)));
  const std::string status = correlator_answers(kSocket).message();
  EXPECT_NE(status.find("1 names found taken (taken now in netns " +
                        std::to_string(netns_cookie_of(ns_name(1))) + ")"),
            std::string::npos)
      << status;
  EXPECT_NE(correlator_.log().find("the name " MTOOL_SOCKET_ABSTRACT_NAME
                                   " is taken in network namespace"),
            std::string::npos)
      << correlator_.log();
}

// Containers come and go: each gets its listener quickly, and once its processes are gone the
// listener goes too, so the namespace (and its host-side veth) is released at once, and the
// daemon's descriptors and memory return to where they were.
TEST_F(CorrelatorListeners, ChurnLeavesNothingBehind) {
  const int rounds =
      std::stoi(std::getenv("MTOOL_CHURN_ROUNDS") ? std::getenv("MTOOL_CHURN_ROUNDS") : "40");
  ASSERT_TRUE(correlator_.start("lo"));
  const pid_t daemon = correlator_.pid();
  std::this_thread::sleep_for(milliseconds(300));
  const std::size_t fds_before = open_descriptors(daemon);
  const long rss_before = resident_kib(daemon);
  std::vector<double> ready_ms;
  int veths_kept = 0;
  for (int i = 0; i < rounds; ++i) {
    const auto created = SteadyClock::now();
    make_container(100 + i);
    if (!wait_until([&] { return hello_in(ns_name(100 + i)).has_value(); }, milliseconds(3000))) {
      ADD_FAILURE() << "no listener in " << ns_name(100 + i) << " after 3 s";
      stop_container(100 + i);
      continue;
    }
    ready_ms.push_back(
        std::chrono::duration<double, std::milli>(SteadyClock::now() - created).count());
    stop_container(100 + i);
    if (!wait_until([&] { return !host_veth_exists(100 + i); }, milliseconds(3000))) ++veths_kept;
  }
  EXPECT_EQ(veths_kept, 0) << "host-side veths outlived their namespace: a listener kept it alive";
  std::this_thread::sleep_for(milliseconds(1500));  // the last scan closes the last listener
  EXPECT_EQ(open_descriptors(daemon), fds_before);
#if defined(__SANITIZE_ADDRESS__)
  // ASan's quarantine holds freed memory back, so RSS says nothing here; LeakSanitizer checks the
  // daemon at its exit instead (TearDown expects it to exit 0).
#else
  EXPECT_LE(resident_kib(daemon), rss_before + 1024) << "RSS before " << rss_before << " KiB";
#endif
  const std::string status = correlator_answers(kSocket).message();
  EXPECT_NE(status.find("namespace listeners: 0 open"), std::string::npos) << status;
  std::printf(
      "churn: %d namespaces; listener ready after %.1f ms median, %.1f ms max; "
      "daemon fds %zu -> %zu, RSS %ld -> %ld KiB\n",
      rounds, percentile(ready_ms, 0.5), percentile(ready_ms, 1.0), fds_before,
      open_descriptors(daemon), rss_before, resident_kib(daemon));
}

}  // namespace
}  // namespace mtool::testing
