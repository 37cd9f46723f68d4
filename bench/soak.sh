#!/usr/bin/env bash
# Soak of the controller (issue 21): SOAK_RUNS back-to-back `faultline
# test` runs of raftkv on the local cluster (5 nodes) with every fault
# kind, while two CPU hogs (bounded by `timeout`) keep both cores busy;
# every other run, an outside kill -9 of a random node's raftkv at a
# random moment of the client phase. Prints, over all runs:
#   runs, hangs (a run still going SOAK_HANG_S after its time limit: goal
#   0), false switch fires (a dead man's switch firing while the
#   controller lives: goal 0), nemesis actions late by more than 1 s (goal
#   0), the longest controller stall, the longest gap between two lease
#   renewals, and crash detections against injected kills (goal: every
#   injected one detected, none on runs without one).
# Each run brings its own cluster up and down; with SOAK_LOCK=FILE each
# run also takes that lock (a machine's queue lock,
# /run/lock/faultline-dev-queue.lock), so others get the cluster between
# runs. Without it the caller is the one holding the cluster (as for
# every tests/cli script): taking the lock here under a caller that holds
# it would wait forever. SOAK_CHECK=1 exits non-zero when a goal that is behaviour
# (no hang, no false fire, detections = injections) is missed: the short
# soak of `make test` (tests/cli/soak.sh). Lateness and stalls are figures
# only: timings on a shared machine.
set -u
FL=${FAULTLINE:-build/faultline}
FL=$(cd "$(dirname "$FL")" && pwd)/$(basename "$FL")
RAFTKV=${RAFTKV:-$(cd "$(dirname "$0")/.." && pwd)/${BUILD:-build}/raftkv}
RUNS=${SOAK_RUNS:-6}
SECS=${SOAK_SECONDS:-20}
HANG_S=${SOAK_HANG_S:-300}
LOCK=${SOAK_LOCK:-}
NODE_DIR=/var/lib/faultline-node
tmp=$(mktemp -d /tmp/fl-soak.XXXXXX)
# SOAK_STATE: a cluster state directory of the soak's own (its cluster is
# brought up and down by each run). Without it the runs use the machine's
# default local cluster, as any `faultline test` does: up already (with
# its host keys) or brought up and down by the run.
[[ -n ${SOAK_STATE:-} ]] && export FAULTLINE_STATE=$SOAK_STATE
hogs=()
cleanup() {
  for p in "${hogs[@]}"; do kill "$p" 2>/dev/null; done
  rm -rf "$tmp"
}
trap cleanup EXIT

skip() { echo "soak: skipped: $1"; echo "ok - soak # SKIP $1"; exit 0; }
[[ $(id -u) -eq 0 ]] || skip "needs root"
ip netns list >/dev/null 2>&1 && [[ -x /usr/sbin/sshd ]] || skip "needs ip netns and sshd"
[[ -x $RAFTKV ]] || skip "no raftkv build at $RAFTKV"

if [[ -z $LOCK && -n ${SOAK_STATE:-} ]] &&
   [[ -e /sys/class/net/flbr0 || -n $(ip netns list 2>/dev/null | grep '^fl-n') ]]; then
  skip "a faultline cluster is already up here"
fi

raftkv_pid() { # NODE
  for p in /proc/[0-9]*; do
    if tr '\0' ' ' 2>/dev/null <"$p/cmdline" |
       grep -Eq "^[^ ]*raftkv --id .* --data-dir $NODE_DIR/$1/data "; then
      echo "${p#/proc/}"; return
    fi
  done
}

# Wait for the clients to start, then kill -9 a random node's raftkv at a
# random second of the client phase; record the node if it was running.
outside_kill() { # ERRFILE OUTFILE
  for _ in $(seq 1800); do
    grep -q 'clients: [0-9]* threads' "$1" 2>/dev/null && break
    sleep 0.1
  done
  sleep $((2 + RANDOM % (SECS - 4)))
  local node="n$((1 + RANDOM % 5))" p
  p=$(raftkv_pid "$node")
  if [[ -n $p ]] && kill -9 "$p" 2>/dev/null; then echo "$node" >"$2"; fi
}

runs=0 hangs=0 fires=0 late=0 injected=0 detected=0 missed=0 false_crash=0
not_judged=0 stall_max=0 lag_max=0 late_max=0
max() { awk -v a="$1" -v b="$2" 'BEGIN { print (b > a ? b : a) }'; }
echo "soak: $RUNS runs of ${SECS} s, nemesis partition,kill,pause every 2 s," \
     "2 CPU hogs; load before: $(cut -d' ' -f1-3 /proc/loadavg)"
