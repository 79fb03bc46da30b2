#include "analysis/result_parser.h"

#include <simdjson.h>

#include <cmath>
#include <limits>
#include <utility>

#include "util/printable.h"

namespace mtool::analysis {

static_assert(ResultParser::kPadding >= simdjson::SIMDJSON_PADDING);

namespace {

namespace od = simdjson::ondemand;

// Why a text is not a result. A JSON error breaks the reading of anything after it (in an
// array, the elements that follow); any other problem spoils only its own result.
struct Problem {
  std::string why;
  bool json = false;
};

// A member's key as written, without unescaping (no copy): Atlas' keys have no escapes, and a
// key with one keeps its backslash here, so it matches none of them, as it should not.
std::string_view raw_key(od::field& field) {
  const char* start = field.key().raw();
  const char* end = start;
  while (*end != '"') ++end;  // the closing quote: the text was checked to close every string
  return {start, static_cast<std::size_t>(end - start)};
}

Problem json_problem(simdjson::error_code code) {
  return {std::string("not JSON: ") + simdjson::error_message(code), true};
}

// Reads one result's fields into a ResultRecord, field by field in the order written.
class RecordReader {
 public:
  explicit RecordReader(ResultRecord& out) : out_(out) {}

  // The result object; "" problem when it is a result.
  Problem read(od::object object) {
    out_.clear();
    bool have_type = false;
    bool have_fw = false;
    bool have_prb = false;
    bool have_msm = false;
    bool have_timestamp = false;
    bool have_result = false;
    for (auto member : object) {
      od::field field;
      if (auto e = std::move(member).get(field)) return json_problem(e);
      const std::string_view key = raw_key(field);
      od::value& value = field.value();
      if (key == "result") {
        have_result = true;
        if (!read_entries(value)) return problem_;
      } else if (key == "type") {
        std::string_view type;
        if (!text(value, key, type)) return problem_;
        if (type == "ping") {
          out_.type = ResultType::kPing;
        } else if (type == "traceroute") {
          out_.type = ResultType::kTraceroute;
        } else {
          return {"a " + printable(type) + " result (only ping and traceroute are read)"};
        }
        have_type = true;
      } else if (key == "fw") {
        std::int64_t fw = 0;
        if (!integer(value, key, fw, 0, std::numeric_limits<int>::max())) return problem_;
        out_.fw = static_cast<int>(fw);
        have_fw = true;
      } else if (key == "prb_id") {
        if (!unsigned_integer(value, key, out_.prb_id)) return problem_;
        have_prb = true;
      } else if (key == "msm_id") {
        if (!unsigned_integer(value, key, out_.msm_id)) return problem_;
        have_msm = true;
      } else if (key == "timestamp") {
        if (!integer(value, key, out_.timestamp, 0, std::numeric_limits<std::int64_t>::max()))
          return problem_;
        have_timestamp = true;
      } else if (key == "from") {
        if (!text_or_null(value, key, out_.from)) return problem_;
      } else if (key == "dst_name") {
        if (!text_or_null(value, key, out_.dst_name)) return problem_;
      } else if (key == "dst_addr") {
        if (!text_or_null(value, key, out_.dst_addr)) return problem_;
      } else if (key == "sent") {
        std::uint64_t sent = 0;
        if (!unsigned_integer(value, key, sent)) return problem_;
        out_.sent = sent;
      } else if (key == "paris_id") {
        std::int64_t paris = 0;
        if (!integer(value, key, paris, 0, 65535)) return problem_;
        out_.paris_id = static_cast<unsigned>(paris);
      }
    }
    const char* missing = !have_type        ? "type"
                          : !have_fw        ? "fw"
                          : !have_prb       ? "prb_id"
                          : !have_msm       ? "msm_id"
                          : !have_timestamp ? "timestamp"
                          : !have_result    ? "result"
                                            : nullptr;
    if (missing != nullptr) return {std::string("no '") + missing + "' field: not an Atlas result"};
    if (out_.fw < kOldestFirmware) {
      return {"fw " + std::to_string(out_.fw) + " is older than " +
              std::to_string(kOldestFirmware) + ", the oldest result format read"};
    }
    if (out_.target().empty()) return {"no 'dst_name' nor 'dst_addr': no target"};
    return settle_entries();
  }

