#!/usr/bin/env bash
# The election-kill fault's figures: raftkv --bug volatile-vote on a
# 5-node local cluster, set workload, 10 clients, BENCH_VOTE_RUNS (default
# 10) runs of BENCH_VOTE_SECONDS (default 60) under --nemesis
# election-kill (interval 10 s, each fault acting 9.5 s: jittered links,
# the leader killed after 1 s of leading, every follower whose term rose
# killed and restarted at once), then BENCH_VOTE_CHECKS (default 3) runs
# of correct raftkv under the same nemesis. Prints each run's verdict,
# lost acknowledged adds and run directory, and "found in n of m"; asserts
# nothing (issue #20's target: 9 of 10; the correct runs must be valid).
# The correct runs come between the buggy ones (one after every third),
# so a bench cut short still has both. BENCH_VOTE_ARGS is added to every
# run (e.g. "--election-kill-hold 1": the holding proxy). Each run takes
# the dev queue's lock (/run/lock/faultline-dev-queue.lock) on its own, so
# others get turns. BENCH_VOTE_RESULTS keeps the runs
# (default: a temporary directory, removed). Needs root, build/faultline,
# build/raftkv, build/faultline-netem and build/faultline-election; skips
# otherwise.
set -u
FL=${FAULTLINE:-build/faultline}
RUNS=${BENCH_VOTE_RUNS:-10}
CHECKS=${BENCH_VOTE_CHECKS:-3}
SECS=${BENCH_VOTE_SECONDS:-60}
LOCK=/run/lock/faultline-dev-queue.lock
if [[ $(id -u) -ne 0 || ! -x $FL || ! -x build/raftkv || ! -x build/faultline-election ]]; then
  echo "bench_vote: skipped (needs root, $FL, build/raftkv and build/faultline-election)"
  exit 0
fi
tmp=$(mktemp -d /tmp/fl-bench-vote.XXXXXX)
trap 'rm -rf "$tmp"' EXIT
R=${BENCH_VOTE_RESULTS:-$tmp/results}
uptime

run() { # NAME ARGS...: prints "exit lost dir"
  local name=$1; shift
  flock "$LOCK" env FAULTLINE_STATE="$tmp/state" "$FL" test --target raftkv \
    --workload set --concurrency 10 --nemesis election-kill \
    --nemesis-interval 10 --election-kill-window 9500 --time-limit "$SECS" \
    --results "$R" --test-name "$name" ${BENCH_VOTE_ARGS:-} "$@" >"$tmp/out" 2>&1
  local rc=$? d
  d=$(sed -n 's/.*stored in \(.*\)$/\1/p' "$tmp/out" | tail -1)
  local lost
  lost=$(grep -o '"lost_count": [0-9]*' "$d/results.json" 2>/dev/null | head -1 | grep -o '[0-9]*$')
  echo "$rc ${lost:-0} ${d:-?}"
}

found=0 valid=0 runs=0 checks=0
while [[ $runs -lt $RUNS || $checks -lt $CHECKS ]]; do
  if [[ $runs -lt $RUNS && ( $checks -ge $CHECKS || $((runs % 3)) -ne 0 ||
        $runs -eq 0 || $checks -ge $((runs / 3)) ) ]]; then
    runs=$((runs + 1))
    read -r rc lost d < <(run vv-election-kill --bug volatile-vote)
    echo "volatile-vote run $runs: exit $rc, $lost acknowledged adds lost ($d)"
    [[ $rc -eq 1 ]] && found=$((found + 1))
  else
    checks=$((checks + 1))
    read -r rc lost d < <(run correct-election-kill)
    echo "correct raftkv run $checks: exit $rc, $lost lost ($d)"
    [[ $rc -eq 0 ]] && valid=$((valid + 1))
  fi
done
echo "volatile-vote under election-kill: found in $found of $runs ${SECS} s runs"
echo "correct raftkv under election-kill: valid in $valid of $checks ${SECS} s runs"
uptime
