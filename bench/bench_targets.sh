#!/usr/bin/env bash
# The controller's recorded operations per second against each real
# target on a 5-node local cluster that is up: `faultline test --rate 0
# --nemesis none` (clients as fast as they can go) for BENCH_SECONDS
# (default 10) with 10 clients, register workload, release build — and
# the same command against the registry's in-process fake target
# (`--target fake`: the controller's whole path, clients, recorder, rest,
# dead man's switch, with no database behind it), so the three are side
# by side and the last column says how many times faster the controller
# alone goes than with each database: whether the harness or the
# database sets the pace. Prints figures; asserts nothing. Needs root,
# build/raftkv, /usr/bin/etcd and no faultline cluster already up; skips
# otherwise.
set -u
FL=${FAULTLINE:-build/faultline}
SECS=${BENCH_SECONDS:-10}
if [[ $(id -u) -ne 0 || ! -x $FL || ! -x build/raftkv ]] ||
   [[ -e /sys/class/net/flbr0 || -n $(ip netns list 2>/dev/null | grep '^fl-n') ]]; then
  echo "bench_targets: skipped (needs root, build/faultline and build/raftkv, and no cluster already up)"
  exit 0
fi
tmp=$(mktemp -d /tmp/fl-bench-targets.XXXXXX)
export FAULTLINE_STATE=$tmp/state
trap '"$FL" cluster down >/dev/null 2>&1; rm -rf "$tmp"' EXIT
"$FL" cluster up --nodes 5 >/dev/null 2>&1 || { echo "bench_targets: cluster up failed"; exit 1; }
printf '%-8s %-14s %8s %8s %8s %10s %9s  %s\n' target read-mode ok fail info "ops/s" "fake/this" verdict
fake_rate=
for t in fake raftkv "etcd linearizable" "etcd serializable"; do
  set -- $t
  [[ $1 == etcd && ! -x /usr/bin/etcd ]] && { echo "etcd: not installed"; continue; }
  extra=()
  [[ $1 == etcd ]] && extra=(--read-mode "$2")
  "$FL" test --target "$1" "${extra[@]}" --time-limit "$SECS" --rate 0 \
    --nemesis none --concurrency 10 --results "$tmp/results" --keep-cluster \
    >"$tmp/out" 2>"$tmp/err"
  rc=$?
  line=$(grep -m1 'clients: [0-9]* ok' "$tmp/err")
  ok=$(sed 's/.*clients: \([0-9]*\) ok.*/\1/' <<<"$line")
  fail=$(sed 's/.* \([0-9]*\) fail.*/\1/' <<<"$line")
  info=$(sed 's/.* \([0-9]*\) info.*/\1/' <<<"$line")
  rate=$(awk -v o="$ok" -v f="$fail" -v i="$info" -v s="$SECS" \
    'BEGIN { printf "%.0f", (o + f + i) / s }')
  [[ $1 == fake ]] && fake_rate=$rate
  awk -v t="$1" -v m="${2:--}" -v o="$ok" -v f="$fail" -v i="$info" \
      -v r="$rate" -v fr="${fake_rate:-0}" -v rc="$rc" 'BEGIN {
    printf "%-8s %-14s %8d %8d %8d %10d %8.0fx  exit %d\n", t, m, o, f, i,
           r, (r > 0 ? fr / r : 0), rc }'
done
echo "(ops/s: operations completed by the clients per second of the client"
echo " phase, as recorded in the history; the few final reads included."
echo " fake: the in-process fake target, the controller with no database;"
echo " fake/this: how many times the controller's own rate is the target's.)"
