#!/usr/bin/env bash
# The README's detection table: each seeded raftkv bug under each nemesis,
# "found in n of m runs", on a 5-node local cluster of its own (release
# build; needs root, build/faultline, build/raftkv, build/faultline-powerfs
# and build/faultline-netem, and no faultline cluster already up; skips
# otherwise). Figures only: nothing here asserts.
#
# Found means the run's checkers said INVALID (exit 1). A run that could
# not be judged (exit 2 unknown, 3 could not run) is counted apart, never
# as found or missed. Every run has a random seed, recorded in its line.
#
#   BENCH_DETECT_RUNS     runs per cell (default 2)
#   BENCH_DETECT_SECONDS  each run's client time (default 20)
#   BENCH_DETECT_BUGS     bugs, space-separated (default: all six)
#   BENCH_DETECT_NEMESES  nemeses, space-separated (default below)
#
# Each bug runs the workload that can see it: set for no-fsync (lost adds),
# list-append for txn-split (isolation anomalies), register for the rest.
# A cell takes BENCH_DETECT_RUNS x (seconds + about 10 s of set-up).
#
#   BENCH_DETECT_LOCK=FILE  share the machine: each run takes that lock
#     (flock) and brings up and tears down its own cluster, so others get
#     the cluster between runs (about 10 s more a run). Without it the
#     script keeps one cluster up for all its runs.
set -u
FL=${FAULTLINE:-build/faultline}
RUNS=${BENCH_DETECT_RUNS:-2}
SECS=${BENCH_DETECT_SECONDS:-20}
BUGS=${BENCH_DETECT_BUGS:-stale-read early-ack volatile-vote lease-read no-fsync txn-split}
NEMESES=${BENCH_DETECT_NEMESES:-none partition kill pause packet power-loss partition,clock-strobe all}
need=(build/raftkv build/faultline-powerfs build/faultline-netem)
for f in "$FL" "${need[@]}"; do
  if [[ $(id -u) -ne 0 || ! -x $f ]]; then
    echo "bench_detection: skipped (needs root and $f)"; exit 0
  fi
done
LOCK=${BENCH_DETECT_LOCK:-}
if [[ -z $LOCK ]] &&
   [[ -e /sys/class/net/flbr0 || -n $(ip netns list 2>/dev/null | grep '^fl-n') ]]; then
  echo "bench_detection: skipped (a faultline cluster is already up)"; exit 0
fi
tmp=$(mktemp -d /tmp/fl-bench-detect.XXXXXX)
export FAULTLINE_STATE=$tmp/state
if [[ -n $LOCK ]]; then
  trap 'rm -rf "$tmp"' EXIT
  keep=() hold=(flock "$LOCK")
else
  trap '"$FL" cluster down >/dev/null 2>&1; rm -rf "$tmp"' EXIT
  "$FL" cluster up --nodes 5 >/dev/null 2>&1 || { echo "bench_detection: cluster up failed"; exit 1; }
  keep=(--keep-cluster) hold=()
fi
echo "$(date -u +%FT%TZ) $(git rev-parse --short HEAD 2>/dev/null) load:$(uptime | sed 's/.*average://')"

workload_of() {
  case $1 in
    no-fsync) echo set ;;
    txn-split) echo list-append ;;
    *) echo register ;;
  esac
}

declare -A cell
for bug in $BUGS; do
  for nem in $NEMESES; do
    found=0 judged=0 notes=""
    for _ in $(seq "$RUNS"); do
      seed=$((RANDOM * 32768 + RANDOM))
      "${hold[@]}" "$FL" test --target raftkv --bug "$bug" --workload "$(workload_of "$bug")" \
        --nemesis "$nem" --nemesis-interval 3 --time-limit "$SECS" \
        --seed "$seed" "${keep[@]}" --results "$tmp/results" \
        --test-name detect >"$tmp/out" 2>&1
      rc=$?
      case $rc in
        0) judged=$((judged + 1)) ;;
        1) judged=$((judged + 1)); found=$((found + 1)) ;;
        *) notes="$notes exit$rc" ;;
      esac
      echo "  $bug / $nem seed $seed: exit $rc"
    done
    cell[$bug/$nem]="$found/$judged${notes:+ ($notes )}"
  done
done

echo
printf '| bug (workload) |'; for nem in $NEMESES; do printf ' %s |' "$nem"; done; echo
printf '|---|'; for _ in $NEMESES; do printf -- '---|'; done; echo
for bug in $BUGS; do
  printf '| %s (%s) |' "$bug" "$(workload_of "$bug")"
  for nem in $NEMESES; do printf ' %s |' "${cell[$bug/$nem]}"; done
  echo
done
echo "(found/judged: INVALID runs of those judged; ${SECS} s runs, interval 3 s, 10 clients, 5 nodes)"
