#!/usr/bin/env bash
# The election-kill fault end to end on a private 3-node local cluster
# (as root, with `ip netns`, sshd, build/raftkv, build/faultline-netem and
# build/faultline-election, and no faultline cluster already up): correct
# raftkv, set workload, 15 s, --nemesis election-kill every 5 s (windows of
# 3 s, leaders killed after 0.5 s of leading, the holding proxy on):
#   * the run is valid (correct raftkv survives restarts of every voter);
#   * the history records start-election-kill with its parameters and its
#     nodes, and stop-election-kill;
#   * the agent ran, killed and relayed (its summary lines in the nodes'
#     election.log: some voter kills, some peer connections relayed);
#   * afterwards no agent, no shaper and no REDIRECT rule is left.
# Whether it finds --bug volatile-vote is measured by bench/bench_vote.sh,
# not asserted here (found in a fraction of runs only).
# Prints "ok - NAME" / "not ok - NAME"; exits non-zero on any failure.
set -u
FL=${FAULTLINE:-build/faultline}
FL=$(cd "$(dirname "$FL")" && pwd)/$(basename "$FL")
ROOT=$(cd "$(dirname "$0")/../.." && pwd)
RAFTKV=${RAFTKV:-$ROOT/${BUILD:-build}/raftkv}
NODE_DIR=/var/lib/faultline-node
tmp=$(mktemp -d /tmp/fl-election-kill.XXXXXX)
export FAULTLINE_STATE=$tmp/state
cluster_made=0
cleanup() {
  if [[ $cluster_made -eq 1 ]]; then "$FL" cluster down >/dev/null 2>&1; fi
  rm -rf "$tmp"
}
trap cleanup EXIT
failures=0
ok() { echo "ok - $1"; }
nok() { echo "not ok - $1"; failures=$((failures + 1)); }

skip() { echo "ok - election-kill runs # SKIP $1"; exit $((failures > 0)); }
[[ $(id -u) -eq 0 ]] || skip "needs root"
ip netns list >/dev/null 2>&1 && [[ -x /usr/sbin/sshd ]] || skip "needs ip netns and sshd"
[[ -x $RAFTKV ]] || skip "no raftkv build at $RAFTKV"
for tool in faultline-netem faultline-election; do
  [[ -x $(dirname "$FL")/$tool || -x $(dirname "$FL")/../$tool ]] ||
    skip "no $tool build beside $FL"
done
if [[ -e /sys/class/net/flbr0 || -n $(ip netns list 2>/dev/null | grep '^fl-n') ]]; then
  skip "a faultline cluster is already up here"
fi

R=$tmp/results
cluster_made=1
rm -f "$NODE_DIR"/n*/election.log
"$FL" test --raftkv "$RAFTKV" --results "$R" --keep-cluster --nodes 3 \
  --workload set --concurrency 10 --time-limit 15 --nemesis election-kill \
  --nemesis-interval 5 --election-kill-window 3000 \
  --election-kill-period 500 --election-kill-hold 1 --seed 5 \
  >"$tmp/out" 2>"$tmp/err"
rc=$?
if [[ $rc -eq 0 ]]; then ok "correct raftkv under election-kill is valid"
else nok "correct raftkv under election-kill is valid (exit $rc)"
  tail -5 "$tmp/err" | sed 's/^/  # /'; fi

H=$R/latest/history.jsonl
if grep -q '"process":"nemesis".*"f":"start-election-kill","value":{"nodes":\["n1","n2","n3"\],"delay_ms":50.0,"jitter_ms":50.0,"window_ms":3000.0,"leader_kill_every_ms":500.0' "$H" &&
   grep -q '"f":"stop-election-kill"' "$H"
then ok "the history records start-election-kill with its parameters, and its end"
else nok "the history records start-election-kill with its parameters, and its end"; fi

sum() { cat "$NODE_DIR"/n*/election.log 2>/dev/null |
        sed -n "s/.*$1=\([0-9]*\).*/\1/p" | awk '{s+=$1} END {print s+0}'; }
leaders=$(sum leader_kills) relayed=$(sum relayed)
voters=$(sum voter_kills)
echo "# the agents killed $leaders leaders and $voters voters and relayed $relayed connections"
if [[ $voters -gt 0 && $relayed -gt 0 ]]
then ok "the agent killed voters and relayed peer connections"
else nok "the agent killed voters and relayed peer connections ($voters, $relayed)"; fi

if pgrep -f "^[^ ]*faultline-election .*--pid-file $NODE_DIR/" >/dev/null
then nok "no election agent left running"; else ok "no election agent left running"; fi
if pgrep -f "^[^ ]*faultline-netem .*--tag $NODE_DIR/" >/dev/null
then nok "no shaper left running"; else ok "no shaper left running"; fi
left=0
for ns in fl-n1 fl-n2 fl-n3; do
  left=$((left + $(ip netns exec "$ns" iptables -w -t nat -S PREROUTING 2>/dev/null |
                   grep -c -e '--comment faultline-election')))
done
if [[ $left -eq 0 ]]; then ok "no REDIRECT rule left"
else nok "no REDIRECT rule left ($left)"; fi

"$FL" cluster down >/dev/null 2>&1 && ok "cluster down" || nok "cluster down"
cluster_made=0
exit $((failures > 0))
