// What a tool trusts of its correlator (lib/correlate/tool_connection, overhead_source): which
// installs honour the caller's environment and may use the pinned maps, when pins count as a
// running correlator, when the absence of one is worth a line, and what a tool corrects with
// once its options are read (ToolCorrelator).
#include "correlate/tool_connection.h"

#include <gtest/gtest.h>
#include <stdlib.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "fake_clock.h"
#include "util/clock.h"
#include "util/fd.h"

namespace mtool::correlate {
namespace {

constexpr uid_t kUser = 10001;

TEST(ConnectionPlan, FileCapabilityInstallHonoursTheEnvironment) {
  // The image: uid 10001 running a cap_net_raw+p executable (AT_SECURE, yet no id differs).
  const ConnectionPlan p = plan_connection({kUser, kUser, kUser, kUser});
  EXPECT_TRUE(p.honour_paths);
  EXPECT_TRUE(p.pinned_maps);
  EXPECT_FALSE(p.before_limiting);
}

TEST(ConnectionPlan, RealRootOpensTheMapsBeforeLimiting) {
  const ConnectionPlan p = plan_connection({0, 0, 0, 0});
  EXPECT_TRUE(p.honour_paths);
  EXPECT_TRUE(p.pinned_maps);
  EXPECT_TRUE(p.before_limiting);
}

TEST(ConnectionPlan, SetuidInstallUsesOnlyTheDefaultSocketAfterLimiting) {
  const ConnectionPlan p = plan_connection({kUser, 0, kUser, kUser});
  EXPECT_FALSE(p.honour_paths);
  EXPECT_FALSE(p.pinned_maps);
  EXPECT_FALSE(p.before_limiting);
}

TEST(ConnectionPlan, SetgidInstallIsTreatedAlike) {
  for (const ProcessIds ids : {ProcessIds{kUser, kUser, kUser, 0}, ProcessIds{0, 0, 0, 42}}) {
    const ConnectionPlan p = plan_connection(ids);
    EXPECT_FALSE(p.honour_paths);
    EXPECT_FALSE(p.pinned_maps);
    EXPECT_FALSE(p.before_limiting);
  }
}

class CorrelatorEnvironment : public ::testing::Test {
 protected:
  void SetUp() override { clear(); }
  void TearDown() override { clear(); }
  static void clear() {
    for (const char* name : {"MTOOL_CORRELATOR", "MTOOL_CORRELATOR_SOCKET", "MTOOL_BPF_PIN_DIR"})
      unsetenv(name);
  }
};

TEST_F(CorrelatorEnvironment, PathsRelocateWhenHonoured) {
  setenv("MTOOL_CORRELATOR_SOCKET", "/tmp/attacker.sock", 1);
  setenv("MTOOL_BPF_PIN_DIR", "/tmp/attacker-pins", 1);
  const CorrelatorLocation honoured = correlator_location_from_env(true);
  EXPECT_EQ(honoured.socket_path, "/tmp/attacker.sock");
  EXPECT_EQ(honoured.pin_dir, "/tmp/attacker-pins");
  EXPECT_TRUE(honoured.socket_configured);
  EXPECT_TRUE(honoured.pin_dir_configured);

  const CorrelatorLocation ignored = correlator_location_from_env(false);
  EXPECT_EQ(ignored.socket_path, MTOOL_SOCKET_DEFAULT);
  EXPECT_EQ(ignored.pin_dir, MTOOL_PIN_DIR_DEFAULT);
  EXPECT_FALSE(ignored.socket_configured);
  EXPECT_FALSE(ignored.pin_dir_configured);
  EXPECT_FALSE(ignored.disabled);
}

TEST_F(CorrelatorEnvironment, OffWorksInEveryInstall) {
  setenv("MTOOL_CORRELATOR", "off", 1);
  EXPECT_TRUE(correlator_location_from_env(true).disabled);
  EXPECT_TRUE(correlator_location_from_env(false).disabled);
}

TEST_F(CorrelatorEnvironment, NothingConfiguredIsTheDefaultUnexpected) {
  const CorrelatorLocation where = correlator_location_from_env(true);
  EXPECT_FALSE(where.socket_configured);
  EXPECT_FALSE(where.pin_dir_configured);
}

TEST(CorrelatorHeartbeat, FreshOnlyWhileRecent) {
  const MonoNs now = mono_from_ns(1000 * kNsPerSec);
  const auto beat_at = [](MonoNs t) { return static_cast<std::uint64_t>(raw_ns(t)); };
  const Nanos fresh_for = std::chrono::seconds{MTOOL_HEARTBEAT_FRESH_S};
  EXPECT_TRUE(heartbeat_fresh(beat_at(now), now));
  EXPECT_TRUE(heartbeat_fresh(beat_at(now - std::chrono::seconds{1}), now));
  EXPECT_TRUE(heartbeat_fresh(beat_at(now - fresh_for), now));
  EXPECT_FALSE(heartbeat_fresh(beat_at(now - fresh_for - Nanos{1}), now));
  EXPECT_FALSE(heartbeat_fresh(0, now)) << "0: the daemon stopped";
  EXPECT_FALSE(heartbeat_fresh(beat_at(now + std::chrono::seconds{1}), now))
      << "a beat from the future is not ours";
}

TEST(UnavailableNotice, OnlyWhenACorrelatorWasExpected) {
  CorrelatorConnection c;
  c.unavailable =
      "no correlator (cannot connect to /run/mtool/correlator.sock: No such file or directory)";
  EXPECT_EQ(unavailable_notice(c), std::nullopt) << "nothing configured, nothing found: silent";
  c.expected = true;
  EXPECT_EQ(unavailable_notice(c),
            std::optional<std::string>("corrections unavailable: " + c.unavailable));
  c.host_namespace = true;
  EXPECT_EQ(unavailable_notice(c), std::nullopt) << "the host itself has nothing to correct";
}

TEST_F(CorrelatorEnvironment, DisabledConnectsToNothingAndSaysNothing) {
  setenv("MTOOL_CORRELATOR", "off", 1);
  setenv("MTOOL_CORRELATOR_SOCKET", "/nonexistent/mtool.sock", 1);
  const CorrelatorConnection c = connect_correlator(correlator_location_from_env(true));
  EXPECT_EQ(c.source, nullptr);
  EXPECT_EQ(unavailable_notice(c), std::nullopt);
}

TEST(CorrelatorConnect, AbsentDefaultIsSilentConfiguredAbsentIsSaid) {
  CorrelatorLocation where;
  where.pin_dir = "/nonexistent/mtool-pins";
  where.socket_path = "/nonexistent/mtool.sock";
  const CorrelatorConnection silent = connect_correlator(where);
  EXPECT_EQ(silent.source, nullptr);
  EXPECT_FALSE(silent.expected);
  EXPECT_EQ(unavailable_notice(silent), std::nullopt);
  EXPECT_NE(silent.unavailable, "") << "--require-correction still has its reason";
  EXPECT_TRUE(static_cast<bool>(silent.look_again))
      << "none found, none expected: look again later";

  where.socket_configured = true;
  const CorrelatorConnection said = connect_correlator(where);
  EXPECT_TRUE(said.expected);
  EXPECT_FALSE(static_cast<bool>(said.look_again))
      << "a configured path is not looked for elsewhere";
  ASSERT_TRUE(unavailable_notice(said).has_value());
  EXPECT_NE(unavailable_notice(said)->find("cannot connect to /nonexistent/mtool.sock"),
            std::string::npos)
      << *unavailable_notice(said);
}

// A Unix socket file at a fresh path, bound and (if `listening`) listening, as a running
// daemon's; closed right away, it is a dead daemon's socket file that refuses connections.
class SocketFile {
 public:
  explicit SocketFile(bool listening) {
    char dir[] = "/tmp/mtool-unit-XXXXXX";
    if (mkdtemp(dir) != nullptr) dir_ = dir;
    path_ = dir_ + "/correlator.sock";
    fd_ = UniqueFd(::socket(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0));
    sockaddr_un address{};
    address.sun_family = AF_UNIX;
    path_.copy(address.sun_path, sizeof address.sun_path - 1);
    bound_ = fd_ && ::bind(fd_.get(), reinterpret_cast<sockaddr*>(&address), sizeof address) == 0 &&
             (!listening || ::listen(fd_.get(), 4) == 0);
    if (!listening) fd_.reset();
  }
  ~SocketFile() {
    fd_.reset();
    ::unlink(path_.c_str());
    ::rmdir(dir_.c_str());
  }
  SocketFile(const SocketFile&) = delete;
  SocketFile& operator=(const SocketFile&) = delete;
  [[nodiscard]] bool bound() const { return bound_; }
  [[nodiscard]] const std::string& path() const { return path_; }

