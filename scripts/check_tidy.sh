#!/usr/bin/env bash
# clang-tidy (.clang-tidy) over lib/ and tools/, every finding an error.
#   usage: scripts/check_tidy.sh BUILD_DIR [--changed]
# BUILD_DIR holds compile_commands.json. --changed: only the files that differ from the merge
# base with origin/main (or main), for a quick look before a commit; without it, all of them,
# as ctest (`clang_tidy`, label lint) and CI run it.
set -euo pipefail
cd "$(dirname "$0")/.."
build=${1:?usage: scripts/check_tidy.sh BUILD_DIR [--changed]}
[[ -f $build/compile_commands.json ]] || { echo "check_tidy: no $build/compile_commands.json (build first)" >&2; exit 1; }
command -v run-clang-tidy >/dev/null || { echo "check_tidy: run-clang-tidy is not installed (make setup)" >&2; exit 1; }
if [[ ${2:-} == --changed ]]; then
  base=$(git merge-base HEAD origin/main 2>/dev/null || git merge-base HEAD main)
  mapfile -t files < <(git diff --name-only "$base" -- 'lib/*.cpp' 'tools/*.cpp')
else
  mapfile -t files < <(git ls-files 'lib/*.cpp' 'tools/*.cpp')
fi
((${#files[@]})) || { echo "check_tidy: nothing to check"; exit 0; }
# run-clang-tidy takes regular expressions: anchor each path.
patterns=()
for f in "${files[@]}"; do patterns+=("$(pwd)/${f//./\\.}\$"); done
run-clang-tidy -quiet -p "$build" -j "$(nproc)" "${patterns[@]}"  # .clang-tidy: WarningsAsErrors '*'
echo "check_tidy: ${#files[@]} files clean"