cluster_up_here() {
  [[ -e /sys/class/net/flbr0 || -n $(ip netns list 2>/dev/null | grep '^fl-n') ]]
}
foreign=0
for i in $(seq "$RUNS"); do
  err=$tmp/err.$i killed=$tmp/killed.$i
  : >"$err"
  rm -f "$killed"
  # The lock first: the hogs must load the machine only during our run.
  # With a state of our own, a cluster someone left up (and its host
  # keys) is not ours to use or take down: wait for it to go, a bounded
  # while, lock released.
  if [[ -n $LOCK ]]; then
    for _ in $(seq 30); do
      exec 9>"$LOCK"; flock 9
      [[ -n ${SOAK_STATE:-} ]] && cluster_up_here || break
      flock -u 9; exec 9>&-
      foreign=$((foreign + 1))
      sleep 20
    done
    if [[ -n ${SOAK_STATE:-} ]] && cluster_up_here; then
      echo "soak: a cluster someone else left up is still here; stopping"
      flock -u 9; exec 9>&-
      break
    fi
  fi
  hogs=()
  for _ in 1 2; do
    timeout $((SECS + 120)) sh -c 'while :; do :; done' &
    hogs+=($!)
  done
  kpid=
  if (( i % 2 == 1 )); then outside_kill "$err" "$killed" & kpid=$!; fi
  timeout -s KILL $((SECS + HANG_S)) "$FL" test \
    --raftkv "$RAFTKV" --results "$tmp/results" --time-limit "$SECS" \
    --nemesis partition,kill,pause --nemesis-interval 2 --seed "$i" \
    --test-name "soak$i" >/dev/null 2>"$err"
  rc=$?
  [[ -n $kpid ]] && wait "$kpid" 2>/dev/null
  for p in "${hogs[@]}"; do kill "$p" 2>/dev/null; done
  wait 2>/dev/null
  hogs=()
  if [[ -n $LOCK ]]; then flock -u 9; exec 9>&-; fi
  runs=$((runs + 1))
  [[ $rc -eq 137 ]] && hangs=$((hangs + 1))
  grep -q "dead man's switch fired" "$err" && fires=$((fires + 1))
  [[ $rc -eq 3 ]] && not_judged=$((not_judged + 1))
  n=$(sed -n 's/.*late by more than 1 s: \([0-9]*\).*/\1/p' "$err" | tail -1)
  late=$((late + ${n:-0}))
  l=$(sed -n 's/.*late by more than 1 s: [0-9]* (latest \([0-9.]*\) s).*/\1/p' "$err" | tail -1)
  late_max=$(max "$late_max" "${l:-0}")
  s=$(sed -n 's/.*longest stall \([0-9.]*\) s.*/\1/p' "$err" | tail -1)
  stall_max=$(max "$stall_max" "${s:-0}")
  g=$(sed -n "s/.*two renewals of a node's lease: \([0-9.]*\) s.*/\1/p" "$err" | tail -1)
  lag_max=$(max "$lag_max" "${g:-0}")
  crashes=$(grep -c 'CRASH: node' "$err")
  if [[ -s $killed ]]; then
    injected=$((injected + 1))
    if grep -q "CRASH: node $(cat "$killed"):" "$err"; then
      detected=$((detected + 1))
    else missed=$((missed + 1)); fi
    crashes=$((crashes - 1))
  fi
  (( crashes > 0 )) && false_crash=$((false_crash + crashes))
  echo "soak: run $i: exit $rc; outside kill: $(cat "$killed" 2>/dev/null || echo none);" \
       "crashes seen: $(grep -c 'CRASH: node' "$err"); stall ${s:-?} s;" \
       "late actions ${n:-?}; lease gap ${g:-?} s"
  if [[ $rc -eq 3 || $rc -eq 137 ]]; then sed 's/^/  # /' "$err" | tail -5; fi
done
echo "soak: runs $runs, hangs $hangs, not judged $not_judged, false switch" \
     "fires $fires, nemesis actions late by > 1 s $late (latest ${late_max} s)," \
     "longest controller stall ${stall_max} s, longest lease renewal gap" \
     "${lag_max} s, outside kills detected $detected of $injected (missed" \
     "$missed), crashes reported without an outside kill $false_crash;" \
     "waits for a cluster someone else left up: $foreign;" \
     "load after: $(cut -d' ' -f1-3 /proc/loadavg)"
if [[ ${SOAK_CHECK:-0} -eq 1 ]]; then
  f=0
  [[ $hangs -eq 0 ]] && echo "ok - soak: no hang" || { echo "not ok - soak: $hangs hangs"; f=1; }
  [[ $fires -eq 0 ]] && echo "ok - soak: no false switch fire" || { echo "not ok - soak: $fires switch fires"; f=1; }
  [[ $missed -eq 0 ]] && echo "ok - soak: every outside kill detected ($detected)" || { echo "not ok - soak: $missed outside kills missed"; f=1; }
  [[ $false_crash -eq 0 ]] && echo "ok - soak: no crash without an outside kill" || { echo "not ok - soak: $false_crash crashes without an outside kill"; f=1; }
  exit $f
fi
