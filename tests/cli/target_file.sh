#!/usr/bin/env bash
# `faultline test --target-file`: a database described by a JSON file and
# driven by a client in Python over JSON lines (examples/, docs/
# any-database.md). Without a cluster: a bad file is a usage error naming
# its line and field. On a private 5-node local cluster (root, ip netns,
# sshd, build/raftkv; no faultline cluster already up), the verdicts the
# C raftkv client gets in tests/cli/test.sh, now from examples/raftkv's
# Python client:
#   * correct raftkv, register, partition,kill for 15 s: valid;
#   * --server-args "--bug stale-read", partitions: invalid in one of a
#     bounded number of runs (as test.sh does for the C client);
#   * --server-args "--bug early-ack", set workload under kills: invalid,
#     acknowledged adds lost, in one of a bounded number of runs;
#   * --db existing: a raftkv cluster started by hand, driven by the same
#     file and client: valid, and its processes untouched;
#   * the examples/etcd Python client over etcd's JSON gateway: valid
#     (when /usr/bin/etcd is there);
# then the cluster is torn down and nothing of the database is left.
# Prints "ok - NAME" / "not ok - NAME"; exits non-zero on any failure.
LIB_TMP=/tmp/fl-target-file-cli.XXXXXX
. "$(dirname "$0")/lib.sh"
export FAULTLINE_STATE=$tmp/state
EX=$(cd "$(dirname "$0")/../../examples" && pwd)

printf '{"name": "bad",\n "client_port": 1,\n "db": {"start": "x {nod}"}}\n' >"$tmp/bad.json"
check "a bad target file is a usage error" 64 "$FL" test --target-file "$tmp/bad.json"
contains "the error names the file, line and field" "$tmp/err" "$tmp/bad.json:3: db.start: unknown placeholder {nod}"
check "--target and --target-file together are refused" 64 \
  "$FL" test --target raftkv --target-file "$EX/raftkv/target.json"
"$FL" test --target-file "$EX/raftkv/target.json" --help >"$tmp/help" 2>&1
contains "the file's own options are in --help" "$tmp/help" "--server-args VALUE"
check "the workload must be in the file's operations" 64 \
  "$FL" test --target-file "$EX/etcd/target.json" --workload set

LIB_RUNS="target file runs"
need_netns
command -v python3 >/dev/null || skip "needs python3"
[[ -x $EX/../build/raftkv ]] || skip "no build/raftkv (run make)"
need_no_cluster

R=$tmp/results
cluster_made=1
run() { "$FL" test --target-file "$EX/raftkv/target.json" --results "$R" --keep-cluster "$@"; }

check "python client, correct raftkv, partition,kill for 15 s: valid" 0 \
  run --time-limit 15 --nemesis partition,kill --nemesis-interval 2 \
  --seed 5 --test-name py-valid
contains "test.json names the file's target" "$R/latest/test.json" '"target": "raftkv-py"'
contains "test.json records the file" "$R/latest/test.json" "$EX/raftkv/target.json"
oks=$(grep -c '"type":"ok"' "$R/latest/history.jsonl")
if [[ $oks -ge 100 ]]; then ok "the python clients completed operations ($oks ok)"
else nok "the python clients completed operations ($oks ok)"; fi
if [[ -s $R/latest/nodes/n1/db.log ]]; then ok "the node's logs are downloaded"
else nok "the node's logs are downloaded"; fi

# --db existing: a raftkv cluster started by hand (here: in the nodes'
# namespaces, outside faultline); the target file's client drives it and
# nothing of it is installed, wiped, started or killed.
U=$tmp/user
peers=$(for i in 1 2 3 4 5; do printf '%s%d=10.231.0.%d:7000' "$([[ $i -gt 1 ]] && echo ,)" "$i" $((10 + i)); done)
upids=()
for i in 1 2 3 4 5; do
  mkdir -p "$U/n$i"
  ip netns exec "fl-n$i" setsid "$EX/../build/raftkv" --id "$i" \
    --listen "10.231.0.$((10 + i)):7000" --peers "$peers" \
    --data-dir "$U/n$i/data" --client-port 8000 --log "$U/n$i/raftkv.log" \
    >"$U/n$i/stdout.log" 2>&1 </dev/null &
  upids+=($!)
