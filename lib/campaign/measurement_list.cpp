#include "campaign/measurement_list.h"

#include <limits>
#include <nlohmann/json.hpp>
#include <set>
#include <sstream>

#include "util/printable.h"

namespace mtool::campaign {
namespace {

using nlohmann::json;

// The deepest nesting of arrays and objects a list may have (a definition is one level, a
// creation body's definitions three). Deeper input is refused before any of it is built:
// nlohmann-json copies, compares and dumps values recursively.
constexpr int kMaxDepth = 64;

// An object that had a key twice gets this key, whose value is a binary value (which no JSON
// text can produce) holding the first repeated key.
const std::string kRepeatedKeyMarker("\0mtool-repeated-key", sizeof("\0mtool-repeated-key") - 1);
constexpr std::uint8_t kRepeatedKeySubtype = 0x44;

// The key `v` (an object) had more than once, if any.
std::optional<std::string> repeated_key(const json& v) {
  if (!v.is_object()) return std::nullopt;
  const auto marker = v.find(kRepeatedKeyMarker);
  if (marker == v.end() || !marker->is_binary()) return std::nullopt;
  const auto& bytes = marker->get_binary();
  if (!bytes.has_subtype() || bytes.subtype() != kRepeatedKeySubtype) return std::nullopt;
  return std::string(bytes.begin(), bytes.end());
}

// The first thing wrong with a definition.
struct FieldError {
  std::string field;
  std::string what;
};

struct TooDeep {};

// Parses one JSON text (discarded: not JSON). An object with a repeated key is marked (see
// repeated_key: nlohmann-json keeps the last value silently); nesting beyond kMaxDepth throws
// TooDeep (the scan in parse_measurement_list refuses it first; this is the parser's own guard).
json parse_json(std::string_view text) {
  std::vector<std::pair<std::set<std::string>, std::optional<std::string>>> objects;  // open ones
  const json::parser_callback_t guard = [&objects](int depth, json::parse_event_t event,
                                                   json& parsed) {
    switch (event) {
      case json::parse_event_t::object_start:
      case json::parse_event_t::array_start:
        if (depth >= kMaxDepth) throw TooDeep{};
        if (event == json::parse_event_t::object_start) objects.emplace_back();
        break;
      case json::parse_event_t::key: {
        auto& [keys, repeated] = objects.back();
        if (!keys.insert(parsed.get<std::string>()).second && !repeated)
          repeated = parsed.get<std::string>();
        break;
      }
      case json::parse_event_t::object_end: {
        const std::optional<std::string> repeated = std::move(objects.back().second);
        objects.pop_back();
        if (repeated) {
          parsed[kRepeatedKeyMarker] =
              json::binary(json::binary_t::container_type(repeated->begin(), repeated->end()),
                           kRepeatedKeySubtype);
        }
        break;
      }
      default:
        break;
    }
    return true;
  };
  return json::parse(text.begin(), text.end(), guard, false);
}

// A field's value must hold no control character and no object with a repeated key, at any
// depth (at most kMaxDepth).
void check_value(const std::string& field, const json& v) {
  if (const auto key = repeated_key(v)) {
    throw FieldError{field, "has the key '" + printable(*key) + "' more than once"};
  }
  if (v.is_string()) {
    if (const auto control = first_control_character(v.get_ref<const std::string&>())) {
      throw FieldError{field, "contains a control character (" + *control + ")"};
    }
  } else if (v.is_structured()) {
    for (const auto& [key, element] : v.items()) {
      if (v.is_object()) {
        if (const auto control = first_control_character(key)) {
          throw FieldError{field, "contains a control character (" + *control + ")"};
        }
      }
      check_value(field, element);
    }
  }
}

// Atlas fields that change nothing when the measurement runs here: accepted, not used.
const std::set<std::string>& ignored_fields() {
  static const std::set<std::string> fields = {"is_public",
                                               "tags",
                                               "resolve_on_probe",
                                               "skip_dns_check",
                                               "group_id",
                                               "target_update_hours",
                                               "auto_topup",
                                               "auto_topup_prb_days_off",
                                               "auto_topup_prb_similarity",
                                               "include_probe_id",
                                               "duplicate_timeout"};
  return fields;
}

const std::set<std::string>& common_fields() {
  static const std::set<std::string> fields = {"type",      "af",        "target",   "description",
                                               "msm_id",    "is_oneoff", "interval", "start_time",
                                               "stop_time", "spread"};
  return fields;
}

const std::set<std::string>& ping_fields() {
  static const std::set<std::string> fields = {"packets", "size", "packet_interval"};
  return fields;
}

const std::set<std::string>& traceroute_fields() {
  static const std::set<std::string> fields = {"protocol",
                                               "packets",
                                               "size",
                                               "first_hop",
                                               "max_hops",
                                               "port",
                                               "response_timeout",
                                               "timeout",
                                               "paris",
                                               "dont_fragment",
                                               "destination_option_size",
                                               "hop_by_hop_option_size"};
  return fields;
}

// Reads typed fields out of one definition object, with Atlas' ranges.
class Reader {
 public:
  explicit Reader(const json& object) : object_(object) {}

