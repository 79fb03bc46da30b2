#!/usr/bin/env bash
# Installs everything mtool's build, tests and benchmarks need on Debian 12, idempotently.
# Run as root (CI is root); as non-root it only reports what is missing.
set -euo pipefail

packages=(
  build-essential cmake pkg-config
  clang llvm lld libclang-rt-14-dev clang-format clang-tidy
  libcap-dev libmnl-dev libboost-program-options-dev nlohmann-json3-dev
  # mtool report: simdjson reads results for volume; gnuplot draws --plot (tests draw too)
  libsimdjson-dev gnuplot-nox
  # Prometheus metrics (mtool run --metrics, mtool correlator --metrics): the maintained C++
  # client library (civetweb for HTTP), and the real server the metrics integration test scrapes
  # with (started by the test on loopback; the package's own service is not used)
  prometheus-cpp-dev prometheus
  libgtest-dev libgmock-dev
  libbpf-dev bpftool
  iproute2 iptables iputils-ping traceroute procps time libcap2-bin util-linux python3
  curl bc  # bench/campaign_metrics.sh: scrapes, and its arithmetic
  shellcheck
  # the Paris traceroute tests: the reference tracer on the multipath testbed, and a capture of
  # the probes on the wire
  scamper tcpdump
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

# The metrics test starts a Prometheus of its own; where systemd runs, the package started its
# service (on :9090), which nothing here wants.
if [[ $(id -u) -eq 0 && -d /run/systemd/system ]] && systemctl is-enabled -q prometheus 2>/dev/null; then
  systemctl disable --now -q prometheus
fi

# bpffs is where the correlator pins its maps; mount it if it is not there yet.
if [[ $(id -u) -eq 0 ]] && ! mountpoint -q /sys/fs/bpf; then
  mount -t bpf -o mode=0700 bpf /sys/fs/bpf
fi
echo "setup: ok"
