// The exporter module (lib/metrics/exporter_module): mapped only by a process that serves
// metrics, found only next to the executable, and a missing or foreign module is one line and
// exit 2 when --metrics asks for it. Sends nothing but echo requests to loopback; needs no root.
#include <gtest/gtest.h>
#include <unistd.h>

#include <chrono>
#include <string>
#include <vector>

#include "harness.h"
#include "modules/exporter_abi.h"
#include "processes.h"

namespace mtool::testing {
namespace {

using std::chrono::milliseconds;

// The libraries only the exporter module needs, as /proc/PID/maps names them.
const std::vector<std::string> kExporterLibraries = {MTOOL_EXPORTER_FILE, "libprometheus-cpp",
                                                     "libcivetweb"};

// Which of kExporterLibraries `command` (a process that runs a while) maps, once it has run
// for a moment: "" when none.
std::string exporter_libraries_mapped_by(const std::string& command, const std::string& name) {
  Background process("exec " + command, name);
  std::string maps;
  wait_until(
      [&] {
        maps = slurp("/proc/" + std::to_string(process.pid()) + "/maps");
        return maps.find(MTOOL_EXPORTER_FILE) != std::string::npos || !process.running();
      },
      milliseconds(1500));
  std::string mapped;
  for (const std::string& library : kExporterLibraries)
    if (maps.find(library) != std::string::npos) mapped += library + " ";
  return mapped;
}

TEST(MetricsModule, OnlyAProcessServingMetricsMapsIt) {
  EXPECT_EQ(exporter_libraries_mapped_by(mtool_binary() + " ping -c 3 -i 0.5 127.0.0.1", "ping"),
            "");
  // The same look at a process that serves metrics finds all of them.
  const std::string list = ::testing::TempDir() + "mtool-metrics-module-list.json";
  must("echo '[{\"type\": \"ping\", \"target\": \"127.0.0.1\", \"packets\": 1}]' > " + list);
  EXPECT_EQ(exporter_libraries_mapped_by(
                mtool_binary() + " run --metrics 127.0.0.1:0 --out " + "/dev/null " + list,
                "run-metrics"),
            MTOOL_EXPORTER_FILE " libprometheus-cpp libcivetweb ");
  ::unlink(list.c_str());
}

// A copy of the executable in a directory of its own, with `module` (a file, or "" for none)
// where it looks for the exporter: removed at the end, also on failure.
class MetricsModuleElsewhere : public ::testing::Test {
 protected:
  void TearDown() override {
    if (!root_.empty()) run("rm -rf " + root_);
  }
  std::string install(const std::string& module) {
    char pattern[] = "/tmp/mtool-module-test.XXXXXX";
    root_ = ::mkdtemp(pattern);
    must("mkdir -p " + root_ + "/bin " + root_ + "/lib/mtool && cp " + mtool_binary() + " " +
         root_ + "/bin/mtool");
    if (!module.empty()) must("cp " + module + " " + root_ + "/lib/mtool/" MTOOL_EXPORTER_FILE);
    return root_ + "/bin/mtool";
  }
  [[nodiscard]] std::string module_path() const {
    return root_ + "/lib/mtool/" MTOOL_EXPORTER_FILE;
  }
  std::string root_;
};

TEST_F(MetricsModuleElsewhere, AMissingModuleIsOneLineAndExit2OnlyWithMetrics) {
  const std::string mtool = install("");
  const CommandResult r = run(mtool + " run --metrics 127.0.0.1:0 /dev/null");
  EXPECT_EQ(r.exit_code, 2);
  EXPECT_EQ(r.err, "mtool run: --metrics needs the exporter module " + module_path() +
                       ": cannot open shared object file: No such file or directory\n");
  const CommandResult c = run(mtool + " correlator --metrics 127.0.0.1:0 --pin-dir /nonexistent");
  EXPECT_EQ(c.exit_code, 2);
  EXPECT_EQ(c.err, "mtool correlator: --metrics needs the exporter module " + module_path() +
                       ": cannot open shared object file: No such file or directory\n");
  // Without --metrics nothing is missing.
  const CommandResult ping = run(mtool + " ping -c 1 127.0.0.1");
  EXPECT_EQ(ping.exit_code, 0) << ping.err;
  EXPECT_EQ(ping.err, "");
}

TEST_F(MetricsModuleElsewhere, AModuleOfAnotherVersionIsRefusedByName) {
  // Any shared object without this version's entry point stands for one.
  const std::string mtool = install("/lib/x86_64-linux-gnu/libmnl.so.0");
  const CommandResult r = run(mtool + " run --metrics 127.0.0.1:0 /dev/null");
  EXPECT_EQ(r.exit_code, 2);
  EXPECT_EQ(r.err, "mtool run: --metrics needs the exporter module " + module_path() +
                       ": it has no " MTOOL_EXPORTER_ENTRY
                       " (a module of another mtool version)\n");
}

}  // namespace
}  // namespace mtool::testing