  [[nodiscard]] bool has(const char* field) const { return object_.contains(field); }

  std::int64_t integer(const char* field, std::int64_t min, std::int64_t max,
                       std::int64_t fallback) const {
    if (!has(field)) return fallback;
    const json& v = object_.at(field);
    if (!v.is_number_integer()) {
      throw FieldError{field, "must be an integer, not " + describe(v)};
    }
    if (v.is_number_unsigned() && v.get<std::uint64_t>() > static_cast<std::uint64_t>(max)) {
      throw FieldError{field, v.dump() + " is out of range (" + std::to_string(min) + ".." +
                                  std::to_string(max) + ")"};
    }
    const auto value = v.get<std::int64_t>();
    if (value < min || value > max) {
      throw FieldError{field, v.dump() + " is out of range (" + std::to_string(min) + ".." +
                                  std::to_string(max) + ")"};
    }
    return value;
  }

  bool boolean(const char* field, bool fallback) const {
    if (!has(field)) return fallback;
    const json& v = object_.at(field);
    if (!v.is_boolean()) throw FieldError{field, "must be true or false, not " + describe(v)};
    return v.get<bool>();
  }

  std::string string(const char* field, std::size_t max_length, bool required) const {
    if (!has(field)) {
      if (required) throw FieldError{field, "is required"};
      return {};
    }
    const json& v = object_.at(field);
    if (!v.is_string()) throw FieldError{field, "must be a string, not " + describe(v)};
    auto text = v.get<std::string>();
    if (required && text.empty()) throw FieldError{field, "must not be empty"};
    if (const auto control = first_control_character(text)) {
      throw FieldError{field, "contains a control character (" + *control + ")"};
    }
    if (text.size() > max_length) {
      throw FieldError{field, "is longer than " + std::to_string(max_length) + " characters"};
    }
    return text;
  }

  static std::string describe(const json& v) {
    if (v.is_null()) return "null";
    if (v.is_boolean()) return v.get<bool>() ? "true" : "false";
    if (v.is_number_float()) return "the number " + v.dump();
    if (v.is_string()) return "a string";
    if (v.is_array()) return "an array";
    if (v.is_object()) return "an object";
    return v.dump();
  }

