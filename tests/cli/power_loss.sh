#!/usr/bin/env bash
# The power-loss fault end to end on a private 5-node local cluster (as
# root, with `ip netns`, sshd, build/raftkv and build/faultline-powerfs,
# and no faultline cluster already up):
#   * correct raftkv, set workload, --nemesis power-loss: valid, the
#     history records power-loss / power-on with their nodes, and powerfs
#     was mounted over the data directories (the log says so);
#   * raftkv --bug no-fsync under --nemesis kill: valid (kill -9 loses
#     nothing the kernel holds);
#   * raftkv --bug no-fsync under --nemesis power-loss: acknowledged adds
#     lost (set checker), in one of several attempts for at most 150 s
#     (`make bench`, bench/bench_power_loss.sh, measures how often);
#   * afterwards no powerfs daemon or mount is left on any node.
# Prints "ok - NAME" / "not ok - NAME"; exits non-zero on any failure.
LIB_TMP=/tmp/fl-power-loss.XXXXXX
. "$(dirname "$0")/lib.sh"
export FAULTLINE_STATE=$tmp/state

LIB_RUNS="power-loss runs"
need_netns
[[ -x $RAFTKV ]] || skip "no raftkv build at $RAFTKV"
[[ -c /dev/fuse ]] && command -v fusermount3 >/dev/null || skip "needs /dev/fuse and fusermount3"
# The harness installs the powerfs build beside it (or one level up).
[[ -x $(dirname "$FL")/faultline-powerfs || -x $(dirname "$FL")/../faultline-powerfs ]] ||
  skip "no faultline-powerfs build beside $FL"
need_no_cluster

R=$tmp/results
cluster_made=1
run() { "$FL" test --raftkv "$RAFTKV" --results "$R" --keep-cluster \
          --workload set --concurrency 10 "$@" >"$tmp/out" 2>"$tmp/err"; }

run --time-limit 20 --nemesis power-loss --nemesis-interval 2 --seed 3 \
  --test-name correct
rc=$?
if [[ $rc -eq 0 ]]; then ok "correct raftkv under power-loss is valid"
else nok "correct raftkv under power-loss is valid (exit $rc)"
  tail -5 "$tmp/err" | sed 's/^/  # /'; fi
H=$R/latest/history.jsonl
if grep -q '"process":"nemesis".*"f":"power-loss","value":\["n' "$H" &&
   grep -q '"f":"power-on"' "$H"
then ok "the history records power-loss and power-on with their nodes"
else nok "the history records power-loss and power-on with their nodes"; fi
n=$(grep -c '"type":"info","f":"power-loss"' "$H")
all=$(grep -c '"f":"power-loss","value":\["n1","n2","n3","n4","n5"\]' "$H")
echo "# $((n / 2)) power cuts in 20 s, $((all / 2)) of them on every node"

run --time-limit 15 --nemesis kill --nemesis-interval 2 --bug no-fsync \
  --test-name no-fsync-kill
rc=$?
if [[ $rc -eq 0 ]]; then ok "--bug no-fsync under kill is valid (kill -9 loses nothing)"
else nok "--bug no-fsync under kill is valid (exit $rc)"; fi

found=0 i=0 began=$SECONDS
while [[ $found -eq 0 && $((SECONDS - began)) -lt 150 ]]; do
  i=$((i + 1))
  run --time-limit 20 --nemesis power-loss --nemesis-interval 2 \
    --bug no-fsync --test-name no-fsync-power-loss
  rc=$?
  echo "# no-fsync power-loss attempt $i: exit $rc"
  if [[ $rc -eq 1 ]] && grep -q '"lost_count": [1-9]' "$R/latest/results.json"
  then found=1; fi
done
if [[ $found -eq 1 ]]
then ok "--bug no-fsync under power-loss loses acknowledged adds (attempt $i)"
else nok "--bug no-fsync under power-loss loses acknowledged adds (none of $i attempts)"; fi

# Every node's sshd has its own mount namespace (ip netns exec): look
# there, where the runs mounted.
left=0
for pidfile in "$FAULTLINE_STATE"/n*/sshd.pid; do
  [[ -e $pidfile ]] || continue
  p=$(cat "$pidfile")
  left=$((left + $(grep -c fuse.powerfs "/proc/$p/mounts" 2>/dev/null || true)))
done
if [[ $left -eq 0 ]]; then ok "no powerfs mount left on any node"
else nok "no powerfs mount left on any node ($left)"; fi
if pgrep -f "faultline-powerfs mount .*/var/lib/faultline-node/" >/dev/null
then nok "no powerfs daemon left running"; else ok "no powerfs daemon left running"; fi

"$FL" cluster down >/dev/null 2>&1 && ok "cluster down" || nok "cluster down"
exit $((failures > 0))
