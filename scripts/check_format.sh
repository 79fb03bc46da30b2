#!/usr/bin/env bash
# Whether every C++ source follows .clang-format (Debian 12's clang-format 14: other versions
# format some constructs differently). The BPF programs (bpf/) keep the kernel's style and are
# not checked. Run by ctest (`check_format`, label unit) and `make check-format`; `make format`
# rewrites the files.
set -euo pipefail
cd "$(dirname "$0")/.."
command -v clang-format >/dev/null || { echo "check_format: clang-format is not installed (make setup)" >&2; exit 1; }
mapfile -t files < <(git ls-files '*.cpp' '*.h' | grep -v '^bpf/')
((${#files[@]})) || { echo "check_format: no sources found (not a git checkout?)" >&2; exit 1; }
clang-format --dry-run --Werror "${files[@]}"
echo "check_format: ${#files[@]} files formatted"