 private:
  std::string dir_ = "/tmp";
  std::string path_;
  UniqueFd fd_;
  bool bound_ = false;
};

TEST(CorrelatorConnect, DeadDaemonsSocketFileIsNotExpected) {
  const SocketFile dead(/*listening=*/false);
  ASSERT_TRUE(dead.bound());
  CorrelatorLocation where;
  where.pinned_maps = false;
  where.socket_path = dead.path();
  const CorrelatorConnection c = connect_correlator(where);
  EXPECT_EQ(c.source, nullptr);
  EXPECT_FALSE(c.expected) << c.unavailable;
  EXPECT_NE(c.unavailable.find("Connection refused"), std::string::npos) << c.unavailable;
  EXPECT_EQ(unavailable_notice(c), std::nullopt);
}

TEST(CorrelatorConnect, ListeningSocketThatDoesNotAnswerIsExpected) {
  const SocketFile mute(/*listening=*/true);
  ASSERT_TRUE(mute.bound());
  CorrelatorLocation where;
  where.pinned_maps = false;
  where.socket_path = mute.path();
  const CorrelatorConnection c = connect_correlator(where);  // the HELLO times out (200 ms)
  EXPECT_EQ(c.source, nullptr);
  EXPECT_TRUE(c.expected);
  ASSERT_TRUE(unavailable_notice(c).has_value());
  EXPECT_NE(unavailable_notice(c)->find("no answer from " + mute.path()), std::string::npos)
      << *unavailable_notice(c);
  EXPECT_FALSE(static_cast<bool>(c.look_again));
}

// ---------------------------------------------------------------------------------------------
// ToolCorrelator: the one decision ping, traceroute and mtool run make with what they found.

class NoOverheads final : public OverheadSource {
 public:
  std::optional<ProbeOverhead> take(const ProbeIdentity&, MonoNs) override { return std::nullopt; }
};

struct ToolHarness {
  FakeClock clock;
  std::vector<std::string> said;
  LazyCorrelator::Notify notify() {
    return [this](const std::string& line) { said.push_back(line); };
  }
};

CorrelatorConnection expected_but_missing() {
  CorrelatorConnection c;
  c.expected = true;
  c.unavailable = "no correlator (cannot connect to /run/mtool/correlator.sock)";
  return c;
}

TEST(ToolCorrelator, ExpectedAndMissingIsSaidOnceWhenTheToolCorrects) {
  ToolHarness h;
  ToolCorrelator tool(expected_but_missing(), /*correct=*/true, h.clock, h.notify());
  EXPECT_TRUE(h.said.empty()) << "said where the tool chooses, not when decided";
  tool.say_if_unavailable();
  tool.say_if_unavailable();
  EXPECT_EQ(h.said,
            (std::vector<std::string>{"corrections unavailable: no correlator (cannot connect to "
                                      "/run/mtool/correlator.sock)"}));
  EXPECT_EQ(tool.overheads(), nullptr) << "an expected correlator missing is not looked for";
  EXPECT_FALSE(tool.connected_at_start());
}

TEST(ToolCorrelator, NoCorrectionSaysNothingAndCorrectsNothing) {
  ToolHarness h;
  CorrelatorConnection found;
  found.source = std::make_unique<NoOverheads>();
  found.expected = true;
  ToolCorrelator with_source(std::move(found), /*correct=*/false, h.clock, h.notify());
  EXPECT_EQ(with_source.overheads(), nullptr);
  EXPECT_TRUE(with_source.connected_at_start()) << "still known: --require-correction says why";
  ToolCorrelator missing(expected_but_missing(), /*correct=*/false, h.clock, h.notify());
  missing.say_if_unavailable();
  EXPECT_TRUE(h.said.empty());
}

TEST(ToolCorrelator, FoundAtStartCorrectsWithIt) {
  ToolHarness h;
  CorrelatorConnection found;
  found.source = std::make_unique<NoOverheads>();
  found.expected = true;
  ToolCorrelator tool(std::move(found), /*correct=*/true, h.clock, h.notify());
  tool.say_if_unavailable();
  EXPECT_TRUE(h.said.empty());
  ASSERT_NE(tool.overheads(), nullptr);
  EXPECT_TRUE(tool.overheads()->connected_once());
  EXPECT_TRUE(tool.connected_at_start());
}

TEST(ToolCorrelator, NoneFoundNoneExpectedKeepsLooking) {
  ToolHarness h;
  CorrelatorConnection none;
  none.unavailable = "no correlator";
  none.look_again = [] { return ConnectAttempt{}; };
  ToolCorrelator tool(std::move(none), /*correct=*/true, h.clock, h.notify());
  tool.say_if_unavailable();
  EXPECT_TRUE(h.said.empty()) << "a plain drop-in is silent";
  ASSERT_NE(tool.overheads(), nullptr);
  EXPECT_FALSE(tool.overheads()->connected_once());
  EXPECT_FALSE(tool.connected_at_start());
}

TEST(ToolCorrelator, TheHostItselfHasNothingToCorrect) {
  ToolHarness h;
  CorrelatorConnection host;
  host.expected = true;
  host.host_namespace = true;
  ToolCorrelator tool(std::move(host), /*correct=*/true, h.clock, h.notify());
  tool.say_if_unavailable();
  EXPECT_TRUE(h.said.empty());
  EXPECT_EQ(tool.overheads(), nullptr);
  EXPECT_TRUE(tool.host_namespace());
}

}  // namespace
}  // namespace mtool::correlate
