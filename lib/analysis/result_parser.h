#pragma once
// Atlas results read for volume with simdjson's On Demand API (the one file that knows it):
// every field of a result visited once, in the order written, nothing copied but unescaped
// strings. Reads mtool's results and RIPE Atlas' (firmware 4570 and later), whatever the order
// of their fields (Atlas writes "type" after "result").
#include <cstddef>
#include <functional>
#include <memory>
#include <string>

#include "analysis/result_record.h"

namespace mtool::analysis {

class ResultParser {
 public:
  // Readable bytes a text must have after its end (simdjson reads ahead; SIMDJSON_PADDING).
  static constexpr std::size_t kPadding = 64;

  ResultParser();
  ~ResultParser();
  ResultParser(const ResultParser&) = delete;
  ResultParser& operator=(const ResultParser&) = delete;

  // One JSON text holding one result: `size` bytes at `data`, followed by at least kPadding
  // readable bytes. Fills `out` (its strings view this parser's buffers until the next call)
  // and returns "", or returns why the text is not a result (one line, printable).
  std::string parse(const char* data, std::size_t size, ResultRecord& out);

  // A JSON array of results (Atlas' API download, format=json), padded as above: each(record,
  // index) for every element that is a result, bad(index, why) for every other. Returns "", or
  // why the array could not be read past some element (the elements after it are not read).
  using EachResult = std::function<void(const ResultRecord&, std::size_t)>;
  using BadElement = std::function<void(std::size_t, const std::string&)>;
  std::string parse_array(const char* data, std::size_t size, const EachResult& each,
                          const BadElement& bad);

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
  ResultRecord element_;  // parse_array's, reused element after element
};

// The oldest Atlas firmware whose result format is read (sagan's 4570-4609 range onwards).
inline constexpr int kOldestFirmware = 4570;

}  // namespace mtool::analysis
