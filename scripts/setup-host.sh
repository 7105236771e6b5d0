#!/usr/bin/env bash
# Installs the Debian packages kubelab needs on a fresh host: the netns data plane (iproute2, nftables),
# the network tools learners run inside pods (netcat, curl, dig, ping), and chromium for browser tests.
# Idempotent: installs only what is missing. Needs root (or sudo) for apt-get; without it, prints what is missing.
set -euo pipefail
need=()
check() { command -v "$1" >/dev/null 2>&1 || need+=("$2"); }
check ip iproute2
check nft nftables
check nc netcat-openbsd
check curl curl
check dig dnsutils
check ping iputils-ping
check wget wget
check chromium chromium
check bash bash
check unshare util-linux
check bwrap bubblewrap
check nsenter util-linux
check openssl openssl
check make make
check g++ g++
if [ ${#need[@]} -eq 0 ]; then
  echo "setup-host: all packages present"
  exit 0
fi
echo "setup-host: installing ${need[*]}"
SUDO=""
if [ "$(id -u)" != "0" ]; then
  if command -v sudo >/dev/null 2>&1; then SUDO="sudo"; else
    echo "setup-host: not root; please install: ${need[*]}" >&2
    exit 0
  fi
fi
export DEBIAN_FRONTEND=noninteractive
$SUDO apt-get update -qq || true
$SUDO apt-get install -y -qq --no-install-recommends "${need[@]}"
