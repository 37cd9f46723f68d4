#!/usr/bin/env bash
# Real runs of `faultline test --target etcd` (Debian's etcd-server 3.4) on
# a private 5-node local cluster — as root, with `ip netns`, sshd and
# /usr/bin/etcd, and no faultline cluster already up:
#   * register, linearizable reads, partitions + kills + pauses for 20 s:
#     valid (etcd's default reads are linearizable);
#   * register, serializable reads, partitions, two keys: invalid in one
#     of a bounded number of 30 s runs — a read served by a node cut off
#     from the leader returns a value older than one whose write had
#     completed (Jepsen's etcd 3.4.3 analysis found the same);
#   * set workload under kills for 20 s: valid, no acknowledged add lost;
#   * bad target options are usage errors;
# then the cluster is torn down and no etcd may be left behind.
# Prints "ok - NAME" / "not ok - NAME"; exits non-zero on any failure.
LIB_TMP=/tmp/fl-etcd-cli.XXXXXX
. "$(dirname "$0")/lib.sh"
export FAULTLINE_STATE=$tmp/state
ETCD=${ETCD:-/usr/bin/etcd}

check "--read-mode must be linearizable or serializable" 64 \
  "$FL" test --target etcd --read-mode stale
check "--routing must be bound or round-robin" 64 \
  "$FL" test --target etcd --routing random

LIB_RUNS="etcd runs"
need_netns
[[ -x $ETCD ]] || skip "no etcd at $ETCD (make deps installs etcd-server)"
need_no_cluster

R=$tmp/results
cluster_made=1
run() { "$FL" test --target etcd --binary "$ETCD" --results "$R" --keep-cluster "$@"; }
verdict() { grep -o '"valid": [a-z]*' "$R/latest/results.json" | head -1; }

check "etcd, linearizable reads, partition,kill,pause for 20 s: valid" 0 \
  run --workload register --time-limit 20 --nemesis partition,kill,pause \
  --nemesis-interval 2 --seed 3 --test-name etcd-linearizable
if python3 -c "import json,sys; t=json.load(open('$R/latest/test.json')); o=t['target_options']; sys.exit(0 if t['target'] == 'etcd' and o['read-mode'] == 'linearizable' and o['routing'] == 'bound' else 1)"
then ok "test.json records the target and its options"
else nok "test.json records the target and its options"; fi
if [[ -s $R/latest/nodes/n1/etcd.log ]]; then ok "etcd's logs are downloaded"
else nok "etcd's logs are downloaded"; fi
kinds=$(grep '"process":"nemesis"' "$R/latest/history.jsonl" |
        grep -o '"f":"[a-z-]*"' |
        sed 's/"st[a-z]*-partition"/"partition"/; s/"start"/"kill"/; s/"resume"/"pause"/' |
        sort -u | wc -l)
if [[ $kinds -ge 2 ]]; then ok "the linearizable run had at least two kinds of fault ($kinds)"
else nok "the linearizable run had at least two kinds of fault ($kinds)"; fi

# Attempts until one is invalid, for at most 150 s of new attempts (each
# takes about 45 s; the first measured run was invalid).
found=0 i=0 began=$SECONDS
while [[ $found -eq 0 && $((SECONDS - began)) -lt 150 ]]; do
  i=$((i + 1))
  run --workload register --time-limit 30 --keys 2 --nemesis partition \
    --read-mode serializable --test-name etcd-serializable \
    >"$tmp/ser.out" 2>"$tmp/ser.err"
  rc=$?
  echo "# serializable attempt $i: exit $rc"
  if [[ $rc -eq 1 ]]; then found=1; fi
done
if [[ $found -eq 1 ]]; then ok "etcd, serializable reads under partitions: invalid"
else nok "etcd, serializable reads under partitions: invalid (no run of $i exited 1)"; fi

check "etcd, set workload under kills for 20 s: valid" 0 \
  run --workload set --time-limit 20 --nemesis kill --nemesis-interval 3 \
  --test-name etcd-set
if grep -q '"lost_count": 0' "$R/latest/results.json"
then ok "no acknowledged add lost"
else nok "no acknowledged add lost"; fi

check "cluster down" 0 "$FL" cluster down
if pgrep -f "^[^ ]*etcd --name [^ ]+ --data-dir /var/lib/faultline-node/" >/dev/null
then nok "no etcd left running"
else ok "no etcd left running"; fi
if [[ -z $(ip netns list | grep '^fl-n') && ! -e /sys/class/net/flbr0 ]]; then
  ok "no namespace or bridge left"
else nok "no namespace or bridge left"; fi

exit $((failures > 0))
