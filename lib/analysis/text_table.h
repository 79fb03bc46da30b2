#pragma once
// An aligned text table for a terminal: a line of group headings over runs of columns (when
// any), a line of column headings, then the rows; numbers right-aligned, text left-aligned,
// columns two spaces apart, no trailing spaces.
#include <string>
#include <vector>

namespace mtool::analysis {

class TextTable {
 public:
  struct Column {
    std::string group;
    std::string heading;
    bool right_aligned = true;
  };
  explicit TextTable(std::vector<Column> columns) : columns_(std::move(columns)) {}
  void add_row(std::vector<std::string> cells) { rows_.push_back(std::move(cells)); }
  // Every line, each indented by `indent` spaces and ended by '\n'.
  [[nodiscard]] std::string render(std::size_t indent = 0) const;

 private:
  std::vector<Column> columns_;
  std::vector<std::vector<std::string>> rows_;
};

// Characters a terminal shows in one cell (UTF-8 continuation bytes do not count).
std::size_t display_width(const std::string& text);

}  // namespace mtool::analysis
