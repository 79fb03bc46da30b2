// LineReader over real pipes: lines across chunk boundaries, the last line without '\n', the
// padding after each line, overlong lines skipped whole, and the first byte peeked.
#include "analysis/line_reader.h"

#include <gtest/gtest.h>
#include <unistd.h>

#include <string>
#include <thread>
#include <vector>

#include "util/fd.h"

namespace mtool::analysis {
namespace {

// `text` written into a pipe by a thread; the read end.
class PipeInput {
 public:
  explicit PipeInput(std::string text) {
    int fds[2];
    EXPECT_EQ(::pipe(fds), 0);
    read_.reset(fds[0]);
    writer_ = std::thread([fd = fds[1], text = std::move(text)] {
      std::size_t done = 0;
      while (done < text.size()) {
        const ssize_t n =
            ::write(fd, text.data() + done, std::min<std::size_t>(text.size() - done, 7777));
        if (n <= 0) break;
        done += static_cast<std::size_t>(n);
      }
      ::close(fd);
    });
  }
  ~PipeInput() { writer_.join(); }
  PipeInput(const PipeInput&) = delete;
  PipeInput& operator=(const PipeInput&) = delete;
  [[nodiscard]] int fd() const { return read_.get(); }

 private:
  UniqueFd read_;
  std::thread writer_;
};

std::vector<std::string> all_lines(LineReader& reader) {
  std::vector<std::string> lines;
  while (const auto line = reader.next()) {
    EXPECT_EQ(line->number, lines.size() + 1);
    if (line->too_long) {
      lines.emplace_back("<too long>");
      continue;
    }
    lines.emplace_back(line->text);
    // The padding after a line is readable (ASan would catch a read past the buffer).
    volatile char after = line->text.data()[line->text.size() + LineReader::kPadding - 1];
    (void)after;
  }
  EXPECT_EQ(reader.error(), "");
  return lines;
}

TEST(LineReader, LinesAcrossChunksAndALastLineWithoutNewline) {
  std::string text;
  std::vector<std::string> expected;
  for (int i = 0; i < 30000; ++i) {
    expected.push_back(std::string(static_cast<std::size_t>(i % 97), 'x') + std::to_string(i));
    text += expected.back() + "\n";
  }
  text += "last";
  expected.emplace_back("last");
  PipeInput input(text);
  LineReader reader(input.fd(), 1 << 20);
  EXPECT_EQ(all_lines(reader), expected);
}

TEST(LineReader, TheLastLineIsFollowedByWhiteSpaceNotStaleBytes) {
  PipeInput input("123456789\n12");
  LineReader reader(input.fd(), 1 << 20);
  ASSERT_TRUE(reader.next());
  const auto last = reader.next();
  ASSERT_TRUE(last);
  EXPECT_EQ(last->text, "12");
  EXPECT_EQ(std::string(last->text.data() + 2, 3), "   ");
}

TEST(LineReader, LongLinesGrowTheBufferUpToTheBoundThenAreSkipped) {
  const std::string long_line(3 << 20, 'a');
  const std::string too_long(5 << 20, 'b');
  PipeInput input("one\n" + long_line + "\n" + too_long + "\ntwo\n" + too_long);
  LineReader reader(input.fd(), 4 << 20);
  EXPECT_EQ(all_lines(reader),
            (std::vector<std::string>{"one", long_line, "<too long>", "two", "<too long>"}));
}

TEST(LineReader, FirstSignificantByteLeavesTheLinesToRead) {
  PipeInput input(std::string(3 << 20, ' ') + "\n\n  [1,\n2]");
  LineReader reader(input.fd(), 16 << 20);
  EXPECT_EQ(reader.first_significant_byte(), '[');
  std::string rest;
  EXPECT_EQ(reader.read_rest(rest, 64 << 20), "");
  ASSERT_GE(rest.size(), LineReader::kPadding);
  EXPECT_EQ(rest.size(), (3U << 20) + 10 + LineReader::kPadding);  // all of it, then padding
  EXPECT_EQ(rest.substr(rest.size() - LineReader::kPadding - 6, 6), "[1,\n2]");
}

TEST(LineReader, EmptyAndBlankInputs) {
  PipeInput empty("");
  LineReader reader(empty.fd(), 1024);
  EXPECT_EQ(reader.first_significant_byte(), std::nullopt);
  EXPECT_FALSE(reader.next());
  PipeInput blank(" \n\t\n");
  LineReader blank_reader(blank.fd(), 1024);
  EXPECT_EQ(blank_reader.first_significant_byte(), std::nullopt);
  EXPECT_EQ(all_lines(blank_reader), (std::vector<std::string>{" ", "\t"}));
}

}  // namespace
}  // namespace mtool::analysis
