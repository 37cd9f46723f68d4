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
  libxxhash-dev                                         # fast hashing of checker states
  libcurl4-openssl-dev                                  # HTTP clients (raftkv, etcd, Consul)
  libssh2-1-dev                                         # controller -> nodes
  openssh-server openssh-client                         # local cluster: an sshd per node, ssh-keygen
  iptables iproute2                                     # local cluster: namespaces, bridge, partitions
  libmicrohttpd-dev                                     # raftkv's HTTP API
  valgrind                                              # leak checks
  zlib1g-dev                                            # crc32 (raftkv storage)
  etcd-server                                           # comparison target (bench, later tests)
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
# openssh-server's scripts would start and enable the host's own sshd. The
# local cluster runs only sshds of its own, inside its namespaces, so a
# fresh install must not leave one listening on the host: policy-rc.d
# (exit 101 = "not allowed") stops the start, and the unit is disabled.
# etcd-server likewise: the benchmark starts its own etcd on loopback.
fresh_sshd=false
policy=/usr/sbin/policy-rc.d
if [[ " ${missing[*]} " == *" openssh-server "* || " ${missing[*]} " == *" etcd-server "* ]] &&
   [[ ! -e $policy ]]; then
  fresh_sshd=true
  printf '#!/bin/sh\nexit 101\n' >"$policy"
  chmod 755 "$policy"
  trap 'rm -f "$policy"' EXIT
fi
apt-get update -qq
apt-get install -y -qq --no-install-recommends "${missing[@]}"
if $fresh_sshd && command -v systemctl >/dev/null; then
  systemctl disable --quiet ssh.service ssh.socket etcd.service 2>/dev/null || true
fi
