#include "paris_support.h"

#include <arpa/inet.h>

#include <cstring>
#include <fstream>
#include <iterator>
#include <regex>
#include <sstream>

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

std::set<std::string> words(const std::string& text) {
  std::istringstream in(text);
  std::set<std::string> out;
  for (std::string w; std::getline(in, w, ',');) out.insert(w);
  return out;
}

std::string joined(const std::set<std::string>& s) {
  std::string out;
  for (const auto& w : s) out += (out.empty() ? "" : " ") + w;
  return "{" + out + "}";
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
