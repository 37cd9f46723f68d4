#!/usr/bin/env bash
# Installs every Debian package faultline needs to build, test and run.
# Idempotent: when everything is present it only asks dpkg and returns.
# Usage: scripts/deps.sh [--check]   (--check: exit 1 if anything is missing)
set -euo pipefail

packages=(
  build-essential pkg-config clang libclang-rt-14-dev   # compilers, libFuzzer, sanitizers
  libcmocka-dev                                         # unit tests
  libjansson-dev                                        # JSON (history, HTTP bodies)
  uthash-dev                                            # hash tables
  libcurl4-openssl-dev                                  # HTTP clients (raftkv, etcd, Consul)
  libssh2-1-dev                                         # controller -> nodes
  libmicrohttpd-dev                                     # raftkv's HTTP API
  valgrind                                              # leak checks
  zlib1g-dev                                            # crc32 (raftkv storage)
)

missing=()
for p in "${packages[@]}"; do
  status=$(dpkg-query -W -f='${Status}' "$p" 2>/dev/null || true)
  [[ "$status" == "install ok installed" ]] || missing+=("$p")
done

if [[ ${#missing[@]} -eq 0 ]]; then
  exit 0
fi
if [[ "${1:-}" == "--check" ]]; then
  echo "missing packages: ${missing[*]} (run: make deps)" >&2
  exit 1
fi
if [[ $(id -u) -ne 0 ]]; then
  echo "scripts/deps.sh: installing ${missing[*]} needs root (run it as root or with sudo)" >&2
  exit 1
fi
echo "installing: ${missing[*]}"
export DEBIAN_FRONTEND=noninteractive
apt-get update -qq
apt-get install -y -qq --no-install-recommends "${missing[@]}"
