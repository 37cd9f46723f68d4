#!/usr/bin/env bash
# A database that crashes under test is a finding (issue 21). As root,
# with `ip netns`, sshd and build/raftkv, and no faultline cluster already
# up, on a private 3-node local cluster (run it under the machine's queue
# lock: the cluster's names are the machine's):
#   * a raftkv killed from outside (kill -9, not by the nemesis) during a
#     run: the run is invalid, with the crash checker's entry naming the
#     node, the signal and the time, in the history as it happened, the
#     verdict line, results.json, summary.md, junit.xml (a failing
#     testcase) and report.html (a mark on the timeline);
#   * the same with --allow-crashes: valid, with a warning;
#   * kills by the nemesis are not crashes: a kill run without an outside
#     kill is valid with no crash;
#   * a database that never serves (--db existing with nothing running):
#     set-up says every 5 s what it waits for on which node, and fails
#     with the wait's bound naming the node.
# Prints "ok - NAME" / "not ok - NAME"; exits non-zero on any failure.
LIB_TMP=/tmp/fl-crash-cli.XXXXXX
LIB_SHOW="tail -6"
. "$(dirname "$0")/lib.sh"
export FAULTLINE_STATE=$tmp/state

LIB_RUNS="crash detection runs"
need_netns
[[ -x $RAFTKV ]] || skip "no raftkv build at $RAFTKV"
need_no_cluster

R=$tmp/results
cluster_made=1
NODE_DIR=/var/lib/faultline-node
run() { "$FL" test --raftkv "$RAFTKV" --results "$R" --nodes 3 --keep-cluster "$@"; }

# The pid of node n's raftkv (its data directory names the node).
raftkv_pid() {
  for p in /proc/[0-9]*; do
    if tr '\0' ' ' 2>/dev/null <"$p/cmdline" |
       grep -Eq "^[^ ]*raftkv --id .* --data-dir $NODE_DIR/$1/data "; then
      echo "${p#/proc/}"; return
    fi
  done
}

# kill -9 n3's raftkv once the run's clients have run for 4 s.
kill_later() { # ERRFILE
  await_clients "$1"
  sleep 4
  local p; p=$(raftkv_pid n3)
  [[ -n $p ]] && kill -9 "$p" && echo "$p" >"$tmp/killed"
}

# ---- an outside kill -9 is a crash ------------------------------------------------
rm -f "$tmp/killed"
run --time-limit 12 --nemesis partition --nemesis-interval 3 --seed 7 \
  --test-name crash >"$tmp/out" 2>"$tmp/err" &
pid=$!
kill_later "$tmp/err"
wait $pid
rc=$?
L=$R/latest
if [[ -s $tmp/killed ]]; then ok "n3's raftkv was killed from outside"
else nok "n3's raftkv was killed from outside (no such process)"; fi
exit_is "an outside kill -9 makes the run invalid" 1 $rc
contains "the watcher logs it as it happens" "$tmp/err" \
  "CRASH: node n3: the database killed by signal 9 (KILL)"
contains "the verdict line names it" "$tmp/err" \
  "verdict: INVALID (exit 1); database crashed: n3's raftkv killed by signal 9 (KILL) at"
contains "the history holds the crashed event" "$L/history.jsonl" '"f":"crashed"'
if python3 - "$L" <<'EOF'
import json, sys
d = sys.argv[1]
r = json.load(open(d + "/results.json"))
c = r["checkers"]["crash"]
assert r["valid"] is False, r["valid"]
assert c["valid"] is False
assert len(c["crashes"]) == 1, c["crashes"]
x = c["crashes"][0]
assert x["node"] == "n3" and "signal 9" in x["how"], x
assert 4 <= x["at_s"] <= 14, x
# the workload's own checker judged the history as usual
assert r["checkers"]["linearizable"]["valid"] in (True, False, "unknown")
EOF
then ok "results.json: the crash checker's entry (node, signal, time)"
else nok "results.json: the crash checker's entry (node, signal, time)"; fi
contains "summary.md names the crash" "$L/summary.md" "database crashed: n3's raftkv"
contains "junit.xml: the crash testcase" "$L/junit.xml" 'name="crash" time='
if grep -A1 'name="crash" time=' "$L/junit.xml" |
   grep -q '<failure message="database crashed: n3&apos;s raftkv'; then
  ok "junit.xml: the crash testcase fails"
else nok "junit.xml: the crash testcase fails"; fi
contains "report.html marks the crash" "$L/report.html" "crashed"
check_analyze() { "$FL" analyze "$L" >"$tmp/an.out" 2>&1; echo $?; }
exit_is "analyze re-judges it invalid" 1 "$(check_analyze)"

# ---- --allow-crashes: a warning ---------------------------------------------------
rm -f "$tmp/killed"
run --time-limit 12 --nemesis none --seed 8 --allow-crashes \
  --test-name allowed >"$tmp/out" 2>"$tmp/err" &
pid=$!
kill_later "$tmp/err"
wait $pid
rc=$?
exit_is "--allow-crashes: valid" 0 $rc
contains "--allow-crashes: the verdict line warns" "$tmp/err" \
  "verdict: valid (exit 0); warning: database crashed: n3's raftkv"

# ---- the nemesis's kills are not crashes ---------------------------------------------
run --time-limit 12 --nemesis kill --nemesis-interval 2 --seed 9 \
  --test-name nemesis-kills >"$tmp/out" 2>"$tmp/err"
rc=$?
L=$R/latest
exit_is "nemesis kills only: valid" 0 $rc
contains "nemesis kills only: the nemesis killed" "$L/history.jsonl" '"f":"kill"'
lacks "nemesis kills only: no crash recorded" "$L/history.jsonl" '"f":"crashed"'
lacks "nemesis kills only: no CRASH line" "$tmp/err" "CRASH:"

# ---- a wait that must announce itself ---------------------------------------------------
# --db existing with no database running on the nodes: set-up waits for
# each node to serve (15 s), saying so every 5 s, then fails naming one.
for n in n1 n2 n3; do
  p=$(raftkv_pid $n); [[ -n $p ]] && kill -9 "$p"
done
run --db existing --time-limit 5 --nemesis none --test-name never-ready \
  >"$tmp/out" 2>"$tmp/err"
rc=$?
exit_is "a database that never serves: cannot run" 3 $rc
contains "set-up announces its wait at 5 s" "$tmp/err" \
  "set-up, 5 s: waiting for raftkv to serve on n1, n2, n3"
contains "set-up announces its wait at 10 s" "$tmp/err" \
  "set-up, 10 s: waiting for raftkv to serve on"
contains "set-up announces its wait at 15 s" "$tmp/err" \
  "set-up, 15 s: waiting for raftkv to serve on"
contains "the wait's bound is the error, naming the node" "$tmp/err" \
  "cannot run the test: node n1: raftkv did not answer GET /status on 10.231.0.11:8000 within 15000 ms"

exit $((failures > 0))
