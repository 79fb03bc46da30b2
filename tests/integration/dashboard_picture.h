#pragma once
// The Grafana dashboard the chart ships, as a test reads it: its queries with the variables
// substituted, and a picture of its main time-series panels drawn from a Prometheus' data
// through the HTTP API (query_range, as Grafana asks) with `mtool report --plot`'s drawing
// (lib/analysis/gnuplot_plot): the README's picture of "Monitor continuously".
#include <map>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "prometheus_server.h"

namespace mtool::testing {

// `expr` with every $variable of `variables` replaced.
std::string substitute_variables(std::string expr,
                                 const std::map<std::string, std::string>& variables);

// The panels of `dashboard` titled `titles` (time series), each query over [start, end] (Unix
// seconds, a point every `step_s`), drawn into `path` (.png or .svg): seconds shown as ms,
// x as seconds since `start`. "" or why not (one line).
std::string draw_dashboard_panels(const PrometheusServer& prometheus,
                                  const nlohmann::json& dashboard,
                                  const std::vector<std::string>& titles,
                                  const std::map<std::string, std::string>& variables, double start,
                                  double end, double step_s, const std::string& path);

}  // namespace mtool::testing
