#!/usr/bin/env bash
# CLI tests of what a run tells its user about itself, on a private 5-node
# local cluster (root, ip netns, sshd, build/raftkv, no cluster already up):
#   * --nemesis none records no nemesis events; test.json has the values
#     used (keys, ssh port), and "ended": "completed";
#   * SIGINT mid-run: "ended" says so, with the time; while it ran,
#     `analyze` refused the growing history and `cluster status` showed
#     the partition's rules and exited 3;
#   * SIGKILL of the controller during a partition: every node's dead
#     man's switch brings it to rest (no faultline rule, no raftkv) within
#     its bound, with no further command from us;
#   * SIGKILL, then a new run at once: it finds the rules and processes
#     left behind, removes them, and records them in "found_at_start";
#   * a run that cannot start moves no `latest` link, and `analyze` of it
#     answers with the reason (exit 3).
# Prints "ok - NAME" / "not ok - NAME"; exits non-zero on any failure.
LIB_TMP=/tmp/fl-trust.XXXXXX
. "$(dirname "$0")/lib.sh"
export FAULTLINE_STATE=$tmp/state
lib_before_cleanup() { [[ -n ${bg:-} ]] && kill -9 "$bg" 2>/dev/null; }

LIB_RUNS="trust runs"   # nothing has failed before: skip exits 0
need_netns
[[ -x $RAFTKV ]] || skip "no raftkv build at $RAFTKV"
need_no_cluster

R=$tmp/results
cluster_made=1
run() { "$FL" test --raftkv "$RAFTKV" --results "$R" --keep-cluster "$@"; }

# Faultline rules and raftkv processes left on the nodes, as "RULES PROCS".
leftovers() {
  local rules=0 procs=0 n
  for n in 1 2 3 4 5; do
    rules=$((rules + $(ip netns exec fl-n$n iptables -w -S 2>/dev/null | grep -c -- '--comment faultline')))
  done
  procs=$(pgrep -fc "^[^ ]*raftkv --id .* --data-dir /var/lib/faultline-node/")
  echo "$rules $procs"
}