 private:
  // The fields of one "result" entry, a ping packet's or a hop's, whichever it turns out to be.
  struct Entry {
    ReplyFigures figures;
    bool rtt = false, dup = false, lost = false, error = false, late = false;
    std::string_view from, err;
    bool hop_number = false, hop_replies = false;
    unsigned hop = 0;
  };

  bool fail(std::string why) {
    problem_ = {std::move(why)};
    return false;
  }
  bool fail_json(simdjson::error_code code) {
    problem_ = json_problem(code);
    return false;
  }
  bool mistyped(std::string_view key, const char* what) {
    return fail("field '" + printable(key) + "' is not " + what);
  }
  // A JSON error (the text is broken) or a value of the wrong type (the result is).
  bool wrong(simdjson::error_code code, std::string_view key, const char* what) {
    if (code == simdjson::INCORRECT_TYPE || code == simdjson::NUMBER_OUT_OF_RANGE ||
        code == simdjson::NUMBER_ERROR)
      return mistyped(key, what);
    return fail_json(code);
  }

  bool text(od::value& value, std::string_view key, std::string_view& out) {
    if (auto e = value.get_string().get(out)) return wrong(e, key, "a string");
    return true;
  }
  bool text_or_null(od::value& value, std::string_view key, std::string_view& out) {
    bool null = false;
    if (auto e = value.is_null().get(null)) return wrong(e, key, "a string");
    if (null) {
      out = {};
      return true;
    }
    return text(value, key, out);
  }
  bool integer(od::value& value, std::string_view key, std::int64_t& out, std::int64_t low,
               std::int64_t high) {
    if (auto e = value.get_int64().get(out)) return wrong(e, key, "an integer");
    if (out < low || out > high) {
      return fail("field '" + printable(key) + "': " + std::to_string(out) + " is out of range (" +
                  std::to_string(low) + ".." + std::to_string(high) + ")");
    }
    return true;
  }
  bool unsigned_integer(od::value& value, std::string_view key, std::uint64_t& out) {
    if (auto e = value.get_uint64().get(out)) return wrong(e, key, "an unsigned integer");
    return true;
  }
  // A duration in milliseconds: a finite number, not negative.
  bool milliseconds(od::value& value, std::string_view key, double& out) {
    if (auto e = value.get_double().get(out)) return wrong(e, key, "a number");
    if (!std::isfinite(out) || out < 0) return mistyped(key, "a duration (ms)");
    return true;
  }

  // Atlas' "err": a letter, or the ICMP code as an integer (kept as its digits).
  bool error_code(od::value& value, std::string_view& out) {
    od::json_type type{};
    if (auto e = value.type().get(type)) return fail_json(e);
    if (type == od::json_type::string) return text(value, "err", out);
    if (type != od::json_type::number) return mistyped("err", "a string or an integer");
    std::string_view raw = value.raw_json_token();  // before the number is read past
    std::int64_t code = 0;
    if (!integer(value, "err", code, 0, 255)) return false;
    while (!raw.empty() &&
           (raw.back() == ' ' || raw.back() == '\t' || raw.back() == '\n' || raw.back() == '\r'))
      raw.remove_suffix(1);
    out = raw;
    return true;
  }

  bool breakdown(od::value& value, ReplyFigures& figures) {
    od::object object;
    if (auto e = value.get_object().get(object)) return wrong(e, "breakdown", "an object");
    for (auto member : object) {
      od::field field;
      if (auto e = std::move(member).get(field)) return fail_json(e);
      const std::string_view key = raw_key(field);
      if (key == "egress_ms") {
        if (!milliseconds(field.value(), key, figures.egress_ms)) return false;
      } else if (key == "ingress_ms") {
        if (!milliseconds(field.value(), key, figures.ingress_ms)) return false;
      }
    }
    return true;
  }

