#include "analysis/report_input.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <filesystem>
#include <vector>

#include "analysis/line_reader.h"
#include "util/error.h"
#include "util/fd.h"
#include "util/printable.h"

namespace mtool::analysis {

namespace {

bool blank(std::string_view line) {
  return line.find_first_not_of(" \t\r") == std::string_view::npos;
}

}  // namespace

ReportInput::ReportInput(Sink sink, Complaint complaint, Limits limits)
    : sink_(std::move(sink)), complaint_(std::move(complaint)), limits_(limits) {}

std::string ReportInput::read(const std::string& path) {
  if (path == "-") return read_fd(STDIN_FILENO, "stdin");
  const UniqueFd fd(::open(path.c_str(), O_RDONLY | O_CLOEXEC));
  if (!fd) return "cannot read " + printable(path) + ": " + errno_text(errno);
  struct stat st {};
  if (::fstat(fd.get(), &st) == 0 && S_ISDIR(st.st_mode)) return read_directory(path);
  return read_fd(fd.get(), path);
}

std::string ReportInput::read_directory(const std::string& path) {
  // Its files, by name (a results volume: one file per vantage point); no deeper.
  std::vector<std::string> files;
  std::error_code error;
  for (const auto& entry : std::filesystem::directory_iterator(path, error)) {
    if (entry.is_regular_file(error)) files.push_back(entry.path().string());
  }
  if (error) return "cannot read " + printable(path) + ": " + error.message();
  if (files.empty()) return printable(path) + " holds no file of results";
  std::sort(files.begin(), files.end());
  for (const std::string& file : files) {
    std::string failed = read(file);
    if (!failed.empty()) return failed;
  }
  return "";
}

std::string ReportInput::read_fd(int fd, const std::string& name) {
  ++totals_.inputs;
  LineReader reader(fd, limits_.max_line);
  const std::optional<char> first = reader.first_significant_byte();
  if (!reader.error().empty()) return "cannot read " + printable(name) + ": " + reader.error();
  if (first == '[') return read_array(reader, name);
  while (const auto line = reader.next()) {
    ++totals_.lines;
    if (line->too_long) {
      ++totals_.skipped;
      complaint_(printable(name) + ":" + std::to_string(line->number),
                 "longer than " + std::to_string(limits_.max_line >> 20) + " MiB");
      continue;
    }
    take_line(line->text, line->number, name);
  }
  if (!reader.error().empty()) return "cannot read " + printable(name) + ": " + reader.error();
  return "";
}

void ReportInput::take_line(std::string_view line, std::uint64_t number, const std::string& name) {
  if (blank(line)) return;
  const std::string why = parser_.parse(line.data(), line.size(), record_);
  if (!why.empty()) {
    ++totals_.skipped;
    complaint_(printable(name) + ":" + std::to_string(number), why);
    return;
  }
  ++totals_.results;
  sink_(record_, name);
}

std::string ReportInput::read_array(LineReader& reader, const std::string& name) {
  std::string text;
  const std::string why = reader.read_rest(text, limits_.max_array);
  if (!why.empty()) {
    return "cannot read " + printable(name) + " (one JSON array, read whole): " + why;
  }
  const std::string broken = parser_.parse_array(
      text.data(), text.size() - LineReader::kPadding,
      [&](const ResultRecord& record, std::size_t) {
        ++totals_.lines;
        ++totals_.results;
        sink_(record, name);
      },
      [&](std::size_t index, const std::string& problem) {
        ++totals_.lines;
        ++totals_.skipped;
        complaint_(printable(name) + ": element " + std::to_string(index), problem);
      });
  if (!broken.empty()) {
    ++totals_.skipped;
    complaint_(printable(name), broken + "; the rest of the array is not read");
  }
  return "";
}

}  // namespace mtool::analysis
