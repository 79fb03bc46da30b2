#!/usr/bin/env bash
# Makes Docker usable here, idempotently: the engine and debootstrap installed, dockerd
# running with every address it hands out inside 198.18.0.0/15 (the network rule: never
# Docker's default 172.17.0.0/16), and a local debian:bookworm-slim base image, built with
# debootstrap from this machine's own Debian mirror when it is absent (no registry is needed).
#   usage: scripts/docker-env.sh        (root)
set -euo pipefail
log() { printf 'docker-env: %s\n' "$*" >&2; }
[[ $(id -u) -eq 0 ]] || { log "needs root"; exit 1; }

missing=()
for p in docker.io debootstrap; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed' || missing+=("$p")
done
if ((${#missing[@]})); then
  log "installing ${missing[*]}"
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq
  apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
fi

if ! docker info >/dev/null 2>&1; then
  if pgrep -x dockerd >/dev/null; then
    log "a dockerd runs but does not answer; not starting another"
    exit 1
  fi
  log "starting dockerd (bridge 198.18.0.1/24, pools in 198.18.128.0/17)"
  # dockerd outlives this script, so it must not keep the caller's descriptors: run under
  # `flock /tmp/mtool-integration.lock ctest ...`, it (and its containerd) held the lock until
  # someone stopped it, and every other engineer's integration tests waited.
  (
    for fd in /proc/self/fd/*; do
      fd=${fd##*/}
      if ((fd > 2)); then eval "exec ${fd}>&-"; fi
    done
    exec nohup dockerd --iptables=true --bip 198.18.0.1/24 \
      --default-address-pool base=198.18.128.0/17,size=24 >/var/log/mtool-dockerd.log 2>&1
  ) &
  for _ in $(seq 100); do docker info >/dev/null 2>&1 && break; sleep 0.2; done
  docker info >/dev/null 2>&1 || { log "dockerd did not start:"; tail -20 /var/log/mtool-dockerd.log >&2; exit 1; }
fi
bip=$(docker network inspect bridge -f '{{range .IPAM.Config}}{{.Subnet}}{{end}}')
[[ $bip == 198.18.* || $bip == 198.19.* ]] || { log "the running dockerd's bridge is $bip, outside 198.18.0.0/15; restart it with --bip"; exit 1; }

if ! docker image inspect debian:bookworm-slim >/dev/null 2>&1; then
  mirror=$(awk '/^URIs:/ {print $2; exit} /^deb / {print $2; exit}' \
    /etc/apt/sources.list.d/*.sources /etc/apt/sources.list 2>/dev/null || true)
  mirror=${mirror:-http://deb.debian.org/debian}
  rootfs=$(mktemp -d)
  trap 'rm -rf "$rootfs"' EXIT
  log "building debian:bookworm-slim with debootstrap from $mirror"
  debootstrap --variant=minbase bookworm "$rootfs" "$mirror" >/dev/null
  rm -rf "$rootfs"/var/cache/apt/archives/*.deb "$rootfs"/var/lib/apt/lists/*
  tar -C "$rootfs" -c . | docker import - debian:bookworm-slim >/dev/null
fi
log "ok"