  // A field every answer may carry (a ping packet, a hop reply); false: not one of them.
  bool answer_field(std::string_view key, od::value& value, Entry& entry, bool& ok) {
    ok = true;
    if (key == "rtt") {
      entry.rtt = true;
      ok = milliseconds(value, key, entry.figures.rtt_ms);
    } else if (key == "rtt_corrected") {
      ok = milliseconds(value, key, entry.figures.corrected_ms);
    } else if (key == "overhead") {
      ok = milliseconds(value, key, entry.figures.overhead_ms);
    } else if (key == "inside_host") {
      if (auto e = value.get_bool().get(entry.figures.inside_host))
        ok = wrong(e, key, "true or false");
    } else if (key == "breakdown") {
      ok = breakdown(value, entry.figures);
    } else if (key == "x") {
      entry.lost = true;
    } else if (key == "dup") {
      entry.dup = true;
    } else if (key == "late") {
      entry.late = true;
    } else if (key == "error") {
      entry.error = true;
    } else {
      return false;
    }
    return true;
  }

  bool read_hop_replies(od::value& value, Entry& entry) {
    od::array replies;
    if (auto e = value.get_array().get(replies)) return wrong(e, "result", "an array");
    entry.hop_replies = true;
    for (auto element : replies) {
      od::object object;
      if (auto e = element.get_object().get(object)) return wrong(e, "result", "an object");
      Entry reply;
      for (auto member : object) {
        od::field field;
        if (auto e = std::move(member).get(field)) return fail_json(e);
        const std::string_view key = raw_key(field);
        od::value& reply_value = field.value();
        bool ok = true;
        if (answer_field(key, reply_value, reply, ok)) {
          if (!ok) return false;
        } else if (key == "from") {
          if (!text_or_null(reply_value, key, reply.from)) return false;
        } else if (key == "err") {
          if (!error_code(reply_value, reply.err)) return false;
        }
      }
      HopReply hop_reply{.from = reply.from, .err = reply.err, .figures = reply.figures};
      using Kind = HopReply::Kind;
      if (reply.error) {
        hop_reply.kind = Kind::kError;
      } else if (reply.lost) {
        hop_reply.kind = Kind::kTimeout;
      } else if (reply.rtt) {
        hop_reply.kind = reply.dup ? Kind::kDuplicate : Kind::kReply;
      } else if (reply.late) {
        hop_reply.kind = Kind::kLate;
      } else {
        return fail("a hop's reply has no rtt, x, late nor error");
      }
      out_.hop_replies.push_back(hop_reply);
    }
    return true;
  }

  // "result": a ping's packets or a traceroute's hops (or, for either, an error alone).
  bool read_entries(od::value& value) {
    od::array entries;
    if (auto e = value.get_array().get(entries)) return wrong(e, "result", "an array");
    for (auto element : entries) {
      od::object object;
      if (auto e = element.get_object().get(object)) return wrong(e, "result", "an object");
      Entry entry;
      const std::size_t first_reply = out_.hop_replies.size();
      for (auto member : object) {
        od::field field;
        if (auto e = std::move(member).get(field)) return fail_json(e);
        const std::string_view key = raw_key(field);
        od::value& entry_value = field.value();
        bool ok = true;
        if (key == "result") {
          if (!read_hop_replies(entry_value, entry)) return false;
        } else if (key == "hop") {
          std::int64_t hop = 0;
          if (!integer(entry_value, key, hop, 1, 255)) return false;
          entry.hop_number = true;
          entry.hop = static_cast<unsigned>(hop);
        } else if (answer_field(key, entry_value, entry, ok)) {
          if (!ok) return false;
        }
      }
      if (entry.hop_number || entry.hop_replies) {
        if (!entry.hop_number) return fail("a hop without its 'hop' number");
        const std::size_t replies = out_.hop_replies.size() - first_reply;
        out_.hops.push_back({.number = entry.hop,
                             .first_reply = first_reply,
                             .replies = replies,
                             .error = entry.error && replies == 0});
        continue;
      }
      PingPacket packet{.figures = entry.figures};
      using Kind = PingPacket::Kind;
      if (entry.error) {
        packet.kind = Kind::kError;
      } else if (entry.lost) {
        packet.kind = Kind::kLost;
      } else if (entry.rtt) {
        packet.kind = entry.dup ? Kind::kDuplicate : Kind::kReply;
      } else if (entry.late) {
        packet.kind = Kind::kLate;
      } else {
        return fail("a 'result' entry with no rtt, x, late, error nor hop");
      }
      out_.packets.push_back(packet);
    }
    return true;
  }

