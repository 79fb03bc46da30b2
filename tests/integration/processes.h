#pragma once
// Processes the root integration suites run beside a test: any command in the background (its
// own process group, output to files, stopped by the destructor also when the test fails), and
// `mtool correlator` on a testbed uplink with a suite's private pins and socket.
#include <gtest/gtest.h>
#include <sys/types.h>

#include <chrono>
#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <vector>

namespace mtool::testing {

// tests/testbed/testbed.sh for instance `index` (append " up ...", " down", " exec ...").
std::string testbed_script(int index);
// `testbed.sh up ARGS` (after a `down`) for instance `index`: its KEY=VALUE lines as a map.
// Empty, with `error` saying why, when it failed or a key in `required` is missing.
std::map<std::string, std::string> testbed_up(int index, const std::string& args,
                                              const std::vector<std::string>& required,
                                              std::string& error);
// "env MTOOL_BPF_PIN_DIR=... MTOOL_CORRELATOR_SOCKET=... ": how tools find a suite's correlator.
std::string correlator_env(const std::string& pin_dir, const std::string& socket);

// The cookie of the namespace `ip netns` calls `name` (what the correlator keys its state by),
// read from a thread that enters it (setns moves only the calling thread); 0 if it cannot.
std::uint64_t netns_cookie_of(const std::string& name);

std::string slurp(const std::string& path);
std::vector<std::string> lines_of(const std::string& text);

// Polls `done` every 20 ms until it holds or `timeout` passes. Waiting, never an assertion.
bool wait_until(const std::function<bool()>& done, std::chrono::milliseconds timeout);

// A command run in the background (/bin/sh -c, in its own process group), stdout and stderr to
// files named after `name`. The destructor stops the group (SIGTERM, then SIGKILL) if it runs.
class Background {
 public:
  Background(const std::string& command, const std::string& name);
  ~Background();
  Background(const Background&) = delete;
  Background& operator=(const Background&) = delete;

  [[nodiscard]] pid_t pid() const { return pid_; }
  [[nodiscard]] bool started() const { return pid_ > 0; }
  [[nodiscard]] bool running();
  // Waits for the process to end on its own; its exit code (128 + signal), or nullopt.
  std::optional<int> wait(std::chrono::milliseconds timeout);
  // Signals the whole group, waits up to 5 s, then kills it. Returns the exit code.
  std::optional<int> stop(int signal);
  [[nodiscard]] std::string out() const { return slurp(out_path_); }
  [[nodiscard]] std::string err() const { return slurp(err_path_); }

 private:
  void reap(int flags);

  pid_t pid_ = -1;
  std::optional<int> status_;
  std::string out_path_;
  std::string err_path_;
};

// An iptables rule ("CHAIN [-t TABLE] MATCH... -j TARGET") inside a namespace for the lifetime
// of the object.
class ScopedRule {
 public:
  ScopedRule(std::string ns, std::string rule);
  ~ScopedRule();
  ScopedRule(const ScopedRule&) = delete;
  ScopedRule& operator=(const ScopedRule&) = delete;
  [[nodiscard]] bool added() const { return added_; }
  [[nodiscard]] const std::string& error() const { return error_; }

 private:
  std::string ns_;
  std::string rule_;
  bool added_ = false;
  std::string error_;
};

// `mtool correlator status` on `socket` answers.
::testing::AssertionResult correlator_answers(const std::string& socket);

// `mtool correlator` on a testbed's uplink, with a suite's own pin directory and socket.
class CorrelatorProcess {
 public:
  CorrelatorProcess(std::string pin_dir, std::string socket)
      : pin_dir_(std::move(pin_dir)), socket_(std::move(socket)) {}
  // Starts it (with `extra_options` for `mtool correlator`) and waits (up to 5 s) until it
  // answers on its socket.
  ::testing::AssertionResult start(const std::string& uplink,
                                   const std::string& extra_options = "");
  // SIGTERM; the exit code, or nullopt if it had to be killed (or never ran).
  std::optional<int> stop();
  [[nodiscard]] bool running() const { return process_ != nullptr; }
  [[nodiscard]] pid_t pid() const { return process_ ? process_->pid() : -1; }
  [[nodiscard]] std::string log() const { return log_ + (process_ ? process_->err() : ""); }

 private:
  std::string pin_dir_;
  std::string socket_;
  std::unique_ptr<Background> process_;
  std::string log_;
  int starts_ = 0;
};

// A suite with a private correlator on `lo` (no testbed; such suites send no probe), its own
// pin directory and socket, and network namespaces named with `ns_prefix`: all removed before
// and after each test, also when it fails.
class PrivateCorrelatorTest : public ::testing::Test {
 protected:
  PrivateCorrelatorTest(std::string pin_dir, std::string socket_dir, std::string ns_prefix);
  void SetUp() override;
  void TearDown() override;
  void clean_up() const;
  [[nodiscard]] std::string socket() const { return socket_dir_ + "/correlator.sock"; }
  // Runs `command` in the background (stopped by TearDown).
  Background& background(const std::string& command, const std::string& name);

  std::string pin_dir_;
  std::string socket_dir_;
  std::string ns_prefix_;
  CorrelatorProcess correlator_;
  std::vector<std::unique_ptr<Background>> background_;
};

}  // namespace mtool::testing
