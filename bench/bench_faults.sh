#!/usr/bin/env bash
# The clock faults' proof as figures: raftkv --bug lease-read on a 3-node
# local cluster, BENCH_FAULT_RUNS (default 10) runs of BENCH_FAULT_SECONDS
# (default 30) each, nemesis interval 5 s, 30 clients, under partitions
# alone (the bug must hide: clocks run true) and under partition,clock-strobe and
# partition,clock-skew (it must show: stale reads from a cut-off leader
# whose clock was set back). Prints "found in n of m runs" per nemesis and
# each run's verdict; asserts nothing. Each run takes the dev queue's lock
# (/run/lock/faultline-dev-queue.lock) on its own, so others get turns.
# Needs root, build/faultline, build/raftkv and build/faultline-netem;
# skips otherwise.
set -u
FL=${FAULTLINE:-build/faultline}
RUNS=${BENCH_FAULT_RUNS:-10}
SECS=${BENCH_FAULT_SECONDS:-30}
LOCK=/run/lock/faultline-dev-queue.lock
if [[ $(id -u) -ne 0 || ! -x $FL || ! -x build/raftkv ]]; then
  echo "bench_faults: skipped (needs root, $FL and build/raftkv)"
  exit 0
fi
tmp=$(mktemp -d /tmp/fl-bench-faults.XXXXXX)
trap 'rm -rf "$tmp"' EXIT
for nem in partition partition,clock-strobe partition,clock-skew; do
  found=0 judged=0 verdicts=""
  for i in $(seq "$RUNS"); do
    flock "$LOCK" env FAULTLINE_STATE="$tmp/state" "$FL" test --target raftkv \
      --bug lease-read --nodes 3 --nemesis "$nem" --nemesis-interval 5 \
      --concurrency 30 --clock-strobe-delta 30000 --time-limit "$SECS" \
      --results "$tmp/results" >"$tmp/out" 2>&1
    rc=$?
    case $rc in
      0) judged=$((judged + 1)); verdicts="$verdicts valid" ;;
      1) judged=$((judged + 1)); found=$((found + 1)); verdicts="$verdicts INVALID" ;;
      *) verdicts="$verdicts exit$rc" ;;
    esac
  done
  printf 'lease-read, --nemesis %-24s found in %d of %d judged %ss runs:%s\n' \
    "$nem" "$found" "$judged" "$SECS" "$verdicts"
done