  // Now that the type is known: a ping has no hops; a traceroute's only non-hop entry is an
  // error that stopped it (its target did not resolve).
  Problem settle_entries() {
    if (out_.type == ResultType::kPing) {
      if (!out_.hops.empty()) return {"a ping result with traceroute hops"};
      out_.failed = !out_.packets.empty();
      for (const PingPacket& p : out_.packets) {
        if (p.kind != PingPacket::Kind::kError) out_.failed = false;
      }
      return {};
    }
    for (const PingPacket& p : out_.packets) {
      if (p.kind != PingPacket::Kind::kError) return {"a traceroute result with ping packets"};
    }
    out_.failed = !out_.packets.empty() && out_.hops.empty();
    out_.packets.clear();
    return {};
  }

  ResultRecord& out_;
  Problem problem_;
};

// Whether the text goes on after what was read (simdjson 3.0 has no document::at_end()).
bool text_after(od::document& document) {
  return document.current_location().error() != simdjson::OUT_OF_BOUNDS;
}

Problem read_document(od::document& document, ResultRecord& out) {
  od::object object;
  if (auto e = document.get_object().get(object)) {
    if (e == simdjson::INCORRECT_TYPE) return {"not a JSON object"};
    return json_problem(e);
  }
  Problem problem = RecordReader(out).read(object);
  if (problem.why.empty() && text_after(document)) return {"text after the result's object"};
  return problem;
}

}  // namespace

struct ResultParser::Impl {
  od::parser parser;
};

ResultParser::ResultParser() : impl_(std::make_unique<Impl>()) {}
ResultParser::~ResultParser() = default;

std::string ResultParser::parse(const char* data, std::size_t size, ResultRecord& out) {
  od::document document;
  if (auto e = impl_->parser.iterate(data, size, size + kPadding).get(document))
    return json_problem(e).why;
  return read_document(document, out).why;
}

std::string ResultParser::parse_array(const char* data, std::size_t size, const EachResult& each,
                                      const BadElement& bad) {
  od::document document;
  od::array array;
  if (auto e = impl_->parser.iterate(data, size, size + kPadding).get(document))
    return json_problem(e).why;
  if (auto e = document.get_array().get(array)) return json_problem(e).why;
  std::size_t index = 0;
  for (auto element : array) {
    od::object object;
    if (auto e = element.get_object().get(object)) {
      if (e != simdjson::INCORRECT_TYPE)
        return "element " + std::to_string(index) + ": " + json_problem(e).why;
      bad(index++, "not a JSON object");
      continue;
    }
    const Problem problem = RecordReader(element_).read(object);
    if (problem.json) return "element " + std::to_string(index) + ": " + problem.why;
    if (problem.why.empty()) {
      each(element_, index);
    } else {
      bad(index, problem.why);
    }
    ++index;
  }
  if (text_after(document)) return "text after the array";
  return "";
}

}  // namespace mtool::analysis
