#!/usr/bin/env bash
# The power-loss fault's detections and cost, on a 5-node local cluster
# (release build; needs root, /dev/fuse, build/raftkv and
# build/faultline-powerfs, and no faultline cluster already up; skips
# otherwise). Figures only: nothing here asserts.
#
#   * raftkv --bug no-fsync, set workload, --nemesis power-loss, 30 s:
#     in how many of BENCH_POWER_RUNS (default 10) runs acknowledged adds
#     are lost (issue #20's target: 9 of 10);
#   * the same bug under --nemesis kill, and correct raftkv under
#     power-loss: how many of BENCH_POWER_CHECKS (default 3) runs are
#     valid (both should be all);
#   * the cost of powerfs: ok operations per second of a 20 s register
#     run at full speed (--rate 0) with --nemesis none on the plain disk,
#     and on powerfs (power-loss
#     enabled with an interval longer than the run, so mounted but never
#     cut), BENCH_POWER_COST (default 3) pairs for each target of
#     BENCH_POWER_COST_TARGETS (default "raftkv etcd"), interleaved (the
#     plain run first in odd pairs, powerfs first in even ones: the load
#     of the machine drifts) with the load average before each pair.
#     BENCH_POWER_ONLY_COST=1 measures the cost only.
set -u
FL=${FAULTLINE:-build/faultline}
RUNS=${BENCH_POWER_RUNS:-10}
CHECKS=${BENCH_POWER_CHECKS:-3}
COST=${BENCH_POWER_COST:-3}
COST_TARGETS=${BENCH_POWER_COST_TARGETS:-raftkv etcd}
ONLY_COST=${BENCH_POWER_ONLY_COST:-0}
if [[ $(id -u) -ne 0 || ! -x $FL || ! -x build/raftkv || ! -x build/faultline-powerfs ||
      ! -c /dev/fuse ]] ||
   [[ -e /sys/class/net/flbr0 || -n $(ip netns list 2>/dev/null | grep '^fl-n') ]]; then
  echo "bench_power_loss: skipped (needs root, /dev/fuse, build/faultline, build/raftkv and build/faultline-powerfs, and no cluster already up)"
  exit 0
fi
tmp=$(mktemp -d /tmp/fl-bench-power.XXXXXX)
export FAULTLINE_STATE=$tmp/state
trap '"$FL" cluster down >/dev/null 2>&1; rm -rf "$tmp"' EXIT
"$FL" cluster up --nodes 5 >/dev/null 2>&1 || { echo "bench_power_loss: cluster up failed"; exit 1; }
uptime

run() { # NAME ARGS...: prints "exit lost_count ok_ops"
  local name=$1; shift
  "$FL" test --results "$tmp/results" --keep-cluster --test-name "$name" "$@" \
    >"$tmp/out" 2>"$tmp/err"
  local rc=$? d=$tmp/results/latest
  local lost ok_ops
  lost=$(grep -o '"lost_count": [0-9]*' "$d/results.json" 2>/dev/null | head -1 | grep -o '[0-9]*$')
  ok_ops=$(grep -v '"process":"nemesis"' "$d/history.jsonl" 2>/dev/null | grep -c '"type":"ok"')
  echo "$rc ${lost:-0} $ok_ops"
}

detections() {
found=0
for i in $(seq "$RUNS"); do
  read -r rc lost _ < <(run nofsync-power --workload set --time-limit 30 \
    --nemesis power-loss --nemesis-interval 3 --bug no-fsync --seed "$i")
  echo "no-fsync power-loss run $i: exit $rc, $lost acknowledged adds lost"
  [[ $rc -eq 1 && $lost -gt 0 ]] && found=$((found + 1))
done
echo "no-fsync under power-loss: found in $found of $RUNS 30 s set runs"

valid=0
for i in $(seq "$CHECKS"); do
  read -r rc _ _ < <(run nofsync-kill --workload set --time-limit 30 \
    --nemesis kill --nemesis-interval 3 --bug no-fsync --seed "$i")
  [[ $rc -eq 0 ]] && valid=$((valid + 1))
done
echo "no-fsync under kill: valid in $valid of $CHECKS 30 s set runs"

valid=0
for i in $(seq "$CHECKS"); do
  read -r rc _ _ < <(run correct-power --workload set --time-limit 30 \
    --nemesis power-loss --nemesis-interval 3 --seed "$i")
  [[ $rc -eq 0 ]] && valid=$((valid + 1))
done
echo "correct raftkv under power-loss: valid in $valid of $CHECKS 30 s set runs"
}
[[ $ONLY_COST == 1 ]] || detections

ops_per_s() { # TARGET plain|powerfs: ok ops/s of one 20 s run
  local how=(--nemesis none)
  [[ $2 == powerfs ]] && how=(--nemesis power-loss --nemesis-interval 1000)
  read -r _ _ n < <(run "cost-$1-$2" --target "$1" --time-limit 20 --rate 0 "${how[@]}")
  echo $((n / 20))
}
for t in $COST_TARGETS; do
  for i in $(seq "$COST"); do
    load=$(cut -d' ' -f1-3 /proc/loadavg)
    if ((i % 2)); then plain=$(ops_per_s "$t" plain); fuse=$(ops_per_s "$t" powerfs)
    else fuse=$(ops_per_s "$t" powerfs); plain=$(ops_per_s "$t" plain); fi
    awk -v t="$t" -v p="$plain" -v f="$fuse" -v i="$i" -v l="$load" -v o=$((i % 2)) 'BEGIN {
      printf "cost %s pair %d (%s first; load %s): plain disk %d ok ops/s, powerfs %d ok ops/s (%.2fx)\n",
             t, i, o ? "plain" : "powerfs", l, p, f, p ? f / p : 0 }'
  done
done
echo "(register workload, 10 clients, --rate 0, 20 s, --nemesis none; powerfs mounted, never cut)"
uptime
