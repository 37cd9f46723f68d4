#!/usr/bin/env bash
# The clock faults' proof as figures, with faults composed (each kind on
# its own begin/end cycle, so a clock fault stays in force while a
# partition begins and ends): raftkv on a 3-node local cluster, 30 s runs
# with random seeds, nemesis interval 5 s, 30 clients:
#   * --bug lease-read under partition,clock-skew: BENCH_FAULT_RUNS
#     (default 10) runs; it must show (stale reads from a cut-off leader
#     whose clock was set back);
#   * --bug lease-read under partitions alone: BENCH_FAULT_CONTROL (5)
#     runs; it must hide (clocks run true);
#   * correct raftkv under partition,clock-skew: BENCH_FAULT_CORRECT (3)
#     runs; must be valid.
# BENCH_FAULT_CLOCK=clock-strobe measures strobes instead of skews (a
# 30 s delta). Prints each run's verdict, seed and run directory, the
# load (uptime) before each series, and "found in n of m" per series;
# asserts nothing. Each run takes the dev queue's lock
# (/run/lock/faultline-dev-queue.lock) on its own, so others get turns.
# Needs root, build/faultline and build/raftkv (release: an ASan raftkv
# refuses the libfaketime preload); skips otherwise.
set -u
FL=${FAULTLINE:-build/faultline}
RUNS=${BENCH_FAULT_RUNS:-10}
CONTROL=${BENCH_FAULT_CONTROL:-5}
CORRECT=${BENCH_FAULT_CORRECT:-3}
SECS=${BENCH_FAULT_SECONDS:-30}
CLOCK=${BENCH_FAULT_CLOCK:-clock-skew}
LOCK=/run/lock/faultline-dev-queue.lock
RESULTS=${BENCH_FAULT_RESULTS:-}
if [[ $(id -u) -ne 0 || ! -x $FL || ! -x build/raftkv ]]; then
  echo "bench_faults: skipped (needs root, $FL and build/raftkv)"
  exit 0
fi
tmp=$(mktemp -d /tmp/fl-bench-faults.XXXXXX)
trap 'rm -rf "$tmp"' EXIT
[[ -n $RESULTS ]] || RESULTS=$tmp/results
extra=()
[[ $CLOCK == clock-strobe ]] && extra=(--clock-strobe-delta 30000)

series() { # LABEL RUNS NEMESIS [BUG...]
  local label=$1 runs=$2 nem=$3; shift 3
  local found=0 judged=0 verdicts=""
  echo "# $label: $(uptime)"
  for i in $(seq "$runs"); do
    flock "$LOCK" env FAULTLINE_STATE="$tmp/state" "$FL" test --target raftkv \
      "$@" --nodes 3 --nemesis "$nem" --nemesis-interval 5 \
      --concurrency 30 "${extra[@]}" --time-limit "$SECS" \
      --results "$RESULTS" >"$tmp/out" 2>&1
    local rc=$? dir
    dir=$(sed -n 's/.*run \(.*\), seed .*/\1/p' "$tmp/out" | head -1)
    case $rc in
      0) judged=$((judged + 1)); verdicts="$verdicts valid" ;;
      1) judged=$((judged + 1)); found=$((found + 1)); verdicts="$verdicts INVALID" ;;
      *) verdicts="$verdicts exit$rc" ;;
    esac
    echo "#   run $i: exit $rc, $dir"
  done
  printf '%s, --nemesis %s: invalid in %d of %d judged %ss runs:%s\n' \
    "$label" "$nem" "$found" "$judged" "$SECS" "$verdicts"
}

series "lease-read" "$RUNS" "partition,$CLOCK" --bug lease-read
series "lease-read" "$CONTROL" partition --bug lease-read
series "correct raftkv" "$CORRECT" "partition,$CLOCK"
