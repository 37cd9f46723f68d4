#!/usr/bin/env bash
# Real runs of the packet and clock faults on a private 3-node local
# cluster (root, `ip netns`, sshd, build/raftkv, build/faultline-netem):
#   * usage: a fault option out of range, an unknown one, and a clock fault
#     on a target that cannot start its database under libfaketime are
#     refused (exit 64) before anything runs;
#   * packet (delay 200 ms +- 20, loss 5 %): valid; the history records the
#     behaviour; some operation begun inside a shaped window took at least
#     the delay (a lower bound: a loaded machine only adds to it);
#   * clock-skew, clock-strobe, clock-rate on raftkv: valid, each recorded
#     with its per-node amounts;
#   * raftkv --bug lease-read: valid under partitions alone, and found
#     (invalid) under partition,clock-skew in one of at most 3 runs of
#     30 s with seeds whose schedule sets the leader's clock back and cuts
#     it off while the skew is in force (the bug shows only then);
# and after every run: no packet rule, no shaper, no clock file and no
# strobe loop on any node. Then the cluster is torn down.
# Prints "ok - NAME" / "not ok - NAME"; exits non-zero on any failure.
LIB_TMP=/tmp/fl-faults-cli.XXXXXX
. "$(dirname "$0")/lib.sh"
export FAULTLINE_STATE=$tmp/state
# $RAFTKV is the release raftkv: an ASan build refuses to run with
# libfaketime preloaded ahead of its runtime, which the clock faults need.

check "a fault option out of range is a usage error" 64 \
  "$FL" test --target raftkv --nemesis packet --packet-loss 120
grep -q -- "--packet-loss" "$tmp/err" && ok "the message names the option" \
  || nok "the message names the option"
check "a fault option that is no number is a usage error" 64 \
  "$FL" test --target raftkv --nemesis packet --packet-delay 50ms
check "clock faults need a target that takes the libfaketime preload" 64 \
  "$FL" test --target etcd --nemesis clock-skew
grep -q "libfaketime" "$tmp/err" && ok "the message says why" \
  || nok "the message says why"

LIB_RUNS="fault runs"
need_netns
command -v iptables >/dev/null || skip "needs iptables"
[[ -e /usr/lib/x86_64-linux-gnu/faketime/libfaketime.so.1 ]] || skip "needs libfaketime"
[[ -x $RAFTKV ]] || skip "no raftkv build at $RAFTKV"
need_no_cluster

R=$tmp/results
cluster_made=1
run() {
  "$FL" test --target raftkv --raftkv "$RAFTKV" --nodes 3 --results "$R" \
    --keep-cluster "$@"
}

# Nothing a fault leaves may outlive its run, on any node.
at_rest() { # NAME
  local left=""
  for i in 1 2 3; do
    ip netns exec fl-n$i iptables -w -t mangle -S POSTROUTING 2>/dev/null |
      grep -q faultline-packet && left="$left n$i:packet-rule"
    [[ -e /var/lib/faultline-node/n$i/faketime.rc ]] && left="$left n$i:clock-file"
  done
  pgrep -f "^[^ ]*faultline-netem .*--tag /var/lib/faultline-node/" >/dev/null &&
    left="$left shaper"
  pgrep -f "^sh -c while :; do .* faultline-clock-strobe /var/lib/faultline-node/" >/dev/null &&
    left="$left strobe"
  if [[ -z $left ]]; then ok "$1: nothing left on the nodes"
  else nok "$1: left on the nodes:$left"; fi
}

check "packet (delay 200 ms, loss 5 %) for 16 s: valid" 0 \
  run --nemesis packet --time-limit 16 --nemesis-interval 3 --seed 5 \
  --packet-delay 200 --packet-jitter 20 --packet-loss 5 --test-name packet
at_rest "packet"
H=$R/latest/history.jsonl
if jq -se 'any(.[]; .f == "start-packet" and .value.behaviour.delay == 200
                 and .value.behaviour.loss == 5)' "$H" >/dev/null 2>&1
then ok "the history records the packet behaviour"
else nok "the history records the packet behaviour"; fi
# The longest latency of an operation invoked while packets were shaped.
slow=$(jq -rs '
  (reduce .[] as $e ({w: [], open: null};
     if $e.process == "nemesis" and $e.f == "start-packet" and .open == null
       then .open = $e.time
     elif $e.process == "nemesis" and $e.f == "stop-packet" and .open != null
       then .w += [[.open, $e.time]] | .open = null
     else . end)) as $s
  | [foreach .[] as $e ({}; if $e.process == "nemesis" then .
       elif $e.type == "invoke" then .[($e.process|tostring)] = $e.time
       else .done = [.[($e.process|tostring)], $e.time] end;
       if .done and $e.type != "invoke" then .done else empty end)]
  | map(select(.[0] as $t | $s.w | any(.[0] <= $t and $t <= .[1])))
  | map(.[1] - .[0]) | max // 0 | . / 1000000 | floor' "$H")
if [[ ${slow:-0} -ge 200 ]]; then ok "an operation inside a shaped window took >= 200 ms ($slow ms)"
else nok "an operation inside a shaped window took >= 200 ms (longest: ${slow:-none} ms)"; fi

for kind in clock-skew clock-strobe clock-rate; do
  check "$kind for 12 s: valid" 0 \
    run --nemesis $kind --time-limit 12 --nemesis-interval 2 --seed 7 \
    --test-name $kind
  at_rest "$kind"
  if jq -se "any(.[]; .f == \"start-$kind\" and (.value | type) == \"object\")" \
       "$R/latest/history.jsonl" >/dev/null 2>&1
  then ok "the history records $kind's amounts"
  else nok "the history records $kind's amounts"; fi
done

check "lease-read under partitions alone for 20 s: valid" 0 \
  run --nemesis partition --bug lease-read --time-limit 20 \
  --nemesis-interval 2 --test-name lease-read-partition
# The composed nemesis (partition and clock-skew each on its own cycle):
# a skew that sets the leader's clock back stays in force while a
# partition begun then cuts that node off (the partition's plan aims at a
# clock fault's node), and the cut-off leader, trusting its lease, serves
# stale reads. With random seeds that alignment comes in about half of the
# 30 s runs (bench/bench_faults.sh), so these seeds are ones whose
# schedule has it (the schedule depends on the seed alone while the
# leader is known): 16 (a negative skew on the leader from 0.0 s to 9.9 s
# of the nemesis's time, the partition cutting it off from 4.9 s), 185
# (5.3 s on, cut off 5.8-11.0 s), 203 (5.8-15.3 s, cut off from 9.1 s);
# one must show it. 30 clients leave the cut-off leader's clients time to
# read after their writes time out.
found=0
for seed in 16 185 203; do
  run --nemesis partition,clock-skew --bug lease-read --time-limit 30 \
    --nemesis-interval 5 --concurrency 30 --seed $seed \
    --test-name lease-read-clock >"$tmp/out" 2>&1
  rc=$?
  at_rest "lease-read, partition,clock-skew seed $seed"
  if [[ $rc -eq 1 ]]; then found=1; break; fi
done
if [[ $found -eq 1 ]]; then ok "lease-read found by partition,clock-skew (seed $seed)"
else nok "lease-read found by partition,clock-skew (no seed of 3 exited 1)"; fi

check "cluster down" 0 "$FL" cluster down
exit $((failures > 0))
