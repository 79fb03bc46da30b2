#pragma once
// The lines of one input (a file, a pipe), read once in large chunks and handed out in place:
// each is followed by at least kPadding readable bytes, so a parser that reads ahead
// (simdjson) parses it where it lies. Memory: one chunk, or the longest line up to a bound.
#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace mtool::analysis {

class LineReader {
 public:
  static constexpr std::size_t kPadding = 64;
  static constexpr std::size_t kChunk = std::size_t{1} << 20;

  // Reads `fd` (not owned); a line longer than `max_line` bytes is skipped, not held.
  LineReader(int fd, std::size_t max_line);

  struct Line {
    std::string_view text;  // without its '\n'; empty when too_long
    std::uint64_t number = 0;
    bool too_long = false;
  };
  // The next line, or nullopt at the end of the input or on a read error (error() says).
  std::optional<Line> next();
  // The first byte of the input that is not white space (reading as much as it takes), or
  // nullopt for an input of white space only. Reads nothing past it for next().
  std::optional<char> first_significant_byte();
  // The rest of the input, whole, with kPadding bytes of room after it: for an input that is
  // one JSON text (an array). "" or why not (a read error, larger than `max_bytes`).
  std::string read_rest(std::string& text, std::size_t max_bytes);
  [[nodiscard]] const std::string& error() const { return error_; }

 private:
  // Reads more after end_ (moving what is left to the front, growing up to max_line_); false at
  // the end of the input or on an error.
  bool fill();
  void end_input();

  int fd_;
  std::size_t max_line_;
  std::vector<char> buffer_;  // data capacity, then kPadding bytes
  std::size_t begin_ = 0;     // the first byte not handed out
  std::size_t end_ = 0;       // the end of the data read
  std::uint64_t lines_ = 0;
  bool at_eof_ = false;
  bool skipping_ = false;  // inside a line too long to hold: dropped up to its '\n'
  std::string error_;
};

}  // namespace mtool::analysis