# Wait until the history of the run under TEST_DIR holds a completed
# start-partition (its directory appears only once the run has begun).
wait_partition() { # TEST_DIR PID
  local i
  for i in $(seq 300); do
    [[ $(cat "$1"/*/history.jsonl 2>/dev/null | grep -c '"f":"start-partition"') -ge 2 ]] && return 0
    kill -0 "$2" 2>/dev/null || return 1
    sleep 0.1
  done
  return 1
}

# ---- --nemesis none, and the values used -------------------------------------------
run --time-limit 5 --nemesis none --concurrency 6 --test-name quiet \
  >"$tmp/quiet.out" 2>"$tmp/quiet.err"
expect "--nemesis none run is valid" test $? -eq 0
L=$R/latest
expect "--nemesis none records no nemesis event" \
  bash -c "! grep -q '\"process\":\"nemesis\"' '$L/history.jsonl'"
expect "test.json records the keys used (6 clients: 2)" \
  grep -q '"keys": 2' "$L/test.json"
expect "test.json records the ssh port used" grep -q '"ssh_port": 22' "$L/test.json"
expect "test.json: ended completed" grep -q '"ended": "completed"' "$L/test.json"
expect "results.json: ended completed" grep -q '"ended": "completed"' "$L/results.json"
expect "the verdict line says how the run ended" \
  grep -q 'run ended: completed' "$tmp/quiet.err"
expect "phases are announced" grep -q 'stopping raftkv and downloading its logs' "$tmp/quiet.err"

# ---- SIGINT, and what others see while a run records ---------------------------------
"$FL" test --raftkv "$RAFTKV" --results "$R" --keep-cluster --time-limit 120 \
  --nemesis partition --nemesis-interval 1 --test-name interrupted \
  >"$tmp/int.out" 2>"$tmp/int.err" &
bg=$!
if wait_partition "$R/interrupted" $bg; then ok "interrupted run partitions"
else nok "interrupted run partitions"; fi
run_dir=$(ls -d "$R"/interrupted/*/)
"$FL" analyze "$run_dir" >"$tmp/an.out" 2>"$tmp/an.err"
rc=$?
expect "analyze refuses a run still recording (exit 3)" test $rc -eq 3
expect "analyze says why" grep -q 'still being recorded' "$tmp/an.err"
"$FL" cluster status >"$tmp/st.out" 2>"$tmp/st.err"
rc=$?
# The partition may just be healing; what matters is that a running target
# always shows.
expect "cluster status exits 3 while a test's processes are on the nodes" test $rc -eq 3
expect "cluster status lists raftkv as left behind" grep -q 'raftkv' "$tmp/st.out"
kill -INT $bg
wait $bg
rc=$?
bg=
expect "SIGINT: the run still gives a verdict (valid)" test $rc -eq 0
expect "SIGINT: test.json ended says interrupted, and when" \
  grep -Eq '"ended": "interrupted \(SIGINT at [0-9.]+ s of 120\)"' "$run_dir/test.json"
expect "SIGINT: results.json ended too" \
  grep -q '"ended": "interrupted (SIGINT' "$run_dir/results.json"
read -r rules procs < <(leftovers)
expect "SIGINT: no rules and no raftkv left ($rules, $procs)" test "$rules $procs" = "0 0"
"$FL" cluster status >"$tmp/st.out" 2>"$tmp/st.err"
rc=$?
expect "cluster status exits 0 once the nodes are at rest" test $rc -eq 0
[[ $rc -eq 0 ]] || sed 's/^/  # /' "$tmp/st.out"

# ---- SIGKILL: the dead man's switch -----------------------------------------------
"$FL" test --raftkv "$RAFTKV" --results "$R" --keep-cluster --time-limit 120 \
  --nemesis partition --nemesis-interval 2 --test-name killed \
  >"$tmp/kill.out" 2>"$tmp/kill.err" &
bg=$!
if wait_partition "$R/killed" $bg; then ok "killed run partitions"
else nok "killed run partitions"; fi
read -r rules procs < <(leftovers)
expect "before SIGKILL: rules and raftkv in place ($rules, $procs)" \
  test "$rules" -gt 0 -a "$procs" -eq 5
kill -9 $bg
wait $bg 2>/dev/null
bg=
killed_at=$SECONDS
# The switch's documented bound is 12 s (nemesis/deadman.h); allow the
# machine some slack before calling it a failure.
rest=
while [[ $((SECONDS - killed_at)) -le 30 ]]; do
  read -r rules procs < <(leftovers)
  if [[ "$rules $procs" == "0 0" ]]; then rest=$((SECONDS - killed_at)); break; fi
  sleep 0.5
done
if [[ -n $rest ]]; then ok "SIGKILL: every node at rest by itself, after ${rest} s"
else nok "SIGKILL: nodes still not at rest after 30 s ($rules rules, $procs raftkv)"; fi
echo "# dead man's switch: nodes at rest ${rest:-?} s after the controller's SIGKILL"

# ---- SIGKILL, then a new run at once: found_at_start --------------------------------
"$FL" test --raftkv "$RAFTKV" --results "$R" --keep-cluster --time-limit 120 \
  --nemesis partition --nemesis-interval 2 --test-name killed2 \
  >"$tmp/kill2.out" 2>"$tmp/kill2.err" &
bg=$!
wait_partition "$R/killed2" $bg
kill -9 $bg
wait $bg 2>/dev/null
bg=
run --time-limit 11 --nemesis none --test-name after-crash \
  >"$tmp/after.out" 2>"$tmp/after.err"
expect "the run after a crash is valid" test $? -eq 0
expect "it records the rules it found" \
  python3 -c "import json,sys; f=json.load(open('$R/latest/test.json'))['found_at_start']; sys.exit(0 if sum(v['faults'].get('partition', 0) for v in f.values()) > 0 else 1)"
expect "it records the raftkv processes it found" \
  python3 -c "import json,sys; f=json.load(open('$R/latest/test.json'))['found_at_start']; sys.exit(0 if sum(v['target_processes'] for v in f.values()) == 5 else 1)"
expect "and logs what it removed" grep -q 'an earlier run left' "$tmp/after.err"
expect "a progress line every 10 s" grep -Eq '10 s of 11: [0-9]+ ok, [0-9]+ fail, [0-9]+ info; in force: none' "$tmp/after.err"
expect "a clean start records found_at_start {}" \
  python3 -c "import json,sys; sys.exit(0 if json.load(open('$R/quiet/$(ls "$R/quiet")/test.json'))['found_at_start'] == {} else 1)"

# ---- a run that cannot start --------------------------------------------------------
before=$(readlink "$R/latest")
"$FL" test --raftkv /bin/false --results "$R" --keep-cluster --time-limit 3 \
  --nemesis none --test-name broken >"$tmp/broken.out" 2>"$tmp/broken.err"
expect "a target that never serves: exit 3" test $? -eq 3
expect "latest still points at the last real run" test "$(readlink "$R/latest")" = "$before"
broken_dir=$(ls -d "$R"/broken/*/)
"$FL" analyze "$broken_dir" >"$tmp/an.out" 2>"$tmp/an.err"
expect "analyze of it exits 3" test $? -eq 3
expect "and gives the reason" grep -q 'could not start' "$tmp/an.err"

"$FL" cluster down >/dev/null 2>&1
cluster_made=0
exit $((failures > 0))
