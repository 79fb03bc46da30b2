#pragma once
// What --plot draws, independent of what draws it: panels of series of points. Per target, the
// distribution (CDF) of raw and of corrected RTT from each vantage point, and the distribution
// of the overhead; for a traceroute, each hop's median RTT raw and corrected. Built from the
// groups of a report grouped by target and vantage point.
#include <cstddef>
#include <string>
#include <utility>
#include <vector>

#include "analysis/report_aggregator.h"

namespace mtool::analysis {

struct PlotSeries {
  std::string title;
  std::vector<std::pair<double, double>> points;  // (x, y)
  std::size_t color = 0;  // the vantage point's, the same in every panel of a target
  bool dashed = false;    // raw figures; corrected ones are solid
  bool steps = true;      // a CDF; else points joined by lines (per hop)
};

struct PlotPanel {
  std::string title;
  std::string x_label;
  std::string y_label;
  bool log_x = false;
  bool fraction_y = false;  // a CDF: y from 0 to 1
  std::string empty_note;   // said in the panel when it has no series
  std::vector<PlotSeries> series;
};

struct PlotFigure {
  std::string title;
  std::vector<PlotPanel> panels;   // two per row: a target's RTT (or hops) and its overhead
  std::vector<std::string> notes;  // what was left out (targets, vantage points beyond the limits)
};

struct PlotLimits {
  std::size_t targets = 12;  // the ones with the most results
  std::size_t vantages = 8;  // per target, the ones with the most replies
};

// `aggregator` must group by target and vantage point.
PlotFigure make_plot_figure(const ReportAggregator& aggregator, const PlotLimits& limits);

// The CDF of a histogram as points (ms, fraction at or below), one per non-empty bucket.
std::vector<std::pair<double, double>> cdf_points(const stats::LatencyHistogram& histogram);

}  // namespace mtool::analysis
