#include "analysis/plot_figure.h"

#include <algorithm>
#include <map>

#include "analysis/report_model.h"

namespace mtool::analysis {

namespace {

struct TargetGroups {
  ResultType type;
  std::string target;
  std::uint64_t results = 0;
  std::vector<const Group*> vantages;
};

std::vector<std::pair<double, double>> hop_medians(const PathAccumulator& path, bool corrected) {
  std::vector<std::pair<double, double>> points;
  for (const auto& [number, hop] : path.hops()) {
    if (const auto median = quantile_ms(corrected ? hop.corrected : hop.raw, 0.5))
      points.emplace_back(number, *median);
  }
  return points;
}

void add_cdf(PlotPanel& panel, const stats::LatencyHistogram& histogram, std::string title,
             std::size_t color, bool dashed) {
  if (histogram.count() == 0) return;
  panel.series.push_back({.title = std::move(title),
                          .points = cdf_points(histogram),
                          .color = color,
                          .dashed = dashed,
                          .steps = true});
}

PlotPanel overhead_panel(const TargetGroups& t, const char* whose) {
  PlotPanel panel{
      .title = std::string(type_name(t.type)) + " " + t.target + ": overhead of " + whose,
      .x_label = "overhead (ms), log scale",
      .y_label = "fraction of replies",
      .log_x = true,
      .fraction_y = true,
      .empty_note = "no overheads in these results (no correlator, or --no-correction)",
      .series = {}};
  for (std::size_t v = 0; v < t.vantages.size(); ++v)
    add_cdf(panel, t.vantages[v]->summary.overhead(), t.vantages[v]->key.vantage, v, false);
  return panel;
}

void add_target(PlotFigure& figure, const TargetGroups& t) {
  if (t.type == ResultType::kPing) {
    PlotPanel rtt{.title = "ping " + t.target + ": RTT raw (dashed) and corrected (solid)",
                  .x_label = "RTT (ms), log scale",
                  .y_label = "fraction of replies",
                  .log_x = true,
                  .fraction_y = true,
                  .empty_note = "no replies",
                  .series = {}};
    for (std::size_t v = 0; v < t.vantages.size(); ++v) {
      const Group& g = *t.vantages[v];
      add_cdf(rtt, g.summary.raw(), g.key.vantage + " raw", v, true);
      add_cdf(rtt, g.summary.corrected(), g.key.vantage + " corrected", v, false);
    }
    figure.panels.push_back(std::move(rtt));
    figure.panels.push_back(overhead_panel(t, "its replies"));
    return;
  }
  PlotPanel hops{.title = "traceroute " + t.target +
                          ": median RTT per hop, raw (dashed) and corrected (solid)",
                 .x_label = "hop",
                 .y_label = "median RTT (ms)",
                 .log_x = false,
                 .fraction_y = false,
                 .empty_note = "no hop answered",
                 .series = {}};
  for (std::size_t v = 0; v < t.vantages.size(); ++v) {
    const Group& g = *t.vantages[v];
    for (const bool corrected : {false, true}) {
      auto points = hop_medians(*g.path, corrected);
      if (points.empty()) continue;
      hops.series.push_back({.title = g.key.vantage + (corrected ? " corrected" : " raw"),
                             .points = std::move(points),
                             .color = v,
                             .dashed = !corrected,
                             .steps = false});
    }
  }
  figure.panels.push_back(std::move(hops));
  figure.panels.push_back(overhead_panel(t, "the replies from the target"));
}

}  // namespace

std::vector<std::pair<double, double>> cdf_points(const stats::LatencyHistogram& histogram) {
  std::vector<std::pair<double, double>> points;
  const auto total = static_cast<double>(histogram.count());
  std::uint64_t seen = 0;
  histogram.for_each_bucket([&](std::uint64_t low, std::uint64_t width, std::uint64_t count) {
    const double x = (static_cast<double>(low) + static_cast<double>(width) / 2) / 1e6;
    if (points.empty()) points.emplace_back(x, 0.0);
    seen += count;
    points.emplace_back(x, static_cast<double>(seen) / total);
  });
  return points;
}

PlotFigure make_plot_figure(const ReportAggregator& aggregator, const PlotLimits& limits) {
  std::map<std::pair<ResultType, std::string>, TargetGroups> by_target;
  for (const Group* g : aggregator.groups()) {
    TargetGroups& t = by_target[{g->key.type, g->key.target}];
    t.type = g->key.type;
    t.target = g->key.target;
    t.results += g->summary.counts().results;
    t.vantages.push_back(g);
  }
  std::vector<TargetGroups> targets;
  std::size_t silent = 0;  // targets nothing answered: nothing to draw
  for (auto& [key, t] : by_target) {
    const bool answered = std::any_of(t.vantages.begin(), t.vantages.end(), [](const Group* g) {
      if (g->summary.counts().received > 0) return true;
      if (!g->path) return false;
      return std::any_of(g->path->hops().begin(), g->path->hops().end(),
                         [](const auto& hop) { return hop.second.replies > 0; });
    });
    if (answered) {
      targets.push_back(std::move(t));
    } else {
      ++silent;
    }
  }
  // Pings first, then traceroutes; within each, the targets with the most results.
  std::stable_sort(targets.begin(), targets.end(),
                   [](const TargetGroups& a, const TargetGroups& b) {
                     if (a.type != b.type) return a.type == ResultType::kPing;
                     return a.results > b.results;
                   });
  PlotFigure figure{.title = "mtool report", .panels = {}, .notes = {}};
  if (silent > 0)
    figure.notes.push_back(std::to_string(silent) + " targets without any reply not drawn");
  if (targets.size() > limits.targets) {
    figure.notes.push_back(std::to_string(targets.size() - limits.targets) +
                           " targets with fewer results not drawn (--plot-targets)");
    targets.resize(limits.targets);
  }
  std::size_t vantages_left_out = 0;
  for (TargetGroups& t : targets) {
    std::stable_sort(t.vantages.begin(), t.vantages.end(), [](const Group* a, const Group* b) {
      return a->summary.counts().received > b->summary.counts().received;
    });
    if (t.vantages.size() > limits.vantages) {
      vantages_left_out += t.vantages.size() - limits.vantages;
      t.vantages.resize(limits.vantages);
    }
    add_target(figure, t);
  }
  if (vantages_left_out > 0) {
    figure.notes.push_back(std::to_string(vantages_left_out) +
                           " vantage points with fewer replies not drawn (--plot-vantages)");
  }
  return figure;
}

}  // namespace mtool::analysis
