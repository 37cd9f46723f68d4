#!/usr/bin/env bash
# Time to verdict: the default test shortened to 20 s of clients
# (`faultline test --time-limit 20`, release build) on a 5-node local
# cluster that is already up, timed as a whole and by phase (from the
# run's own log). Issue #9's target: the whole run within 30 s on a
# 2-core machine. Prints figures; asserts nothing. Needs root and no
# faultline cluster already up; skips otherwise.
set -u
FL=${FAULTLINE:-build/faultline}
RUNS=${BENCH_RUNS:-2}
if [[ $(id -u) -ne 0 || ! -x $FL || ! -x build/raftkv ]] ||
   [[ -e /sys/class/net/flbr0 || -n $(ip netns list 2>/dev/null | grep '^fl-n') ]]; then
  echo "bench_run: skipped (needs root, build/faultline and build/raftkv, and no cluster already up)"
  exit 0
fi
tmp=$(mktemp -d /tmp/fl-bench-run.XXXXXX)
export FAULTLINE_STATE=$tmp/state
trap '"$FL" cluster down >/dev/null 2>&1; rm -rf "$tmp"' EXIT
"$FL" cluster up --nodes 5 >/dev/null 2>&1 || { echo "bench_run: cluster up failed"; exit 1; }
printf '%-4s %-9s %-8s %-10s %-8s %-8s %s\n' run "total s" "set-up" "clients" "final" "after" verdict
for i in $(seq "$RUNS"); do
  start=$(date +%s.%N)
  "$FL" test --time-limit 20 --results "$tmp/results" --keep-cluster \
    >"$tmp/out" 2>"$tmp/err"
  rc=$?
  end=$(date +%s.%N)
  # Phase boundaries from the log's own timestamps ([  12.34] ...).
  t() { grep -m1 "$1" "$tmp/err" | sed 's/^\[ *\([0-9.]*\)\].*/\1/'; }
  clients=$(t 'clients: [0-9]* threads'); healing=$(t 'healing every fault')
  stopping=$(t 'stopping raftkv and downloading'); verdict=$(t 'verdict:')
  awk -v i="$i" -v s="$start" -v e="$end" -v c="$clients" -v h="$healing" \
      -v st="$stopping" -v v="$verdict" -v rc="$rc" 'BEGIN {
    printf "%-4d %-9.1f %-8.1f %-10.1f %-8.1f %-8.1f exit %d\n", i, e - s, c,
           h - c, st - h, (e - s) - st, rc }'
done
echo "(set-up: rest + install + leader; final: heal, recovery, final reads;"
echo " after: log download, teardown, checking. Target: total <= 30 s.)"
