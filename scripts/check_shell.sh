#!/usr/bin/env bash
# Runs shellcheck over every shell script in the tree (.shellcheckrc: sourced files are followed).
# Run by ctest (`shellcheck`, label unit, so `make test`) and by `make shellcheck`.
set -euo pipefail
cd "$(dirname "$0")/.."
command -v shellcheck >/dev/null || { echo "check_shell: shellcheck is not installed (make setup)" >&2; exit 1; }
mapfile -t scripts < <(git ls-files '*.sh' .ci/run)
((${#scripts[@]})) || { echo "check_shell: no scripts found (not a git checkout?)" >&2; exit 1; }
shellcheck "${scripts[@]}"
echo "check_shell: ${#scripts[@]} scripts clean"
