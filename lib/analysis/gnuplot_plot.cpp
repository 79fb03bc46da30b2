#include "analysis/gnuplot_plot.h"

#include <fcntl.h>
#include <spawn.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstdio>
#include <cstdlib>
#include <string_view>

#include "util/error.h"
#include "util/fd.h"
#include "util/printable.h"

extern char** environ;  // NOLINT(readability-redundant-declaration): POSIX declares it nowhere

namespace mtool::analysis {

namespace {

constexpr int kWidth = 1400;
constexpr int kRowHeight = 420;
// Distinct on white, one per vantage point (matplotlib's "tab10").
constexpr const char* kColors[] = {"#1f77b4", "#ff7f0e", "#2ca02c", "#d62728", "#9467bd",
                                   "#8c564b", "#e377c2", "#7f7f7f", "#bcbd22", "#17becf"};

// Text from results inside a single-quoted gnuplot string: printable ASCII but the quote
// itself; everything else becomes '?'. (gnuplot expands nothing inside single quotes, and
// nothing here can end them.)
std::string quoted(std::string_view text) {
  std::string out = "'";
  for (const char c : text) out += (c >= 0x20 && c <= 0x7e && c != '\'') ? c : '?';
  return out + "'";
}

std::string number(double value) {
  char text[40];
  std::snprintf(text, sizeof text, "%.9g", value);
  return text;
}

void add_panel(std::string& script, const PlotPanel& panel, std::size_t& block) {
  script += "set title " + quoted(panel.title) + "\n";
  script += "set xlabel " + quoted(panel.x_label) + "\n";
  script += "set ylabel " + quoted(panel.y_label) + "\n";
  script += panel.log_x ? "set logscale x\n" : "unset logscale x\n";
  script += panel.fraction_y ? "set yrange [0:1.02]\n" : "set yrange [*:*]\n";
  script += "set xrange [*:*]\nset grid\nunset label 1\n";
  script += panel.fraction_y ? "set key bottom right\n" : "set key top left\n";
  // Hops one by one while they fit; Atlas' last hop may be numbered 255.
  double largest_x = 0;
  for (const PlotSeries& s : panel.series) {
    for (const auto& point : s.points) largest_x = std::max(largest_x, point.first);
  }
  const bool hop_by_hop = !panel.fraction_y && !panel.log_x && largest_x <= 30;
  script += hop_by_hop ? "set xtics 1\n" : "set xtics autofreq\n";
  if (panel.series.empty()) {
    script += "set label 1 " + quoted(panel.empty_note) + " at graph 0.5,0.5 center\n";
    script += "unset logscale x\nset xrange [0:1]\nset yrange [0:1]\nplot NaN notitle\n";
    return;
  }
  script += "plot ";
  for (std::size_t i = 0; i < panel.series.size(); ++i) {
    const PlotSeries& s = panel.series[i];
    if (i > 0) script += ", \\\n     ";
    script += "$s" + std::to_string(block++) + " using 1:2 with " +
              (s.steps ? "steps" : "linespoints pt 7 ps 0.6") + " lw 2 dt " +
              (s.dashed ? "2" : "1") + " lc rgb '" +
              kColors[s.color % (sizeof kColors / sizeof kColors[0])] + "' title " +
              quoted(s.title);
  }
  script += "\n";
}

// Writes all of `text` to `fd` from its start; false on an error.
bool write_all(int fd, std::string_view text) {
  while (!text.empty()) {
    const ssize_t n = ::write(fd, text.data(), text.size());
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) return false;
    text.remove_prefix(static_cast<std::size_t>(n));
  }
  return ::lseek(fd, 0, SEEK_SET) == 0;
}

// The first line gnuplot wrote on its standard error, for the message.
std::string first_line(int fd) {
  std::string text(512, '\0');
  const ssize_t n = ::pread(fd, text.data(), text.size(), 0);
  text.resize(n > 0 ? static_cast<std::size_t>(n) : 0);
  while (!text.empty() && (text.front() == '\n' || text.front() == ' ')) text.erase(0, 1);
  text = text.substr(0, text.find('\n'));
  std::replace_if(
      text.begin(), text.end(), [](char c) { return c < 0x20 || c == 0x7f; }, '?');
  return text;
}

}  // namespace

