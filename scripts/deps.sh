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
  etcd-server                                           # the etcd target (tests/cli/etcd.sh, bench)
  zookeeper libzookeeper-mt-dev                         # the ZooKeeper target: server, C client
  postgresql-15 libpq-dev                               # the postgres target (libpq-dev: pg_config and headers;
                                                        # not linked: targets/clients/pgwire.h says why)
  fuse3 libfuse3-dev                                    # powerfs (the power-loss fault): fusermount3, libfuse3
  chromium nodejs                                       # report.html opened headless (tests/browser/)
  python3 curl                                          # examples/' clients and raftkv's leader probe (tests/cli/target_file.sh)
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
# Packages whose install would start and enable a service on the host. The
# local cluster runs only sshds of its own, inside its namespaces, and the
# tests start their own databases: a fresh install must leave none of these
# enabled or running on the host. policy-rc.d exit 101 ("not allowed")
# stops invoke-rc.d from starting them, whatever policy the machine had
# (it is put back afterwards); the units are then disabled and stopped.
# Only freshly installed packages are touched: a host's own sshd that was
# there before is none of our business.
services_of() {
  case $1 in
    openssh-server) echo ssh.service ssh.socket ;;
    etcd-server) echo etcd.service ;;
    zookeeper) echo zookeeper.service ;;
    postgresql-15) echo postgresql.service ;;
  esac
}
fresh_services=()
for p in "${missing[@]}"; do
  for u in $(services_of "$p"); do fresh_services+=("$u"); done
done
# (Both paths can be moved, for tests/cli/deps.sh.)
policy=${POLICY_RC_D:-/usr/sbin/policy-rc.d}
initd=${INIT_D:-/etc/init.d}
saved=
if [[ -e $policy ]]; then
  saved=$(mktemp)
  cp -p "$policy" "$saved"
fi
restore_policy() {
  if [[ -n $saved ]]; then mv -f "$saved" "$policy"; else rm -f "$policy"; fi
}
trap restore_policy EXIT
printf '#!/bin/sh\nexit 101\n' >"$policy"
chmod 755 "$policy"
apt-get update -qq
apt-get install -y -qq --no-install-recommends "${missing[@]}"
for u in "${fresh_services[@]}"; do
  if command -v systemctl >/dev/null; then
    systemctl disable --now --quiet "$u" 2>/dev/null || true
  fi
  name=${u%.*}
  if [[ -x $initd/$name ]]; then
    update-rc.d "$name" disable >/dev/null 2>&1 || true
    "$initd/$name" stop >/dev/null 2>&1 || true
  fi
done
