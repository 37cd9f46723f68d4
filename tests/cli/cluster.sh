#!/usr/bin/env bash
# CLI tests of `faultline cluster`: usage errors, the non-root refusal, and
# (as root, with `ip netns`, and no cluster already up) a 2-node
# up / status / repair / down cycle in a private state directory.
# Prints "ok - NAME" / "not ok - NAME" per case; exits non-zero on failure.
LIB_TMP=/tmp/fl-cluster-cli.XXXXXX
LIB_SHOW="head -5"
. "$(dirname "$0")/lib.sh"
export FAULTLINE_STATE=$tmp/state
lib_before_cleanup() {
  exec 9>&-   # a lock the cases below hold must not stop the clean-up
  if [[ -e $FAULTLINE_STATE ]]; then "$FL" cluster down >/dev/null 2>&1; fi
}

check "cluster without subcommand is a usage error" 64 "$FL" cluster
check "unknown cluster subcommand is a usage error" 64 "$FL" cluster frob
check "cluster --help succeeds" 0 "$FL" cluster --help
check "--nodes 0 is a usage error" 64 "$FL" cluster up --nodes 0
check "--nodes 21 is a usage error" 64 "$FL" cluster up --nodes 21
check "--nodes x is a usage error" 64 "$FL" cluster up --nodes x
check "down takes no arguments" 64 "$FL" cluster down extra
check "down takes only --force" 64 "$FL" cluster down --frob

# Run without the shell's lock descriptor (fd 9), as an independent
# process would: the shell itself stands in for a running test.
nofd() { "$@" 9>&-; }
hold_lock() { exec 9>"/run/lock/faultline-cluster.lock" && flock -n 9; }

if [[ $(id -u) -ne 0 ]]; then
  echo "ok - cluster cycle # SKIP needs root"
  check "up as non-root exits 3" 3 "$FL" cluster up --nodes 1
  contains "non-root is explained" "$tmp/err" "needs root"
  exit $((failures > 0))
fi

# Non-root refusal, as nobody (when the binary is reachable for it).
if command -v setpriv >/dev/null &&
   setpriv --reuid=65534 --regid=65534 --clear-groups test -x "$FL" 2>/dev/null; then
  check "up as non-root exits 3" 3 setpriv --reuid=65534 --regid=65534 --clear-groups "$FL" cluster up --nodes 1
  contains "non-root is explained" "$tmp/err" "needs root"
else
  echo "ok - up as non-root exits 3 # SKIP $FL not executable by nobody"
fi

if ! ip netns list >/dev/null 2>&1 || [[ ! -x /usr/sbin/sshd ]]; then
  echo "ok - cluster cycle # SKIP needs ip netns and /usr/sbin/sshd"
  exit $((failures > 0))
fi
if [[ -e /sys/class/net/flbr0 || -e /run/netns/fl-n1 ]]; then
  echo "ok - cluster cycle # SKIP a faultline cluster is already up here"
  exit $((failures > 0))
fi

check "status before up exits 3" 3 "$FL" cluster status
contains "status says no cluster" "$tmp/err" "no cluster is up"
check "up --nodes 2" 0 "$FL" cluster up --nodes 2
check "up again is fine" 0 "$FL" cluster up --nodes 2
check "status after up exits 0" 0 "$FL" cluster status
contains "status lists n2" "$tmp/out" "n2    10.231.0.12   yes    answers"

# A test holds the cluster's lock (as `faultline test` does for its whole
# run): up and down must refuse, leaving the cluster as it is.
if hold_lock; then
  check "down while a test holds the lock exits 3" 3 nofd "$FL" cluster down
  contains "the refusal names the lock" "$tmp/err" "/run/lock/faultline-cluster.lock is locked"
  contains "the refusal says what --force breaks" "$tmp/err" \
    "--force takes the cluster away from the running test, whose verdict is then worthless"
  check "up while a test holds the lock exits 3" 3 nofd "$FL" cluster up --nodes 1
  check "status is not refused, and nothing was removed" 0 nofd "$FL" cluster status
  contains "n2 still answers" "$tmp/out" "n2    10.231.0.12   yes    answers"
  exec 9>&-
