#!/usr/bin/env bash
# Installs everything mtool's build, tests and benchmarks need on Debian 12, idempotently.
# Run as root (CI is root); as non-root it only reports what is missing.
set -euo pipefail

packages=(
  build-essential cmake pkg-config
  clang llvm lld libclang-rt-14-dev clang-format clang-tidy
  libcap-dev libmnl-dev libboost-program-options-dev nlohmann-json3-dev
  # the correlator's Prometheus metrics: a maintained client library, Debian's (core + pull)
  prometheus-cpp-dev
  libgtest-dev libgmock-dev
  libbpf-dev bpftool
  iproute2 iptables iputils-ping traceroute procps time libcap2-bin util-linux python3
  shellcheck
  # the Helm chart's tests: Helm's template engine and schema validator, from Debian's Go
  golang-go golang-github-masterminds-sprig-dev golang-gopkg-yaml.v3-dev
  golang-github-xeipuuv-gojsonschema-dev python3-yaml
)

missing=()
for p in "${packages[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed' || missing+=("$p")
done

if ((${#missing[@]})); then
  if [[ $(id -u) -ne 0 ]]; then
    echo "setup: missing packages (run as root to install): ${missing[*]}" >&2
    exit 1
  fi
  echo "setup: installing ${missing[*]}"
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq
  apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
fi

# bpffs is where the correlator pins its maps; mount it if it is not there yet.
if [[ $(id -u) -eq 0 ]] && ! mountpoint -q /sys/fs/bpf; then
  mount -t bpf -o mode=0700 bpf /sys/fs/bpf
fi
echo "setup: ok"
