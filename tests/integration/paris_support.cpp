#include "paris_support.h"

#include <arpa/inet.h>

#include <chrono>
#include <csignal>
#include <cstring>
#include <fstream>
#include <iterator>
#include <regex>
#include <thread>

#include "harness.h"
#include "processes.h"

namespace mtool::testing {

HopSets hop_sets(const std::string& trace) {
  // Four dotted numbers (times have one dot), or hex groups with colons.
  static const std::regex address(
      R"(\b([0-9]+\.[0-9]+\.[0-9]+\.[0-9]+)\b|([0-9a-f]*:[0-9a-f:]*[0-9a-f]))");
  HopSets hops;
  const std::vector<std::string> lines = lines_of(trace);
  for (std::size_t i = 1; i < lines.size(); ++i) {
    std::set<std::string> seen;
    for (auto it = std::sregex_iterator(lines[i].begin(), lines[i].end(), address);
         it != std::sregex_iterator(); ++it) {
      seen.insert((*it)[0]);
    }
    hops.push_back(seen);
  }
  return hops;
}

void expect_one_path(const HopSets& expected, const std::string& args, const HopSets& hops,
                     const std::string& trace) {
  ASSERT_EQ(hops.size(), expected.size()) << args << "\n" << trace;
  for (std::size_t h = 0; h < hops.size(); ++h) {
    EXPECT_EQ(hops[h].size(), 1U) << args << ": hop " << h + 1 << "\n" << trace;
    for (const auto& a : hops[h])
      EXPECT_TRUE(expected[h].contains(a)) << args << ": hop " << h + 1 << " " << a;
  }
}

std::string traceroute_command(const MultipathBed& bed, const std::string& args,
                               const std::string& prefix) {
  const bool v6 = args.starts_with("-6") || args.find(" -6") != std::string::npos;
  return bed.in_container(prefix + mtool_binary() + " traceroute " + args + " " +
                          bed.end(v6 ? AF_INET6 : AF_INET));
}

bool capture_while(const MultipathBed& bed, const std::string& command, const std::string& hosts,
                   const std::string& path, std::string& diagnostics) {
  run("rm -f " + path);
  Background capture(
      bed.in_container("tcpdump --immediate-mode -U -n -i eth0 -w " + path + " dst host " + hosts),
      "paris-tcpdump");
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

std::vector<WireProbe> read_capture(const std::string& path, const std::string& destination) {
  std::ifstream in(path, std::ios::binary);
  const std::vector<unsigned char> bytes((std::istreambuf_iterator<char>(in)), {});
  std::vector<WireProbe> probes;
  const bool v6 = destination.find(':') != std::string::npos;
  unsigned char wanted[16] = {};
  if (inet_pton(v6 ? AF_INET6 : AF_INET, destination.c_str(), wanted) != 1) return probes;
  std::size_t at = 24;  // the global header
  while (at + 16 <= bytes.size()) {
    const std::size_t length = bytes[at + 8] | (bytes[at + 9] << 8) | (bytes[at + 10] << 16) |
                               (static_cast<std::size_t>(bytes[at + 11]) << 24);
    const unsigned char* frame = &bytes[at + 16];
    at += 16 + length;
    if (at > bytes.size() || length < 14 + 20 + 8) continue;
    const unsigned char* ip = frame + 14;
    WireProbe p;
    std::size_t header = 0;
    if (!v6 && frame[12] == 0x08 && frame[13] == 0x00) {
      if (std::memcmp(ip + 16, wanted, 4) != 0) continue;
      header = (ip[0] & 0x0F) * 4U;
      p.protocol = ip[9];
      p.ttl = ip[8];
    } else if (v6 && frame[12] == 0x86 && frame[13] == 0xDD) {
      if (length < 14 + 40 + 8 || std::memcmp(ip + 24, wanted, 16) != 0) continue;
      header = 40;
      p.protocol = ip[6];
      p.ttl = ip[7];
      p.flow_label = ((ip[1] & 0x0FU) << 16) | (ip[2] << 8) | ip[3];
    } else {
      continue;
    }
    if (length < 14 + header + 8) continue;
    const unsigned char* l4 = ip + header;
    for (int w = 0; w < 4; ++w)
      p.word[w] = static_cast<std::uint16_t>((l4[2 * w] << 8) | l4[2 * w + 1]);
    p.tcp_sequence = (static_cast<std::uint32_t>(p.word[2]) << 16) | p.word[3];
    probes.push_back(p);
  }
  return probes;
}

FlowFields flow_fields(const WireProbe& p) {
  FlowFields f;
  f.held[0] = p.flow_label;
  switch (p.protocol) {
    case 1:
    case 58:  // type/code, checksum, identifier | sequence
      f.held[1] = p.word[0];
      f.held[2] = p.word[1];
      f.held[3] = p.word[2];
      f.told_apart = p.word[3];
      break;
    case 17:  // ports | checksum
      f.held[1] = p.word[0];
      f.held[2] = p.word[1];
      f.told_apart = p.word[3];
      break;
    default:  // ports | sequence number
      f.held[1] = p.word[0];
      f.held[2] = p.word[1];
      f.told_apart = p.tcp_sequence;
  }
  return f;
}

FlowSummary summarise_flows(const std::vector<WireProbe>& probes) {
  FlowSummary summary;
  for (const WireProbe& p : probes) {
    const FlowFields f = flow_fields(p);
    summary.held.insert(f.held);
    summary.told_apart.insert(f.told_apart);
  }
  return summary;
}

}  // namespace mtool::testing