 private:
  const json& object_;
};

// Top-level fields of a creation body that apply to every definition without its own.
struct ListDefaults {
  std::optional<bool> is_oneoff;
  std::optional<std::int64_t> start_time;
  std::optional<std::int64_t> stop_time;
};

constexpr std::int64_t kMaxTime = 4102444800;  // 2100-01-01: a Unix time, not a typo

MeasurementDefinition read_definition(const json& object, std::size_t index,
                                      const ListDefaults& list) {
  if (const auto key = repeated_key(object)) throw FieldError{*key, "appears more than once"};
  if (!object.is_object())
    throw FieldError{"", "must be a JSON object, not " + Reader::describe(object)};
  const Reader r(object);
  MeasurementDefinition d;
  d.index = index;

  const std::string type = r.string("type", 32, true);
  if (type == "ping") {
    d.type = MeasurementType::kPing;
  } else if (type == "traceroute") {
    d.type = MeasurementType::kTraceroute;
  } else {
    throw FieldError{"type",
                     "'" + printable(type) + "' is not supported by mtool run (ping, traceroute)"};
  }
  // Every field must be known for this type: a typo must not silently become a default.
  for (const auto& [key, value] : object.items()) {
    const bool known =
        common_fields().contains(key) || ignored_fields().contains(key) ||
        (d.type == MeasurementType::kPing ? ping_fields() : traceroute_fields()).contains(key);
    if (!known) throw FieldError{key, "is not a " + type + " definition field"};
    check_value(key, value);
  }

  const std::int64_t af = r.integer("af", 4, 6, 4);
  if (af != 4 && af != 6) throw FieldError{"af", std::to_string(af) + " is not 4 or 6"};
  d.af = static_cast<int>(af);
  d.target = r.string("target", 255, true);
  d.description = r.string("description", 1024, false);
  if (r.has("msm_id")) {
    d.msm_id = static_cast<std::uint32_t>(
        r.integer("msm_id", 1, std::numeric_limits<std::int32_t>::max(), 1));
  }

  // Scheduling: one-off unless the definition (or the list) asks for an interval.
  Schedule& s = d.schedule;
  const bool periodic_by_interval = r.has("interval");
  s.is_oneoff = r.boolean("is_oneoff", list.is_oneoff.value_or(!periodic_by_interval));
  const std::int64_t default_interval = d.type == MeasurementType::kPing ? 240 : 900;
  s.interval_s = r.integer("interval", 60, 366LL * 86400, default_interval);
  if (r.has("start_time")) {
    s.start_time = r.integer("start_time", 0, kMaxTime, 0);
  } else {
    s.start_time = list.start_time;
  }
  if (r.has("stop_time")) {
    s.stop_time = r.integer("stop_time", 0, kMaxTime, 0);
  } else {
    s.stop_time = list.stop_time;
  }
  if (s.start_time && s.stop_time && *s.stop_time <= *s.start_time) {
    throw FieldError{"stop_time", std::to_string(*s.stop_time) + " is not after start_time " +
                                      std::to_string(*s.start_time)};
  }
  s.spread_s = r.integer("spread", 0, s.interval_s, 0);

  if (d.type == MeasurementType::kPing) {
    d.ping.packets = static_cast<unsigned>(r.integer("packets", 1, 16, 3));
    d.ping.size = static_cast<unsigned>(r.integer("size", 1, 2048, 48));
    d.ping.packet_interval_ms = static_cast<unsigned>(r.integer("packet_interval", 2, 30000, 1000));
    return d;
  }
  TracerouteParameters& t = d.traceroute;
  const std::string protocol = r.has("protocol") ? r.string("protocol", 8, true) : "ICMP";
  if (protocol == "ICMP")
    t.protocol = TraceProtocol::kIcmp;
  else if (protocol == "UDP")
    t.protocol = TraceProtocol::kUdp;
  else if (protocol == "TCP")
    t.protocol = TraceProtocol::kTcp;
  else
    throw FieldError{"protocol", "'" + printable(protocol) + "' is not ICMP, UDP or TCP"};
  t.packets = static_cast<unsigned>(r.integer("packets", 1, 16, 3));
  t.size = static_cast<unsigned>(r.integer("size", 0, 2048, 48));
  t.first_hop = static_cast<unsigned>(r.integer("first_hop", 1, 255, 1));
  t.max_hops = static_cast<unsigned>(r.integer("max_hops", 1, 255, 32));
  if (t.first_hop > t.max_hops) {
    throw FieldError{"first_hop", std::to_string(t.first_hop) + " is beyond max_hops " +
                                      std::to_string(t.max_hops)};
  }
  t.port = static_cast<unsigned>(r.integer("port", 1, 65535, 80));
  if (r.has("response_timeout") && r.has("timeout")) {
    throw FieldError{"timeout", "given together with response_timeout (the same setting)"};
  }
  t.response_timeout_ms = static_cast<unsigned>(
      r.integer(r.has("timeout") ? "timeout" : "response_timeout", 1, 60000, 4000));
  t.paris = static_cast<unsigned>(r.integer("paris", 0, 64, 16));
  t.dont_fragment = r.boolean("dont_fragment", false);
  for (const char* field : {"destination_option_size", "hop_by_hop_option_size"}) {
    if (r.integer(field, 0, 2048, 0) != 0)
      throw FieldError{field, "IPv6 option headers are not supported by mtool run"};
  }
  return d;
}

std::string problem_text(std::size_t index, const std::optional<std::size_t>& line,
                         const FieldError& e) {
  std::string text = "definition " + std::to_string(index);
  if (line) text += " (line " + std::to_string(*line) + ")";
  if (!e.field.empty()) text += ": field '" + printable(e.field) + "'";
  return text + ": " + e.what;
}

void add_definition(const json& object, const std::optional<std::size_t>& line,
                    const ListDefaults& defaults, MeasurementList& out) {
  const std::size_t index = out.total++;
  try {
    out.definitions.push_back(read_definition(object, index, defaults));
  } catch (const FieldError& e) {
    out.problems.push_back({problem_text(index, line, e)});
  }
}

void add_definitions(const json& array, const ListDefaults& defaults, MeasurementList& out) {
  for (const json& object : array) add_definition(object, std::nullopt, defaults, out);
}

// A creation body: {"definitions": [...], "probes": ..., "is_oneoff": ..., ...}.
void read_creation_body(const json& body, MeasurementList& out) {
  static const std::set<std::string> known = {"definitions", "probes",    "is_oneoff",
                                              "start_time",  "stop_time", "bill_to"};
  if (const auto key = repeated_key(body)) {
    out.problems.push_back({"list: field '" + printable(*key) + "' appears more than once"});
    return;
  }
  for (const auto& [key, value] : body.items()) {
    if (!known.contains(key)) {
      out.problems.push_back(
          {"list: field '" + printable(key) + "' is not a measurement creation field"});
      return;
    }
  }
  ListDefaults defaults;
  try {
    const Reader r(body);
    if (r.has("is_oneoff")) defaults.is_oneoff = r.boolean("is_oneoff", true);
    if (r.has("start_time")) defaults.start_time = r.integer("start_time", 0, kMaxTime, 0);
    if (r.has("stop_time")) defaults.stop_time = r.integer("stop_time", 0, kMaxTime, 0);
  } catch (const FieldError& e) {
    out.problems.push_back({"list: field '" + printable(e.field) + "': " + e.what});
    return;
  }
  const json& definitions = body.at("definitions");
  if (!definitions.is_array()) {
    out.problems.push_back(
        {"list: field 'definitions' must be an array, not " + Reader::describe(definitions)});
    return;
  }
  add_definitions(definitions, defaults, out);
}

}  // namespace

const char* protocol_name(TraceProtocol protocol) {
  switch (protocol) {
    case TraceProtocol::kIcmp:
      return "ICMP";
    case TraceProtocol::kUdp:
      return "UDP";
    case TraceProtocol::kTcp:
      return "TCP";
  }
  return "ICMP";
}

namespace {

// What no parser may see: a NUL byte (nlohmann-json takes it for the end of the input, so what
// follows was silently lost) and nesting beyond kMaxDepth. Brackets inside strings do not count;
// a string ends at the latest with its line (JSON allows no raw newline in one), so each JSON
// line is scanned as it will be parsed.
std::optional<std::string> scan_problem(std::string_view text) {
  std::size_t line = 1;
  int depth = 0;
  bool in_string = false;
  for (std::size_t i = 0; i < text.size(); ++i) {
    const char c = text[i];
    const auto place = [&] {
      return " at line " + std::to_string(line) + " (offset " + std::to_string(i) + ")";
    };
    if (c == '\0') return "list: a NUL byte" + place();
    if (c == '\n') {
      ++line;
      in_string = false;
    } else if (in_string) {
      if (c == '\\' && i + 1 < text.size() && text[i + 1] != '\n' && text[i + 1] != '\0')
        ++i;
      else if (c == '"')
        in_string = false;
    } else if (c == '"') {
      in_string = true;
    } else if (c == '[' || c == '{') {
      if (++depth > kMaxDepth)
        return "list: nested deeper than " + std::to_string(kMaxDepth) + " levels" + place();
    } else if ((c == ']' || c == '}') && depth > 0) {
      --depth;
    }
  }
  return std::nullopt;
}

void read_json_lines(std::string_view text, MeasurementList& out) {
  std::size_t line_number = 0;
  for (std::size_t start = 0; start < text.size();) {
    const std::size_t end = std::min(text.find('\n', start), text.size());
    const std::string_view line = text.substr(start, end - start);
    start = end + 1;
    ++line_number;
    if (line.find_first_not_of(" \t\r") == std::string_view::npos) continue;
    json object;
    try {
      object = parse_json(line);
    } catch (const TooDeep&) {
      object = json(json::value_t::discarded);
    }
    if (object.is_discarded()) {
      if (line_number == 1 && text.find('\n') == std::string_view::npos)
        return;  // a list-level error
      out.problems.push_back({problem_text(out.total++, line_number, {"", "is not valid JSON"})});
      continue;
    }
    add_definition(object, line_number, {}, out);
  }
}

}  // namespace

MeasurementList parse_measurement_list(std::string_view text) {
  MeasurementList out;
  if (auto problem = scan_problem(text)) {
    out.problems.push_back({std::move(*problem)});
    return out;
  }
  json whole;
  try {
    whole = parse_json(text);
  } catch (const TooDeep&) {
    out.problems.push_back({"list: nested deeper than " + std::to_string(kMaxDepth) + " levels"});
    return out;
  }
  if (!whole.is_discarded()) {
    if (whole.is_object() && whole.contains("definitions")) {
      read_creation_body(whole, out);
    } else if (whole.is_array()) {
      add_definitions(whole, {}, out);
    } else if (whole.is_object()) {
      add_definition(whole, std::nullopt, {}, out);  // JSON lines with one line
    } else {
      out.problems.push_back(
          {"list: expected a creation body, an array of definitions or JSON lines, not " +
           Reader::describe(whole)});
    }
  } else {
    // JSON lines: one definition per non-empty line.
    read_json_lines(text, out);
    if (out.total == 0 && out.problems.empty()) {
      out.problems.push_back(
          {text.find_first_not_of(" \t\r\n") == std::string_view::npos
               ? "list: empty (no definitions)"
               : "list: not JSON (a creation body, an array of definitions, or JSON lines)"});
    }
  }
  if (out.problems.empty() && out.total == 0)
    out.problems.push_back({"list: empty (no definitions)"});
  return out;
}

}  // namespace mtool::campaign
