#!/usr/bin/env bash
# Container churn under the correlator: N namespaces (a veth to the host and one long-lived
# process each, like a container's) created, answered on their abstract-name listener, and
# destroyed, one after another. Prints the time from a namespace's creation to its listener
# answering (median, max), and the daemon's descriptors and RSS before and after; fails if a
# host-side veth outlives its namespace (a listener keeping it alive).
#   usage: bench/listener_churn.sh BUILD_DIR [ROUNDS]   (BUILD_DIR with the integration tests)
set -euo pipefail
BUILD=$(realpath "$1")
ROUNDS=${2:-300}
[[ $(id -u) -eq 0 ]] || { echo "bench: needs root" >&2; exit 1; }
MTOOL_CHURN_ROUNDS=$ROUNDS "$BUILD/tests/mtool_integration_tests" \
  --gtest_filter='CorrelatorListeners.ChurnLeavesNothingBehind' 2>&1 | grep -E '^churn:|FAILED|Failure' 
