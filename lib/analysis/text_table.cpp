#include "analysis/text_table.h"

#include <algorithm>

namespace mtool::analysis {

std::size_t display_width(const std::string& text) {
  return static_cast<std::size_t>(std::count_if(text.begin(), text.end(), [](char c) {
    return (static_cast<unsigned char>(c) & 0xC0) != 0x80;
  }));
}

namespace {

void pad(std::string& line, std::size_t spaces) { line.append(spaces, ' '); }

void end_line(std::string& out, std::string line) {
  while (!line.empty() && line.back() == ' ') line.pop_back();
  out += line;
  out += '\n';
}

}  // namespace

std::string TextTable::render(std::size_t indent) const {
  const std::size_t n = columns_.size();
  std::vector<std::size_t> width(n, 0);
  for (std::size_t c = 0; c < n; ++c) width[c] = display_width(columns_[c].heading);
  for (const auto& row : rows_) {
    for (std::size_t c = 0; c < n && c < row.size(); ++c)
      width[c] = std::max(width[c], display_width(row[c]));
  }
  // A group heading wider than its columns widens its last column.
  for (std::size_t c = 0; c < n;) {
    std::size_t end = c + 1;
    while (end < n && columns_[end].group == columns_[c].group) ++end;
    if (!columns_[c].group.empty()) {
      std::size_t span = 2 * (end - c - 1);
      for (std::size_t i = c; i < end; ++i) span += width[i];
      const std::size_t need = display_width(columns_[c].group);
      if (need > span) width[end - 1] += need - span;
    }
    c = end;
  }

  auto cell_line = [&](auto&& cell_of) {
    std::string line(indent, ' ');
    for (std::size_t c = 0; c < n; ++c) {
      const std::string text = cell_of(c);
      const std::size_t gap = width[c] - std::min(width[c], display_width(text));
      if (c > 0) pad(line, 2);
      if (columns_[c].right_aligned) pad(line, gap);
      line += text;
      if (!columns_[c].right_aligned) pad(line, gap);
    }
    return line;
  };

  std::string out;
  const bool grouped = std::any_of(columns_.begin(), columns_.end(),
                                   [](const Column& c) { return !c.group.empty(); });
  if (grouped) {
    std::string line(indent, ' ');
    for (std::size_t c = 0; c < n;) {
      std::size_t end = c + 1;
      while (end < n && columns_[end].group == columns_[c].group) ++end;
      std::size_t span = 2 * (end - c - 1);
      for (std::size_t i = c; i < end; ++i) span += width[i];
      if (c > 0) pad(line, 2);
      line += columns_[c].group;
      pad(line, span - std::min(span, display_width(columns_[c].group)));
      c = end;
    }
    end_line(out, line);
  }
  end_line(out, cell_line([&](std::size_t c) { return columns_[c].heading; }));
  for (const auto& row : rows_) {
    end_line(out,
             cell_line([&](std::size_t c) { return c < row.size() ? row[c] : std::string(); }));
  }
  return out;
}

}  // namespace mtool::analysis
