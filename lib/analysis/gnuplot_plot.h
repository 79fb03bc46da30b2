#pragma once
// A PlotFigure drawn by gnuplot (Debian's gnuplot-nox), run as a child process: the one place
// that knows it. Chosen over linking a plotting library so that the mtool executable (and the
// image) carries none of it: gnuplot is needed only where --plot is used, found on PATH then.
// Its svg and pngcairo terminals write the two formats; the script and its data go through a
// memory file, and nothing taken from results reaches the script but through a whitelist of
// characters (gnuplot would run a command quoted in backquotes).
#include <optional>
#include <string>

#include "analysis/plot_figure.h"

namespace mtool::analysis {

enum class PlotFormat { kSvg, kPng };

// By the file's extension (.svg, .png; any case); nullopt for another.
std::optional<PlotFormat> plot_format_of(const std::string& path);

// The gnuplot executable on PATH, or nullopt.
std::optional<std::string> find_gnuplot();

// The gnuplot script that draws `figure` in `format` on its standard output.
std::string gnuplot_script(const PlotFigure& figure, PlotFormat format);

// Draws `figure` into `path` with the gnuplot at `gnuplot`. "" or why not (one line).
std::string draw_with_gnuplot(const PlotFigure& figure, const std::string& path, PlotFormat format,
                              const std::string& gnuplot);

}  // namespace mtool::analysis
