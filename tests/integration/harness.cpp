#include "harness.h"

#include <gtest/gtest.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cstdio>
#include <fstream>
#include <regex>
#include <sstream>

namespace mtool::testing {
namespace {

std::string slurp(const std::string& path) {
  std::ifstream in(path);
  std::stringstream s;
  s << in.rdbuf();
  return s.str();
}

}  // namespace

CommandResult run(const std::string& command) {
  char out_path[] = "/tmp/mtool-it-out-XXXXXX";
  char err_path[] = "/tmp/mtool-it-err-XXXXXX";
  const int out_fd = mkstemp(out_path);
  const int err_fd = mkstemp(err_path);
  close(out_fd);
  close(err_fd);
  const std::string full = "(" + command + ") </dev/null >" + out_path + " 2>" + err_path;
  const int status = std::system(full.c_str());
  CommandResult r;
  r.out = slurp(out_path);
  r.err = slurp(err_path);
  r.exit_code = WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
  unlink(out_path);
  unlink(err_path);
  return r;
}

void must(const std::string& command) {
  const CommandResult r = run(command);
  ASSERT_EQ(r.exit_code, 0) << command << "\n" << r.err;
}

bool running_as_root() { return geteuid() == 0; }

const std::string& mtool_binary() {
  static const std::string path = MTOOL_BINARY;
  return path;
}

NetnsTarget::NetnsTarget(int net)
    : net_(net),
      ns_("mtool-it-" + std::to_string(getpid()) + "-" + std::to_string(net)),
      host_if_("mtit" + std::to_string(net) + "h") {
  run("ip netns del " + ns_ + " 2>/dev/null; ip link del " + host_if_ + " 2>/dev/null");
  must("ip netns add " + ns_);
  must("ip link add " + host_if_ + " type veth peer name eth0 netns " + ns_);
  must("ip addr add " + host_v4() + "/30 dev " + host_if_);
  must("ip -6 addr add fd00:6d74:" + std::to_string(net_) + "::1/64 dev " + host_if_ + " nodad");
  must("ip link set " + host_if_ + " up");
  exec("ip link set lo up");
  // Tests provoke ICMP errors back to back: no rate limit, or some would silently vanish.
  exec("sysctl -qw net.ipv4.icmp_ratelimit=0 net.ipv6.icmp.ratelimit=0");
  exec("ip addr add " + v4() + "/30 dev eth0");
  exec("ip -6 addr add " + v6() + "/64 dev eth0 nodad");
  exec("ip link set eth0 up");
}

NetnsTarget::~NetnsTarget() {
  run("ip link del " + host_if_ + " 2>/dev/null");
  run("ip netns del " + ns_ + " 2>/dev/null");
}

std::string NetnsTarget::v4() const { return "198.18." + std::to_string(net_) + ".2"; }
std::string NetnsTarget::host_v4() const { return "198.18." + std::to_string(net_) + ".1"; }
std::string NetnsTarget::v6() const { return "fd00:6d74:" + std::to_string(net_) + "::2"; }

void NetnsTarget::exec(const std::string& command) const {
  must("ip netns exec " + ns_ + " " + command);
}

std::string mask_numbers(const std::string& text) {
  static const std::regex reply_time(R"(time=[0-9.]+ ms)");
  static const std::regex total_time(R"(time [0-9]+ms)");
  static const std::regex rtt_line(R"(= [0-9.]+/[0-9.]+/[0-9.]+/[0-9.]+ ms)");
  static const std::regex ipg(R"(ipg/ewma [0-9.]+/[0-9.]+ ms)");
  static const std::regex stamp(R"(\[[0-9]+\.[0-9]{6}\])");
  std::string s = std::regex_replace(text, reply_time, "time=T ms");
  s = std::regex_replace(s, total_time, "time Tms");
  s = std::regex_replace(s, rtt_line, "= T/T/T/T ms");
  s = std::regex_replace(s, ipg, "ipg/ewma T/T ms");
  return std::regex_replace(s, stamp, "[S]");
}

}  // namespace mtool::testing
