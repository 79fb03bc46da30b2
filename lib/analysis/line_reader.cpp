#include "analysis/line_reader.h"

#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>

#include "util/error.h"

namespace mtool::analysis {

namespace {

bool is_space(char c) { return c == ' ' || c == '\t' || c == '\n' || c == '\r'; }

}  // namespace

LineReader::LineReader(int fd, std::size_t max_line)
    : fd_(fd), max_line_(std::max<std::size_t>(max_line, 1)), buffer_(kChunk + kPadding) {}

std::optional<LineReader::Line> LineReader::next() {
  for (;;) {
    const char* base = buffer_.data();
    if (begin_ < end_) {
      if (const void* found = std::memchr(base + begin_, '\n', end_ - begin_)) {
        const auto newline = static_cast<std::size_t>(static_cast<const char*>(found) - base);
        Line line{.text = {}, .number = ++lines_, .too_long = skipping_};
        if (!skipping_) line.text = std::string_view(base + begin_, newline - begin_);
        skipping_ = false;
        begin_ = newline + 1;
        return line;
      }
    }
    if (at_eof_) {
      if (!skipping_ && begin_ == end_) return std::nullopt;
      Line line{.text = {}, .number = ++lines_, .too_long = skipping_};
      if (!skipping_) line.text = std::string_view(base + begin_, end_ - begin_);
      skipping_ = false;
      begin_ = end_;
      return line;
    }
    if (!fill() && !error_.empty()) return std::nullopt;
  }
}

bool LineReader::fill() {
  if (begin_ > 0) {
    std::memmove(buffer_.data(), buffer_.data() + begin_, end_ - begin_);
    end_ -= begin_;
    begin_ = 0;
  }
  const std::size_t capacity = buffer_.size() - kPadding;
  if (skipping_ || end_ > max_line_) {
    skipping_ = true;  // what is held of an overlong line goes; the rest is dropped as it comes
    end_ = 0;
  } else if (end_ == capacity) {
    buffer_.resize(std::min(capacity * 2, max_line_ + 1) + kPadding);
  }
  ssize_t n = 0;
  do {
    n = ::read(fd_, buffer_.data() + end_, buffer_.size() - kPadding - end_);
  } while (n < 0 && errno == EINTR);
  if (n < 0) {
    error_ = errno_text(errno);
    return false;
  }
  if (n == 0) {
    end_input();
    return false;
  }
  end_ += static_cast<std::size_t>(n);
  return true;
}

void LineReader::end_input() {
  at_eof_ = true;
  // The last line may end without '\n': what follows it is white space, not stale bytes.
  std::memset(buffer_.data() + end_, ' ', kPadding);
}

std::optional<char> LineReader::first_significant_byte() {
  std::size_t scanned = begin_;
  for (;;) {
    for (; scanned < end_; ++scanned) {
      if (!is_space(buffer_[scanned])) return buffer_[scanned];
    }
    if (at_eof_) return std::nullopt;
    const std::size_t kept = begin_;
    if (!fill()) {
      if (!error_.empty()) return std::nullopt;
    }
    scanned -= std::min(scanned, kept);  // fill() moved the data to the front ...
    scanned = std::min(scanned, end_);   // ... or dropped it (white space past max_line)
  }
}

std::string LineReader::read_rest(std::string& text, std::size_t max_bytes) {
  text.assign(buffer_.data() + begin_, end_ - begin_);
  begin_ = end_;
  std::vector<char> chunk(kChunk);
  while (!at_eof_) {
    if (text.size() > max_bytes) return "larger than " + std::to_string(max_bytes >> 20) + " MiB";
    ssize_t n = ::read(fd_, chunk.data(), chunk.size());
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) return errno_text(errno);
    if (n == 0) break;
    text.append(chunk.data(), static_cast<std::size_t>(n));
  }
  at_eof_ = true;
  if (text.size() > max_bytes) return "larger than " + std::to_string(max_bytes >> 20) + " MiB";
  text.append(kPadding, ' ');
  return "";
}

}  // namespace mtool::analysis
