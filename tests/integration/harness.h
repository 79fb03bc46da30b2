#pragma once
// Helpers for root-only integration tests: run a command and capture its output, build
// network namespaces with addresses in 198.18.0.0/15 and tear them down even on failure,
// and mask the measured numbers out of ping output so shapes can be compared.
#include <string>
#include <vector>

namespace mtool::testing {

struct CommandResult {
  std::string out;
  std::string err;
  int exit_code = -1;
};

// Runs `command` with /bin/sh -c, stdin from /dev/null, capturing stdout and stderr.
CommandResult run(const std::string& command);
// Runs a setup command; aborts the test (fatal failure) if it fails.
void must(const std::string& command);

bool running_as_root();
const std::string& mtool_binary();

// A target host in its own network namespace, reached from the root namespace through a veth
// pair: host side 198.18.<net>.1/30 and fd00:6d74:<net>::1/64, target side .2 and ::2.
class NetnsTarget {
 public:
  explicit NetnsTarget(int net);
  ~NetnsTarget();
  NetnsTarget(const NetnsTarget&) = delete;
  NetnsTarget& operator=(const NetnsTarget&) = delete;

  [[nodiscard]] const std::string& ns() const { return ns_; }
  [[nodiscard]] const std::string& host_if() const { return host_if_; }
  [[nodiscard]] std::string v4() const;       // target address
  [[nodiscard]] std::string host_v4() const;  // our side
  [[nodiscard]] std::string v6() const;
  // Runs a command inside the target namespace.
  void exec(const std::string& command) const;

 private:
  int net_;
  std::string ns_;
  std::string host_if_;
};

// Replaces measured values (RTTs, elapsed time, -D stamps, ipg/ewma) with placeholders.
std::string mask_numbers(const std::string& ping_output);

}  // namespace mtool::testing
