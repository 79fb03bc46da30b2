#pragma once
// A list of measurements in RIPE Atlas' terms, as `mtool run` reads it: an Atlas v2 creation
// body ({"definitions": [...], ...}), a JSON array of definitions, or JSON lines (one
// definition per line). Every field keeps its Atlas meaning, default and range; what mtool
// cannot honour locally is refused by name instead of silently ignored. Pure: no sockets, no
// name resolution.
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace mtool::campaign {

enum class MeasurementType { kPing, kTraceroute };
enum class TraceProtocol { kIcmp, kUdp, kTcp };

const char* protocol_name(TraceProtocol protocol);  // "ICMP", "UDP", "TCP"

struct Schedule {
  bool is_oneoff = true;        // false: repeat every `interval` seconds
  std::int64_t interval_s = 0;  // Atlas defaults: ping 240, traceroute 900 (when periodic)
  std::optional<std::int64_t> start_time;  // Unix seconds; absent: now
  std::optional<std::int64_t> stop_time;   // Unix seconds; absent: one run (one-off) or forever
  std::int64_t spread_s = 0;  // start each run at a random offset within this many seconds
};

struct PingParameters {
  unsigned packets = 3;                // 1..16
  unsigned size = 48;                  // ICMP data bytes, 1..2048
  unsigned packet_interval_ms = 1000;  // 2..30000
};

struct TracerouteParameters {
  TraceProtocol protocol = TraceProtocol::kIcmp;
  unsigned packets = 3;                 // per hop, 1..16
  unsigned size = 48;                   // 0..2048
  unsigned first_hop = 1;               // 1..255
  unsigned max_hops = 32;               // 1..255
  unsigned port = 80;                   // TCP only, 1..65535
  unsigned response_timeout_ms = 4000;  // 1..60000
  unsigned paris = 16;                  // 0..64 (0: classic traceroute)
  bool dont_fragment = false;
};

struct MeasurementDefinition {
  std::size_t index = 0;  // position in the list (0-based), for messages and ordering
  MeasurementType type = MeasurementType::kPing;
  int af = 4;  // 4 or 6
  std::string target;
  std::string description;
  std::optional<std::uint32_t> msm_id;  // assigned by the runner when absent
  Schedule schedule;
  PingParameters ping;              // type == kPing
  TracerouteParameters traceroute;  // type == kTraceroute
};

struct ListProblem {
  std::string text;  // one line: "definition 3: field 'packets': 17 is out of range (1..16)"
};

struct MeasurementList {
  std::vector<MeasurementDefinition> definitions;  // the valid ones, in list order
  std::vector<ListProblem> problems;               // the invalid ones (and list-level errors)
  std::size_t total = 0;                           // definitions found, valid or not
};

// Parses and validates a whole list. A list-level error (not JSON, no definitions) leaves
// `definitions` empty with one problem; otherwise each invalid definition adds one problem
// naming its index and the first offending field.
MeasurementList parse_measurement_list(std::string_view text);

}  // namespace mtool::campaign
