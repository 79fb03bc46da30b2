// The correlator as every tenant of the host shares it: what an unprivileged host user, a
// container and a careless install can do to it. Root only; the correlator follows `lo` (no
// testbed is needed: these tests never send a probe).
#include <bpf/bpf.h>
#include <gtest/gtest.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include <chrono>
#include <filesystem>
#include <fstream>
#include <regex>
#include <string>

#include "correlator_abi.h"
#include "harness.h"
#include "processes.h"
#include "util/fd.h"

namespace mtool::testing {
namespace {

using std::chrono::milliseconds;

constexpr const char* kPinDir = "/sys/fs/bpf/mtool-hardening";
constexpr const char* kSocketDir = "/run/mtool-hardening";
constexpr const char* kSocket = "/run/mtool-hardening/correlator.sock";
constexpr const char* kNamespace = "mtool-hardening-ns";
constexpr int kNobody = 65534;

std::string as_nobody() {
  return "setpriv --reuid=" + std::to_string(kNobody) + " --regid=" + std::to_string(kNobody) +
         " --clear-groups ";
}

std::string hold_connections(int count) {
  return std::string("/usr/bin/python3 ") + MTOOL_SOURCE_DIR +
         "/tests/integration/hold_connections.py " + kSocket + " " + std::to_string(count) + " " +
         std::to_string(MTOOL_ABI_VERSION);
}

// The number a "N <what>" phrase of the status text gives, or -1.
long long status_number(const std::string& status, const std::string& what) {
  std::smatch m;
  if (!std::regex_search(status, m, std::regex("([0-9]+) " + what))) return -1;
  return std::stoll(m[1]);
}

class CorrelatorHardening : public PrivateCorrelatorTest {
 protected:
  CorrelatorHardening() : PrivateCorrelatorTest(kPinDir, kSocketDir, kNamespace) {}
  // Runs `command` in the background and waits for its first line (the count it prints).
  long long answered_by(const std::string& command, const std::string& name) {
    Background& b = background(command, name);
    wait_until([&] { return !b.out().empty() || !b.running(); }, milliseconds(20000));
    const std::string out = b.out();
    if (out.empty()) {
      ADD_FAILURE() << name << " printed nothing; stderr: " << b.err();
      return -1;
    }
    return std::stoll(out);
  }
};

// One unprivileged host process opens 200 connections and holds them; a container's processes
// together open 96. Each gets no more than its limit, and root's status is still answered and
// says what was refused. (Before the limits, 1,000 idle connections of one user made the
// daemon refuse everyone, status included.)
TEST_F(CorrelatorHardening, ConnectionsAreBoundedPerProcessAndPerNamespace) {
  ASSERT_TRUE(correlator_.start("lo",
                                "--max-connections-per-process 16 "
                                "--max-connections-per-namespace 64"));
  EXPECT_EQ(answered_by(as_nobody() + hold_connections(200), "hold-host"), 16);

  ASSERT_EQ(run(std::string("ip netns add ") + kNamespace).exit_code, 0);
  long long in_namespace = 0;
  for (int i = 0; i < 6; ++i) {
    in_namespace += answered_by(
        std::string("ip netns exec ") + kNamespace + " " + as_nobody() + hold_connections(16),
        "hold-ns" + std::to_string(i));
  }
  EXPECT_EQ(in_namespace, 64);

  const auto status = correlator_answers(kSocket);
  ASSERT_TRUE(status) << "root's status was not answered";
  const std::string text = status.message();
  EXPECT_GE(status_number(text, "over 16 per process"), 184) << text;
  EXPECT_GE(status_number(text, "over 64 per namespace"), 32) << text;
}

// A connection that says nothing is closed after the idle timeout, and counted.
TEST_F(CorrelatorHardening, IdleConnectionsAreClosed) {
  ASSERT_TRUE(correlator_.start("lo", "--idle-timeout 1"));
  EXPECT_EQ(answered_by(as_nobody() + hold_connections(3), "hold-idle"), 3);
  ASSERT_TRUE(wait_until(
      [&] { return status_number(correlator_answers(kSocket).message(), "closed idle") >= 3; },
      milliseconds(5000)))
      << correlator_answers(kSocket).message();
}

// Containers share the daemon: they learn that it runs, not the uplinks, pid or the other
// tenants' counters. Root on the host gets everything.
TEST_F(CorrelatorHardening, StatusDetailsOnlyForRootOnTheHost) {
  ASSERT_TRUE(correlator_.start("lo"));
  const std::string status = mtool_binary() + " correlator status --socket " + kSocket;
  const CommandResult root = run(status);
  ASSERT_EQ(root.exit_code, 0) << root.err;
  EXPECT_NE(root.out.find("uplinks:"), std::string::npos) << root.out;
  const CommandResult nobody = run(as_nobody() + status);
  ASSERT_EQ(nobody.exit_code, 0) << nobody.err;
  EXPECT_EQ(nobody.out, "correlator: running (details for root on the host only)\n");
  ASSERT_EQ(run(std::string("ip netns add ") + kNamespace).exit_code, 0);
  const CommandResult container = run(std::string("ip netns exec ") + kNamespace + " " + status);
  ASSERT_EQ(container.exit_code, 0) << container.err;
  EXPECT_EQ(container.out, nobody.out);
}

// An upgrade over the pins of an older layout (before the per-namespace histograms the counters
// map had one entry fewer): the daemon unpins that map, pins one of its own layout in its place,
// says so, and starts; libbpf alone would refuse the load with a bare EINVAL.
TEST_F(CorrelatorHardening, PinsOfAnOlderLayoutAreReplacedAndSaidSo) {
  ASSERT_TRUE(correlator_.start("lo"));
  ASSERT_EQ(correlator_.stop(), std::optional<int>(0)) << correlator_.log();
  const std::string counters = std::string(kPinDir) + "/" MTOOL_MAP_COUNTERS;
  ASSERT_EQ(::unlink(counters.c_str()), 0);
  const UniqueFd old(bpf_map_create(BPF_MAP_TYPE_PERCPU_ARRAY, MTOOL_MAP_COUNTERS,
                                    sizeof(std::uint32_t), sizeof(std::uint64_t),
                                    MTOOL_CTR_COUNT - 1, nullptr));
  ASSERT_TRUE(old);
  ASSERT_EQ(bpf_obj_pin(old.get(), counters.c_str()), 0);

  ASSERT_TRUE(correlator_.start("lo")) << correlator_.log();
  const std::string said = "replaced the pinned map counters (entries " +
                           std::to_string(MTOOL_CTR_COUNT) + " where " +
                           std::to_string(MTOOL_CTR_COUNT - 1) + " is pinned)";
  EXPECT_TRUE(wait_until([&] { return correlator_.log().find(said) != std::string::npos; },
                         milliseconds(5000)))
      << correlator_.log();
  const UniqueFd now(bpf_obj_get(counters.c_str()));
  ASSERT_TRUE(now);
  bpf_map_info info{};
  std::uint32_t length = sizeof info;
  ASSERT_EQ(bpf_obj_get_info_by_fd(now.get(), &info, &length), 0);
  EXPECT_EQ(info.max_entries, static_cast<std::uint32_t>(MTOOL_CTR_COUNT));
  // The other maps were of this layout: reused, not replaced.
  EXPECT_EQ(correlator_.log().find("replaced the pinned map " MTOOL_MAP_RECORDS),
            std::string::npos);
}

// Once loaded, the daemon keeps only what bpf() needs.
TEST_F(CorrelatorHardening, KeepsOnlyTheCapabilitiesItStillNeeds) {
  ASSERT_TRUE(correlator_.start("lo"));
  std::ifstream status("/proc/" + std::to_string(correlator_.pid()) + "/status");
  std::string line;
  unsigned long long effective = ~0ULL;
  unsigned long long permitted = ~0ULL;
  while (std::getline(status, line)) {
    if (line.rfind("CapEff:", 0) == 0) effective = std::stoull(line.substr(7), nullptr, 16);
    if (line.rfind("CapPrm:", 0) == 0) permitted = std::stoull(line.substr(7), nullptr, 16);
  }
  const unsigned long long allowed =
      (1ULL << 39 /* CAP_BPF */) | (1ULL << 21 /* SYS_ADMIN */) | (1ULL << 19 /* SYS_PTRACE */);
  EXPECT_EQ(effective & ~allowed, 0ULL) << std::hex << effective;
  EXPECT_EQ(permitted & ~allowed, 0ULL) << std::hex << permitted;
  EXPECT_TRUE(correlator_answers(kSocket));
}

// A pin directory someone else made first could later have its maps swapped for their own:
// the daemon refuses it, saying why, and touches nothing there.
TEST_F(CorrelatorHardening, RefusesAPinDirectoryItDoesNotOwn) {
  ASSERT_EQ(::mkdir(kPinDir, 0777), 0);
  ASSERT_EQ(::chown(kPinDir, kNobody, kNobody), 0);
  const CommandResult r =
      run(mtool_binary() + " correlator --uplink lo --pin-dir " + kPinDir + " --socket " + kSocket);
  EXPECT_EQ(r.exit_code, 1);
  EXPECT_NE(r.err.find(std::string("pin directory ") + kPinDir + " belongs to uid 65534"),
            std::string::npos)
      << r.err;
  EXPECT_TRUE(std::filesystem::is_empty(kPinDir));
}

// A directory where a map should be pinned is named, not mistaken for missing privileges.
TEST_F(CorrelatorHardening, NamesAForeignObjectUnderAMapName) {
  ASSERT_EQ(::mkdir(kPinDir, 0700), 0);
  ASSERT_EQ(::mkdir((std::string(kPinDir) + "/" MTOOL_MAP_RECORDS).c_str(), 0700), 0);
  const CommandResult r =
      run(mtool_binary() + " correlator --uplink lo --pin-dir " + kPinDir + " --socket " + kSocket);
  EXPECT_EQ(r.exit_code, 1);
  EXPECT_NE(r.err.find(std::string(kPinDir) + "/records is not a map the correlator pinned"),
            std::string::npos)
      << r.err;
}

// A world-writable pin directory of root's (bpffs is mounted 1777 by default) is narrowed.
TEST_F(CorrelatorHardening, NarrowsItsOwnPinDirectory) {
  ASSERT_EQ(::mkdir(kPinDir, 0700), 0);
  ASSERT_EQ(::chmod(kPinDir, 0777), 0);
  ASSERT_TRUE(correlator_.start("lo"));
  struct stat st {};
  ASSERT_EQ(::stat(kPinDir, &st), 0);
  EXPECT_EQ(st.st_mode & 0777, 0700U);
}

// What is at the socket path is replaced only if it is a (stale) socket; a file or a link
// stays as it was and the daemon says why it will not start.
TEST_F(CorrelatorHardening, NeverReplacesWhatIsNotASocket) {
  ASSERT_EQ(::mkdir(kSocketDir, 0755), 0);
  { std::ofstream(kSocket) << "precious\n"; }
  CommandResult r =
      run(mtool_binary() + " correlator --uplink lo --pin-dir " + kPinDir + " --socket " + kSocket);
  EXPECT_EQ(r.exit_code, 1);
  EXPECT_NE(r.err.find(std::string(kSocket) + " exists and is not a socket"), std::string::npos)
      << r.err;
  {
    std::ifstream in(kSocket);
    std::string text;
    std::getline(in, text);
    EXPECT_EQ(text, "precious");
  }

  ASSERT_EQ(::unlink(kSocket), 0);
  const std::string victim = std::string(kSocketDir) + "/victim";
  { std::ofstream(victim) << "x\n"; }
  ASSERT_EQ(::chmod(victim.c_str(), 0600), 0);
  ASSERT_EQ(::symlink(victim.c_str(), kSocket), 0);
  r = run(mtool_binary() + " correlator --uplink lo --pin-dir " + kPinDir + " --socket " + kSocket);
  EXPECT_EQ(r.exit_code, 1);
  struct stat st {};
  ASSERT_EQ(::stat(victim.c_str(), &st), 0);
  EXPECT_EQ(st.st_mode & 0777, 0600U) << "the link was followed";
}

// A socket directory others may write to could have the socket swapped under the daemon.
TEST_F(CorrelatorHardening, RefusesASocketDirectoryOthersCanChange) {
  ASSERT_EQ(::mkdir(kSocketDir, 0777), 0);
  ASSERT_EQ(::chmod(kSocketDir, 0777), 0);
  const CommandResult r =
      run(mtool_binary() + " correlator --uplink lo --pin-dir " + kPinDir + " --socket " + kSocket);
  EXPECT_EQ(r.exit_code, 1);
  EXPECT_NE(r.err.find(std::string("socket directory ") + kSocketDir), std::string::npos) << r.err;
}

}  // namespace
}  // namespace mtool::testing
