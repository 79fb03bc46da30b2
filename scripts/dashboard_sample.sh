#!/usr/bin/env bash
# The README's picture of the Grafana dashboard's main panels (Monitor continuously): the
# prober metrics test (testbed 29: `mtool run --metrics` and `mtool correlator --metrics`
# scraped by a real Prometheus) run once more, with the picture drawn from its Prometheus
# through the HTTP API by `mtool report --plot`'s drawing (lib/analysis/gnuplot_plot). Root;
# takes the integration lock, as the root suites do; the test removes what it made.
#   usage: scripts/dashboard_sample.sh BUILD_DIR [OUT.png]
set -euo pipefail
BUILD=$(realpath "$1")
HERE=$(cd "$(dirname "$0")/.." && pwd)
OUT=$(realpath "${2:-$HERE/docs/dashboard-sample.png}")
[[ $(id -u) -eq 0 ]] || { echo "dashboard_sample: needs root" >&2; exit 1; }
MTOOL_DASHBOARD_PICTURE=$OUT flock /tmp/mtool-integration.lock \
  "$BUILD/tests/mtool_integration_tests" --gtest_filter='ProberMetrics.PrometheusScrapesWhatTheAtlasResultsSay'
echo "dashboard_sample: $OUT"
