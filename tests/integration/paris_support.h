#pragma once
// What the Paris suites read back from the multipath testbed (multipath_bed.h): the routers each
// hop line of a trace shows, and the probes a capture on the container's eth0 saw, with the
// fields Paris holds or varies.
#include <array>
#include <cstdint>
#include <set>
#include <string>
#include <vector>

#include "multipath_bed.h"

namespace mtool::testing {

// The addresses each hop line of `trace` shows (after its header line), IPv4 or IPv6 (`-n`).
HopSets hop_sets(const std::string& trace);

// A trace that reached the end on one path: each hop one router of that hop's.
void expect_one_path(const HopSets& expected, const std::string& args, const HopSets& hops,
                     const std::string& trace);

// `mtool traceroute ARGS END` in the container, after `prefix` (env, setpriv...); ARGS with -6
// trace to the IPv6 end.
std::string traceroute_command(const MultipathBed& bed, const std::string& args,
                               const std::string& prefix);

// Runs `command` (which must succeed) while tcpdump on the container's eth0 writes to `path`
// what goes to `hosts` ("A or B" works); `diagnostics` says what ran and what tcpdump said, for
// messages. Whether both went well.
bool capture_while(const MultipathBed& bed, const std::string& command, const std::string& hosts,
                   const std::string& path, std::string& diagnostics);

// A probe as a capture shows it: its transport header's first 8 bytes.
struct WireProbe {
  int protocol = 0;
  unsigned ttl = 0;
  std::uint32_t flow_label = 0;  // IPv6 only
  std::uint16_t word[4] = {};    // UDP: ports, length, checksum; ICMP: type/code, checksum, id, seq
  std::uint32_t tcp_sequence = 0;
};

// Probes to `destination` (IPv4 or IPv6, numeric) in a classic pcap file of Ethernet frames.
std::vector<WireProbe> read_capture(const std::string& path, const std::string& destination);

// A probe's fields as Paris sees them: those balancers hash, which every probe of a flow holds
// (the IPv6 flow label; the ports; ICMP's type, code, checksum and identifier), and the one
// that tells the probes of a flow apart (UDP's checksum, ICMP's sequence, TCP's sequence
// number).
struct FlowFields {
  std::array<std::uint32_t, 4> held{};
  std::uint32_t told_apart = 0;
};
FlowFields flow_fields(const WireProbe& p);

// Of a group of probes: the distinct held fields (one for a Paris flow) and the distinct
// told-apart values (one per probe).
struct FlowSummary {
  std::set<std::array<std::uint32_t, 4>> held;
  std::set<std::uint32_t> told_apart;
};
FlowSummary summarise_flows(const std::vector<WireProbe>& probes);

}  // namespace mtool::testing