std::optional<PlotFormat> plot_format_of(const std::string& path) {
  const std::size_t dot = path.rfind('.');
  if (dot == std::string::npos) return std::nullopt;
  std::string extension = path.substr(dot + 1);
  std::transform(extension.begin(), extension.end(), extension.begin(),
                 [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
  if (extension == "svg") return PlotFormat::kSvg;
  if (extension == "png") return PlotFormat::kPng;
  return std::nullopt;
}

std::optional<std::string> find_gnuplot() {
  const char* path = std::getenv("PATH");
  std::string_view dirs = path != nullptr ? path : "/usr/bin:/bin";
  while (true) {
    const std::size_t colon = dirs.find(':');
    // An empty PATH entry means the working directory, as in execvp(3).
    const std::string_view dir = dirs.substr(0, colon);
    std::string candidate(dir.empty() ? std::string_view(".") : dir);
    candidate += "/gnuplot";
    struct stat st {};
    if (::stat(candidate.c_str(), &st) == 0 && S_ISREG(st.st_mode) &&
        ::access(candidate.c_str(), X_OK) == 0)
      return candidate;
    if (colon == std::string_view::npos) return std::nullopt;
    dirs.remove_prefix(colon + 1);
  }
}

std::string gnuplot_script(const PlotFigure& figure, PlotFormat format) {
  const std::size_t rows = std::max<std::size_t>(1, (figure.panels.size() + 1) / 2);
  const std::string size =
      " size " + std::to_string(kWidth) + "," + std::to_string(rows * kRowHeight + 40);
  std::string script = "set encoding utf8\n";
  script +=
      format == PlotFormat::kSvg
          ? "set terminal svg" + size + " font 'sans,11' noenhanced background rgb 'white'\n"
          : "set terminal pngcairo" + size + " font 'sans,10' noenhanced background rgb 'white'\n";
  script += "set output\n";  // standard output: the file mtool opened
  std::size_t block = 0;
  for (const PlotPanel& panel : figure.panels) {
    for (const PlotSeries& s : panel.series) {
      script += "$s" + std::to_string(block++) + " << EOD\n";
      for (const auto& [x, y] : s.points) script += number(x) + " " + number(y) + "\n";
      script += "EOD\n";
    }
  }
  std::string title = figure.title;
  for (const std::string& note : figure.notes) title += "; " + note;
  script += "set multiplot layout " + std::to_string(rows) + ",2 title " + quoted(title) + "\n";
  block = 0;
  for (const PlotPanel& panel : figure.panels) add_panel(script, panel, block);
  if (figure.panels.empty()) {
    script +=
        "set label 1 'no results to draw' at graph 0.5,0.5 center\nunset key\n"
        "set xrange [0:1]\nset yrange [0:1]\nplot NaN notitle\n";
  }
  script += "unset multiplot\n";
  return script;
}

std::string draw_with_gnuplot(const PlotFigure& figure, const std::string& path, PlotFormat format,
                              const std::string& gnuplot) {
  const UniqueFd script(::memfd_create("mtool-plot-script", MFD_CLOEXEC));
  const UniqueFd errors(::memfd_create("mtool-plot-errors", MFD_CLOEXEC));
  if (!script || !errors) return with_errno("memfd_create", errno);
  if (!write_all(script.get(), gnuplot_script(figure, format)))
    return with_errno("writing the plot script", errno);
  const UniqueFd out(::open(path.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644));
  if (!out) return with_errno("cannot write " + printable(path), errno);

  posix_spawn_file_actions_t actions;
  posix_spawn_file_actions_init(&actions);
  posix_spawn_file_actions_adddup2(&actions, script.get(), STDIN_FILENO);
  posix_spawn_file_actions_adddup2(&actions, out.get(), STDOUT_FILENO);
  posix_spawn_file_actions_adddup2(&actions, errors.get(), STDERR_FILENO);
  std::string argv0 = gnuplot;
  char* argv[] = {argv0.data(), nullptr};
  pid_t pid = -1;
  const int spawned = posix_spawn(&pid, gnuplot.c_str(), &actions, nullptr, argv, environ);
  posix_spawn_file_actions_destroy(&actions);
  if (spawned != 0) return with_errno("cannot run " + printable(gnuplot), spawned);
  int status = 0;
  while (::waitpid(pid, &status, 0) < 0) {
    if (errno != EINTR) return with_errno("waiting for gnuplot", errno);
  }
  if (!WIFEXITED(status) || WEXITSTATUS(status) != 0) {
    const std::string said = first_line(errors.get());
    return "gnuplot failed" + (said.empty() ? std::string() : ": " + said);
  }
  struct stat st {};
  if (::fstat(out.get(), &st) != 0 || st.st_size == 0)
    return "gnuplot wrote nothing to " + printable(path);
  return "";
}

}  // namespace mtool::analysis