else
  echo "not ok - could not take /run/lock/faultline-cluster.lock"; failures=$((failures + 1))
fi
contains "nodes file written" "$FAULTLINE_STATE/nodes" "n2 10.231.0.12"
check "ssh with the written config" 0 ssh -F "$FAULTLINE_STATE/ssh.conf" -o BatchMode=yes n2 hostname
contains "n2 is called n2" "$tmp/out" "n2"
# Commands must not run as a top-level bash, which would source the host's
# ~/.bashrc (shared by the namespaces) and stall on whatever it does.
check "ssh command runs below a top-level shell" 0 ssh -F "$FAULTLINE_STATE/ssh.conf" \
  -o BatchMode=yes n2 'test "$SHLVL" -ge 2'

# What an earlier run left behind shows, and makes status exit 3.
ip netns exec fl-n2 iptables -w -A INPUT -s 10.231.0.11 -j DROP -m comment --comment faultline
ip netns exec fl-n1 sleep 300 &
sleeper=$!
check "status with leftovers exits 3" 3 "$FL" cluster status
contains "status names the leftover rule" "$tmp/out" "1 faultline rules"
contains "status names the leftover process" "$tmp/out" "sleep"
ip netns exec fl-n2 iptables -w -D INPUT -s 10.231.0.11 -j DROP -m comment --comment faultline
kill $sleeper; wait $sleeper 2>/dev/null
check "status at rest exits 0" 0 "$FL" cluster status

kill "$(cat "$FAULTLINE_STATE/n1/sshd.pid")"
sleep 0.5
check "status with a dead sshd exits 3" 3 "$FL" cluster status
contains "status names the dead sshd" "$tmp/out" "not running"
check "up repairs it" 0 "$FL" cluster up --nodes 2
check "status after repair exits 0" 0 "$FL" cluster status

# A cluster brought up from another state directory: its sshds hold port 22
# with other host keys, so up must rebuild the nodes, not join them.
other=$tmp/other
check "up from another state directory" 0 env FAULTLINE_STATE="$other" "$FL" cluster up --nodes 2
check "its own host keys answer" 0 ssh -F "$other/ssh.conf" -o BatchMode=yes n2 hostname
check "up back in the first state directory" 0 "$FL" cluster up --nodes 2
check "the first host keys answer again" 0 ssh -F "$FAULTLINE_STATE/ssh.conf" -o BatchMode=yes n1 hostname
if pgrep -f "$other/" >/dev/null; then
  echo "not ok - the other state directory's sshds were left running"; failures=$((failures + 1))
else
  echo "ok - the other state directory's sshds are gone"
fi

if hold_lock; then
  check "down --force while a test holds the lock" 0 nofd "$FL" cluster down --force
  contains "--force says what it breaks" "$tmp/err" "whose verdict is then worthless"
  exec 9>&-
else
  echo "not ok - could not take /run/lock/faultline-cluster.lock"; failures=$((failures + 1))
fi
check "status after down --force exits 3" 3 "$FL" cluster status
check "down again is fine" 0 "$FL" cluster down
check "status after down exits 3" 3 "$FL" cluster status
left=$(ip netns list | grep -c '^fl-n' || true)
if [[ $left -eq 0 && ! -e /sys/class/net/flbr0 ]] &&
   ! pgrep -f "$FAULTLINE_STATE" >/dev/null; then
  echo "ok - down leaves no namespace, bridge or sshd"
else
  echo "not ok - down left: $left namespaces, bridge $([[ -e /sys/class/net/flbr0 ]] && echo yes || echo no)"
  failures=$((failures + 1))
fi

exit $((failures > 0))
