#include "processes.h"

#include <fcntl.h>
#include <sched.h>
#include <signal.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <unistd.h>

#include <fstream>
#include <iostream>
#include <sstream>
#include <thread>

#include "harness.h"
#include "net/netns_cookie.h"
#include "util/fd.h"

namespace mtool::testing {

using std::chrono::milliseconds;

std::string testbed_script(int index) {
  return "MTOOL_TESTBED_INDEX=" + std::to_string(index) +
         " bash " MTOOL_SOURCE_DIR "/tests/testbed/testbed.sh";
}

std::uint64_t netns_cookie_of(const std::string& name) {
  std::uint64_t cookie = 0;
  std::thread([&] {
    const UniqueFd ns(::open(("/run/netns/" + name).c_str(), O_RDONLY | O_CLOEXEC));
    if (ns && ::setns(ns.get(), CLONE_NEWNET) == 0) cookie = net::own_netns_cookie();
  }).join();
  return cookie;
}

std::map<std::string, std::string> testbed_up(int index, const std::string& args,
                                              const std::vector<std::string>& required,
                                              std::string& error) {
  run(testbed_script(index) + " down");
  const CommandResult up = run(testbed_script(index) + " up " + args);
  if (up.exit_code != 0) {
    error = "testbed up " + args + " failed:\n" + up.err;
    return {};
  }
  std::map<std::string, std::string> bed;
  for (const std::string& line : lines_of(up.out)) {
    if (const auto eq = line.find('='); eq != std::string::npos)
      bed[line.substr(0, eq)] = line.substr(eq + 1);
  }
  for (const std::string& key : required) {
    if (bed[key].empty()) error += key + " missing from the testbed's output\n";
  }
  if (!error.empty()) {
    error += up.out;
    return {};
  }
  return bed;
}

ScopedRule::ScopedRule(std::string ns, std::string rule)
    : ns_(std::move(ns)), rule_(std::move(rule)) {
  const CommandResult r = run("ip netns exec " + ns_ + " iptables -A " + rule_);
  added_ = r.exit_code == 0;
  error_ = r.err;
}

ScopedRule::~ScopedRule() {
  if (added_) run("ip netns exec " + ns_ + " iptables -D " + rule_);
}

std::string correlator_env(const std::string& pin_dir, const std::string& socket) {
  return "env MTOOL_BPF_PIN_DIR=" + pin_dir + " MTOOL_CORRELATOR_SOCKET=" + socket + " ";
}

std::string slurp(const std::string& path) {
  std::ifstream in(path);
  std::stringstream s;
  s << in.rdbuf();
  return s.str();
}

std::vector<std::string> lines_of(const std::string& text) {
  std::vector<std::string> out;
  std::istringstream in(text);
  for (std::string line; std::getline(in, line);) out.push_back(line);
  return out;
}

bool wait_until(const std::function<bool()>& done, milliseconds timeout) {
  const auto deadline = std::chrono::steady_clock::now() + timeout;
  for (;;) {
    if (done()) return true;
    if (std::chrono::steady_clock::now() > deadline) return false;
    std::this_thread::sleep_for(milliseconds(20));
  }
}

Background::Background(const std::string& command, const std::string& name) {
  out_path_ = "/tmp/mtool-it-" + std::to_string(getpid()) + "-" + name + ".out";
  err_path_ = "/tmp/mtool-it-" + std::to_string(getpid()) + "-" + name + ".err";
  const pid_t parent = getpid();
  pid_ = fork();
  if (pid_ == 0) {
    // Its own group, so stop() reaches whatever it starts; and gone with the test process if
    // that dies without its teardown (a ctest timeout).
    setpgid(0, 0);
    prctl(PR_SET_PDEATHSIG, SIGTERM);
    if (getppid() != parent) _exit(127);
    const int in = open("/dev/null", O_RDONLY);
    const int out = open(out_path_.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0644);
    const int err = open(err_path_.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0644);
    if (in < 0 || out < 0 || err < 0 || dup2(in, 0) < 0 || dup2(out, 1) < 0 || dup2(err, 2) < 0)
      _exit(127);
    execl("/bin/sh", "sh", "-c", command.c_str(), static_cast<char*>(nullptr));
    _exit(127);
  }
  if (pid_ > 0) setpgid(pid_, pid_);  // also here: no window where stop() misses the group
}

Background::~Background() {
  stop(SIGTERM);
  unlink(out_path_.c_str());
  unlink(err_path_.c_str());
}

bool Background::running() {
  reap(WNOHANG);
  return pid_ > 0 && !status_;
}

std::optional<int> Background::wait(milliseconds timeout) {
  wait_until([this] { return !running(); }, timeout);
  if (!status_) return std::nullopt;
  return WIFEXITED(*status_) ? WEXITSTATUS(*status_) : 128 + WTERMSIG(*status_);
}

std::optional<int> Background::stop(int signal) {
  if (!running()) return status_ ? wait(milliseconds(0)) : std::nullopt;
  kill(-pid_, signal);
  if (auto code = wait(milliseconds(5000))) return code;
  kill(-pid_, SIGKILL);
  reap(0);
  return std::nullopt;
}

void Background::reap(int flags) {
  if (pid_ <= 0 || status_) return;
  int status = 0;
  if (waitpid(pid_, &status, flags) == pid_) status_ = status;
}

::testing::AssertionResult correlator_answers(const std::string& socket) {
  const CommandResult r = run(mtool_binary() + " correlator status --socket " + socket);
  if (r.exit_code == 0) return ::testing::AssertionSuccess() << r.out;
  return ::testing::AssertionFailure() << r.err;
}

::testing::AssertionResult CorrelatorProcess::start(const std::string& uplink,
                                                    const std::string& extra_options) {
  ++starts_;
  process_ = std::make_unique<Background>(
      "exec " + mtool_binary() + " correlator --uplink " + uplink + " --pin-dir " + pin_dir_ +
          " --socket " + socket_ + (extra_options.empty() ? "" : " " + extra_options),
      "correlator" + std::to_string(starts_));
  if (!process_->started()) return ::testing::AssertionFailure() << "cannot spawn the correlator";
  bool exited = false;
  const bool up = wait_until(
      [&] {
        exited = !process_->running();
        return exited || correlator_answers(socket_);
      },
      milliseconds(5000));
  if (up && !exited) return ::testing::AssertionSuccess();
  return ::testing::AssertionFailure() << "the correlator did not start answering on " << socket_
                                       << (exited ? " (it exited)" : " (timeout)") << "; its log:\n"
                                       << process_->err();
}

std::optional<int> CorrelatorProcess::stop() {
  if (!process_) return std::nullopt;
  auto code = process_->stop(SIGTERM);
  log_ += process_->err();
  process_.reset();
  return code;
}

PrivateCorrelatorTest::PrivateCorrelatorTest(std::string pin_dir, std::string socket_dir,
                                             std::string ns_prefix)
    : pin_dir_(std::move(pin_dir)),
      socket_dir_(std::move(socket_dir)),
      ns_prefix_(std::move(ns_prefix)),
      correlator_(pin_dir_, socket_dir_ + "/correlator.sock") {}

void PrivateCorrelatorTest::SetUp() {
  if (!running_as_root()) GTEST_SKIP() << "needs root: loads BPF and makes namespaces";
  ASSERT_FALSE(correlator_answers(socket())) << "a correlator already answers on " << socket();
  clean_up();
}

void PrivateCorrelatorTest::TearDown() {
  background_.clear();
  if (correlator_.running()) {
    EXPECT_EQ(correlator_.stop(), std::optional<int>(0)) << correlator_.log();
  }
  clean_up();
  if (HasFailure()) std::cerr << "correlator log:\n" << correlator_.log();
}

void PrivateCorrelatorTest::clean_up() const {
  run("for ns in $(ip netns list | awk '{print $1}' | grep '^" + ns_prefix_ +
      "'); do ip netns del $ns; done");
  run("rm -rf " + pin_dir_ + " " + socket_dir_);
}

Background& PrivateCorrelatorTest::background(const std::string& command, const std::string& name) {
  background_.push_back(std::make_unique<Background>(command, name));
  return *background_.back();
}

}  // namespace mtool::testing