done
for _ in $(seq 100); do
  ip netns exec fl-n1 curl -s -m 1 http://10.231.0.11:8000/status 2>/dev/null |
    grep -q '"role"' && break
  sleep 0.1
done
check "python client, --db existing, partition for 10 s: valid" 0 \
  run --db existing --time-limit 10 --nemesis partition --nemesis-interval 2 \
  --seed 9 --test-name py-existing
alive=0
for p in "${upids[@]}"; do [[ -d /proc/$p ]] && alive=$((alive + 1)); done
if [[ $alive -eq 5 ]]; then ok "--db existing: the user's five raftkv processes still run"
else nok "--db existing: the user's five raftkv processes still run ($alive)"; fi
contains "--db existing: test.json records the mode" "$R/latest/test.json" '"mode": "existing"'
kill -9 "${upids[@]}" 2>/dev/null; wait "${upids[@]}" 2>/dev/null

found=0 i=0 began=$SECONDS
while [[ $found -eq 0 && $((SECONDS - began)) -lt 90 ]]; do
  i=$((i + 1))
  run --time-limit 15 --concurrency 20 --keys 5 --nemesis partition \
    --nemesis-interval 2 --server-args "--bug stale-read" \
    --test-name py-stale-read >"$tmp/bug.out" 2>"$tmp/bug.err"
  rc=$?
  echo "# stale-read attempt $i: exit $rc"
  if [[ $rc -eq 1 ]] && grep -q '"valid": false' "$R/latest/results.json"; then
    found=1
  fi
done
if [[ $found -eq 1 ]]; then ok "python client: --bug stale-read is found invalid"
else nok "python client: --bug stale-read is found invalid (no run of $i exited 1)"; fi

found=0 i=0 began=$SECONDS
while [[ $found -eq 0 && $((SECONDS - began)) -lt 60 ]]; do
  i=$((i + 1))
  run --workload set --time-limit 15 --concurrency 20 --nemesis kill \
    --nemesis-interval 2 --server-args "--bug early-ack" \
    --test-name py-early-ack >"$tmp/bug.out" 2>"$tmp/bug.err"
  rc=$?
  echo "# set early-ack attempt $i: exit $rc"
  if [[ $rc -eq 1 ]] && grep -q '"valid": false' "$R/latest/results.json"; then
    found=1
  fi
done
if [[ $found -eq 1 ]] && grep -q '"lost_count": [1-9]' "$R/latest/results.json"
then ok "python client: --bug early-ack loses acknowledged adds"
else nok "python client: --bug early-ack loses acknowledged adds (no run of $i exited 1 with lost adds)"; fi

if [[ -x /usr/bin/etcd ]]; then
  check "python client over etcd's JSON gateway, partition,kill for 15 s: valid" 0 \
    "$FL" test --target-file "$EX/etcd/target.json" --results "$R" --keep-cluster \
    --time-limit 15 --nemesis partition,kill --nemesis-interval 2 --seed 3 \
    --test-name etcd-py
  oks=$(grep -c '"type":"ok"' "$R/latest/history.jsonl")
  if [[ $oks -ge 100 ]]; then ok "the etcd python clients completed operations ($oks ok)"
  else nok "the etcd python clients completed operations ($oks ok)"; fi
else
  echo "ok - etcd python client # SKIP no /usr/bin/etcd"
fi

left=0
for p in /proc/[0-9]*; do
  tr '\0' '\n' 2>/dev/null <"$p/environ" | grep -q '^FAULTLINE_NODE_DIR=' && left=$((left + 1))
done
if [[ $left -eq 0 ]]; then ok "no process the target file started is left"
else nok "no process the target file started is left ($left)"; fi
check "cluster down" 0 "$FL" cluster down
exit $((failures > 0))
