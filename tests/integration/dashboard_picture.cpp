#include "dashboard_picture.h"

#include <algorithm>
#include <cmath>
#include <regex>

#include "analysis/gnuplot_plot.h"
#include "analysis/plot_figure.h"

namespace mtool::testing {
namespace {

using nlohmann::json;

// Grafana's legendFormat ("p50 raw {{node}} → {{target}}") for one series' labels, in ASCII
// (the drawing keeps printable ASCII only).
std::string legend(std::string format, const json& labels) {
  for (std::size_t at; (at = format.find("→")) != std::string::npos;)
    format.replace(at, std::string("→").size(), "->");
  const std::regex placeholder(R"(\{\{ *([a-zA-Z_]+) *\}\})");
  std::string out;
  auto begin = std::sregex_iterator(format.begin(), format.end(), placeholder);
  std::size_t last = 0;
  for (auto it = begin; it != std::sregex_iterator(); ++it) {
    out += format.substr(last, static_cast<std::size_t>(it->position()) - last);
    const std::string name = (*it)[1].str();
    std::string value = labels.value(name, "");
    if (name == "container_id" && value.size() > 12) value.resize(12);  // as docker ps shows it
    out += value;
    last = static_cast<std::size_t>(it->position() + it->length());
  }
  out += format.substr(last);
  return out;
}

}  // namespace

std::string substitute_variables(std::string expr,
                                 const std::map<std::string, std::string>& variables) {
  for (const auto& [name, replacement] : variables) {
    for (auto at = expr.find(name); at != std::string::npos; at = expr.find(name, at))
      expr.replace(at, name.size(), replacement);
  }
  return expr;
}

std::string draw_dashboard_panels(const PrometheusServer& prometheus, const json& dashboard,
                                  const std::vector<std::string>& titles,
                                  const std::map<std::string, std::string>& variables, double start,
                                  double end, double step_s, const std::string& path) {
  const auto format = analysis::plot_format_of(path);
  if (!format) return path + ": not .png or .svg";
  const auto gnuplot = analysis::find_gnuplot();
  if (!gnuplot) return "no gnuplot on PATH";
  analysis::PlotFigure figure;
  figure.title =
      "mtool dashboard (helm/mtool/dashboards/mtool.json) from the prober metrics test, via "
      "Prometheus";
  for (const std::string& title : titles) {
    const auto panel = std::find_if(dashboard["panels"].begin(), dashboard["panels"].end(),
                                    [&](const json& p) { return p.value("title", "") == title; });
    if (panel == dashboard["panels"].end()) return "the dashboard has no panel '" + title + "'";
    const bool seconds = (*panel)["fieldConfig"]["defaults"].value("unit", "") == "s";
    analysis::PlotPanel drawn;
    drawn.title = title;
    drawn.x_label = "seconds";
    drawn.y_label = seconds ? "ms" : "per second";
    drawn.empty_note = "no data";
    std::size_t color = 0;
    for (const json& target : (*panel)["targets"]) {
      const json answer =
          prometheus.api("query_range", {{"query", substitute_variables(target["expr"], variables)},
                                         {"start", std::to_string(start)},
                                         {"end", std::to_string(end)},
                                         {"step", std::to_string(step_s)}});
      if (answer.value("status", "") != "success") return title + ": " + answer.dump();
      for (const json& series : answer["data"]["result"]) {
        analysis::PlotSeries s;
        s.title = legend(target.value("legendFormat", ""), series["metric"]);
        s.steps = false;
        s.dashed = s.title.find("raw") != std::string::npos;
        s.color = color++;
        for (const json& point : series["values"]) {
          const double value = std::stod(point[1].get<std::string>());
          if (!std::isfinite(value)) continue;  // NaN before the first sample of a rate
          s.points.emplace_back(point[0].get<double>() - start, seconds ? value * 1e3 : value);
        }
        if (!s.points.empty()) drawn.series.push_back(std::move(s));
      }
    }
    figure.panels.push_back(std::move(drawn));
  }
  return analysis::draw_with_gnuplot(figure, path, *format, *gnuplot);
}

}  // namespace mtool::testing
