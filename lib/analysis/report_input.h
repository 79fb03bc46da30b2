#pragma once
// The inputs of a report read one after the other, each line once: JSON lines (mtool run's
// output, a pod's log, Atlas' format=txt download) or one JSON array (Atlas' format=json
// download). Each result goes to the sink; each line (array element) that is not a result to
// the complaint, with where it is; blank lines are passed over.
#include <cstdint>
#include <functional>
#include <string>
#include <string_view>

#include "analysis/result_parser.h"
#include "analysis/result_record.h"

namespace mtool::analysis {

struct InputTotals {
  std::uint64_t inputs = 0;
  std::uint64_t lines = 0;    // lines read, or elements of an array
  std::uint64_t results = 0;  // ... that were results
  std::uint64_t skipped = 0;  // ... that were not (complained about)
};

class ReportInput {
 public:
  // A result, and the name of the input it came from ("-": standard input).
  using Sink = std::function<void(const ResultRecord&, std::string_view source)>;
  // Where ("FILE:LINE", "FILE: element N") and why a line is not a result. It may throw to stop.
  using Complaint = std::function<void(const std::string& where, const std::string& why)>;

  struct Limits {
    std::size_t max_line = std::size_t{16} << 20;  // a longer line is skipped
    std::size_t max_array = std::size_t{1} << 30;  // a JSON array is read whole
  };

  ReportInput(Sink sink, Complaint complaint, Limits limits);
  ReportInput(Sink sink, Complaint complaint)
      : ReportInput(std::move(sink), std::move(complaint), Limits{}) {}

  // Reads `path` ("-": standard input; a directory: each of its files, by name) to its end. ""
  // or why it could not be read (a missing file, a read error, an array too large), printable.
  std::string read(const std::string& path);
  // Reads an input already open (not closed), named `name` in complaints and as a source.
  std::string read_fd(int fd, const std::string& name);
  [[nodiscard]] const InputTotals& totals() const { return totals_; }

 private:
  std::string read_directory(const std::string& path);
  void take_line(std::string_view line, std::uint64_t number, const std::string& name);
  std::string read_array(class LineReader& reader, const std::string& name);

  Sink sink_;
  Complaint complaint_;
  Limits limits_;
  ResultParser parser_;
  ResultRecord record_;
  InputTotals totals_;
};

}  // namespace mtool::analysis
