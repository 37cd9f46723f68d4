#!/usr/bin/env bash
# `faultline test --db existing`: a cluster the user already runs.
#   * --nemesis kill without --kill-cmd/--start-cmd is refused (exit 64)
#     naming the options; the commands without --db existing too;
# then, as root with `ip netns`, sshd and build/raftkv, and no faultline
# cluster already up, on a private 3-node local cluster used as remote
# nodes (--nodes-file with every SSH option):
#   * a raftkv cluster is started by hand, as its user would, with its own
#     control script (ctl.sh: start / kill / logs; nothing of faultline's);
#   * `faultline test --db existing --kill-cmd ... --start-cmd ...
#     --nemesis partition,kill --time-limit 15` is valid, test.json
#     records the db mode and the commands, the logs come from --logs-cmd;
#   * afterwards every raftkv is the user's and running: the same PID on
#     nodes never killed, a new one (started by ctl.sh start) on nodes
#     killed, and every kill was ctl.sh's, one per node the nemesis named;
#   * a controller killed (SIGKILL) while a node is down: its dead man's
#     switch restarts that node through --start-cmd and kills nothing;
#     the other nodes keep their PIDs, no faultline rule is left;
#   * the rest at the start of the next run restarts, through
#     --start-cmd, a node an earlier run left killed, and kills nothing;
#   * a node killed from outside (not by the nemesis) during a run stops
#     serving: the readiness probes record it as crashed, the run is
#     invalid;
# then the user's raftkvs are stopped and the cluster is torn down.
# Prints "ok - NAME" / "not ok - NAME"; exits non-zero on any failure.
LIB_TMP=/tmp/fl-existing-cli.XXXXXX
LIB_SHOW="tail -12"
. "$(dirname "$0")/lib.sh"
export FAULTLINE_STATE=$tmp/state
S=$FAULTLINE_STATE U=$tmp/user R=$tmp/results
N=3

# The user's raftkvs die with the test, whatever happens to it.
stop_user_raftkvs() {
  for i in $(seq $N); do
    [[ -f $U/n$i/pid ]] && kill -9 "$(cat "$U/n$i/pid")" 2>/dev/null
  done
}
ctl=
lib_before_cleanup() {
  [[ -n $ctl ]] && kill -9 "$ctl" 2>/dev/null
  stop_user_raftkvs
}

check "--db existing with --nemesis kill and no --kill-cmd: exit 64" 64 \
  "$FL" test --db existing --nemesis partition,kill
expect "the refusal names --kill-cmd and --start-cmd" \
  grep -q -- "--nemesis kill with --db existing needs --kill-cmd and --start-cmd" "$tmp/err"
check "--db existing with --nemesis pause and only --kill-cmd: exit 64" 64 \
  "$FL" test --db existing --nemesis pause --kill-cmd "kill x" --start-cmd s
expect "the refusal names --pause-cmd and --resume-cmd" \
  grep -q -- "needs --pause-cmd and --resume-cmd" "$tmp/err"
check "--kill-cmd without --db existing: exit 64" 64 \
  "$FL" test --kill-cmd "systemctl kill -s KILL etcd"
check "--db must be managed or existing" 64 "$FL" test --db other

LIB_RUNS="existing-cluster runs"
need_netns
[[ -x $RAFTKV ]] || skip "no raftkv build at $RAFTKV (run make)"
need_no_cluster

cluster_made=1
"$FL" cluster up --nodes $N >"$tmp/up.out" 2>&1 || { nok "cluster up"; cat "$tmp/up.out"; exit 1; }

# The user's service control: nothing in it is faultline's. The nodes of
# a local cluster share one filesystem, so it finds its node by address.
mkdir -p "$U"
peers=$(for i in $(seq $N); do printf '%s%d=10.231.0.%d:7000' "$([[ $i -gt 1 ]] && echo ,)" "$i" $((10 + i)); done)
cat >"$U/ctl.sh" <<EOF
#!/bin/sh
a=\$(ip -o -4 addr show | grep -o '10\.231\.0\.[0-9]*' | grep -v '\.1\$' | head -1)
i=\$(( \${a##*.} - 10 )); d=$U/n\$i
running() { [ -f \$d/pid ] && grep -qa raftkv /proc/\$(cat \$d/pid)/cmdline 2>/dev/null; }
case \$1 in
start)
  running && exit 0
  mkdir -p \$d/data
  setsid nohup $RAFTKV --id \$i --listen \$a:7000 --peers $peers \\
    --data-dir \$d/data --client-port 8000 --log \$d/raftkv.log \\
    >>\$d/stdout.log 2>&1 </dev/null &
  echo \$! >\$d/pid; echo "start \$i \$! \$(date +%s.%N)" >>$U/actions ;;
kill)
  p=\$(cat \$d/pid); echo "kill \$i \$p \$(date +%s.%N)" >>$U/actions; kill -9 \$p
  while [ -d /proc/\$p ] && ! grep -q '^State:.*Z' /proc/\$p/status; do sleep 0.05; done ;;
logs) cat \$d/raftkv.log ;;
esac
EOF
chmod +x "$U/ctl.sh"
ssh_node() { ssh -F "$S/ssh.conf" -o BatchMode=yes "n$1" "${@:2}"; }
for i in $(seq $N); do ssh_node "$i" "$U/ctl.sh start"; done
pids_of() { for i in $(seq $N); do printf '%s ' "$(cat "$U/n$i/pid")"; done; }
alive() { # every node's raftkv is running, under its pid file's pid
  for i in $(seq $N); do
    grep -qa raftkv "/proc/$(cat "$U/n$i/pid")/cmdline" 2>/dev/null || return 1
  done
}
for _ in $(seq 100); do
  curl -s -m 1 http://10.231.0.11:8000/status 2>/dev/null | grep -q '"role"' && break
  sleep 0.1
done
expect "the user's raftkv cluster is up before the test" alive
before=($(pids_of))
: >"$U/actions.before"; cp "$U/actions" "$U/actions.before"

existing=(test --target raftkv --db existing --results "$R"
  --nodes-file "$S/nodes" --ssh-user root --ssh-key "$S/id_ed25519"
  --known-hosts "$S/known_hosts"
  --kill-cmd "$U/ctl.sh kill" --start-cmd "$U/ctl.sh start"
  --logs-cmd "$U/ctl.sh logs")
run() { "$FL" "${existing[@]}" "$@"; }
check "--db existing, partition,kill for 15 s: valid" 0 \
  run --nemesis partition,kill --nemesis-interval 2 --time-limit 15 \
  --seed 7 --test-name existing
echo "# $(grep -c . "$R/latest/history.jsonl") history lines; nemesis:" \
  $(grep '"process":"nemesis"' "$R/latest/history.jsonl" | grep -o '"f":"[a-z-]*","value":[^}]*' | sort | uniq -c | tr -s ' ' | tr '\n' ';')
if python3 - "$R/latest/test.json" "$U" <<'EOF'
import json, sys
t = json.load(open(sys.argv[1])); u = sys.argv[2]; d = t["db"]
sys.exit(0 if d["mode"] == "existing" and d["kill_cmd"] == u + "/ctl.sh kill"
         and d["start_cmd"] == u + "/ctl.sh start" and d["pause_cmd"] is None
         and d["logs_cmd"] == u + "/ctl.sh logs" else 1)
EOF
then ok "test.json records the db mode and the commands"
else nok "test.json records the db mode and the commands"; fi
expect "the logs are --logs-cmd's output" grep -q . "$R/latest/nodes/n1/logs-cmd.out"
expect "the log says nothing was installed" grep -q "nothing installed, wiped or started" "$R/latest/faultline.log"

# Which nodes the nemesis killed (the kill events' values name them).
killed=$(grep '"process":"nemesis","type":"info","f":"kill"' "$R/latest/history.jsonl" |
         grep -o 'n[0-9]' | sort -u | tr -d n | tr '\n' ' ')
echo "# nodes killed by the nemesis: ${killed:-none}; PIDs before: ${before[*]}, after: $(pids_of)"
expect "after the run every node's raftkv is the user's and running" alive
after=($(pids_of)) same=1 changed=1
for i in $(seq $N); do
  if [[ " $killed " == *" $i "* ]]; then
    [[ ${after[$((i - 1))]} != "${before[$((i - 1))]}" ]] || changed=0
  else
    [[ ${after[$((i - 1))]} == "${before[$((i - 1))]}" ]] || same=0
  fi
done
expect "the nemesis killed at least one node (seed 7)" test -n "$killed"
expect "nodes never killed keep their PIDs" test $same -eq 1
expect "killed nodes run a new raftkv, started by --start-cmd" test $changed -eq 1
new_kills=$(diff "$U/actions.before" "$U/actions" | grep -c '^> kill')
new_starts=$(diff "$U/actions.before" "$U/actions" | grep -c '^> start')
events=$(grep '"process":"nemesis","type":"info","f":"kill"' "$R/latest/history.jsonl" |
         grep -o 'n[0-9]' | wc -l)
echo "# ctl.sh: $new_kills kills, $new_starts starts; the history's kill events name $events nodes (each twice: before and after)"
expect "every kill was the user's command, one per node killed" test $((new_kills * 2)) -eq "$events"
expect "every killed node was started again" test "$new_kills" -eq "$new_starts"

# A controller that dies while a node is down: the dead man's switch
# restarts it through --start-cmd and kills nothing.
cp "$U/actions" "$U/actions.before"
before=($(pids_of))
"$FL" "${existing[@]}" --nemesis kill --nemesis-interval 1 --time-limit 60 \
  --seed 11 --test-name existing-deadman >"$tmp/dm.out" 2>&1 &
ctl=$!   # faultline execs the harness: this is the controller itself
for _ in $(seq 400); do
  diff "$U/actions.before" "$U/actions" | grep -q '^> kill' && break
  sleep 0.1
done
kill -9 $ctl; wait $ctl 2>/dev/null
echo "# controller killed at $(date +%s.%N)"
victim=$(diff "$U/actions.before" "$U/actions" | sed -n 's/^> kill \([0-9]*\) .*/\1/p' | head -1)
echo "# the controller was killed after ctl.sh killed node ${victim:-?}"
expect "a node was down when the controller died" test -n "$victim"
# The switch fires within DEADMAN_EXPIRE_S (10) + 2 s; wait up to 30 s
# for its --start-cmd.
for _ in $(seq 300); do
  diff "$U/actions.before" "$U/actions" | grep -q "^> start $victim " && break
  sleep 0.1
done
expect "the dead man's switch restarted the killed node through --start-cmd" \
  bash -c "diff '$U/actions.before' '$U/actions' | grep -q '^> start $victim '"
for _ in $(seq 50); do alive && break; sleep 0.1; done
expect "every node's raftkv is running after the switch fired" alive
same=1
for i in $(seq $N); do
  [[ $i == "$victim" ]] && continue
  [[ $(cat "$U/n$i/pid") == "${before[$((i - 1))]}" ]] || same=0
done
expect "the other nodes keep their PIDs (the switch killed nothing)" test $same -eq 1
kills=$(diff "$U/actions.before" "$U/actions" | grep -c '^> kill')
expect "the only kill was the nemesis's one" test "$kills" -eq 1
rules=0
for i in $(seq $N); do
  rules=$((rules + $(ip netns exec fl-n$i iptables -S 2>/dev/null | grep -c faultline)))
done
expect "no faultline iptables rule is left" test $rules -eq 0
# The watcher writes deadman.fired when it fires and deadman.rested once
# its whole rest is done, which may be after the start above (each fault
# kind's rest runs after the target's).
for _ in $(seq 150); do
  grep -rq . "/var/lib/faultline-node/n$victim/deadman.rested" 2>/dev/null && break
  sleep 0.1
done
if grep -q ' 0$' "/var/lib/faultline-node/n$victim/deadman.rested" 2>/dev/null; then
  ok "node n$victim's rest ended with status 0"
else nok "node n$victim's rest ended with status 0"; cat "/var/lib/faultline-node/n$victim/deadman.rested" 2>&1 | sed 's/^/  # /'; fi
if grep -rq . "/var/lib/faultline-node/n$victim/deadman.fired" 2>/dev/null; then
  ok "node n$victim's switch fired"
else nok "node n$victim's switch fired"; tail -5 "$tmp/dm.out" | sed 's/^/  # /'; cat "$U/actions" | sed 's/^/  # /'; ls -la /var/lib/faultline-node/n$victim/ | sed 's/^/  # /'; fi

# The rest at the start of a run undoes what an earlier run left (here a
# node killed through ctl.sh, as a run whose switch could not fire would
# leave it) through --start-cmd, and touches nothing else.
ssh_node 3 "mkdir -p /var/lib/faultline-node/n3 && touch /var/lib/faultline-node/n3/db-killed && $U/ctl.sh kill"
cp "$U/actions" "$U/actions.before"
before=($(pids_of))
check "--db existing, partition only, 3 s, after a run left n3 killed: valid" 0 \
  run --nemesis partition --nemesis-interval 1 --time-limit 3 --seed 5 \
  --test-name existing-rest
expect "the rest restarted n3 through --start-cmd" \
  bash -c "diff '$U/actions.before' '$U/actions' | grep -q '^> start 3 '"
expect "the rest killed nothing" \
  bash -c "! diff '$U/actions.before' '$U/actions' | grep -q '^> kill'"
expect "n1 and n2 keep their PIDs" test "$(pids_of | cut -d' ' -f1-2)" == "${before[0]} ${before[1]}"
if python3 - "$R/latest/test.json" <<'EOF2'
import json, sys
f = json.load(open(sys.argv[1]))["found_at_start"]
sys.exit(0 if f.get("n3", {}).get("restarted") == 1 and "n1" not in f else 1)
EOF2
then ok "test.json's found_at_start says n3 was restarted"
else nok "test.json's found_at_start says n3 was restarted"; fi

# A node of the user's that stops serving during a run with no fault in
# force (killed from outside: ctl.sh kill, not the nemesis) is a crash:
# the readiness probes see it, the run is invalid with the crash entry.
( await_clients "$tmp/crash.err" 300
  sleep 2; ssh_node 2 "$U/ctl.sh kill" ) &
killer=$!
run --nemesis none --time-limit 16 --seed 6 --test-name existing-crash \
  >"$tmp/crash.out" 2>"$tmp/crash.err"
rc=$?
wait $killer
expect "--db existing, a node killed from outside: invalid (exit 1)" test $rc -eq 1
expect "--db existing: the probes record n2 as crashed" \
  grep -q "CRASH: node n2: the database stopped serving" "$tmp/crash.err"
expect "--db existing: the verdict line names it" \
  grep -q "verdict: INVALID (exit 1); database crashed: n2's raftkv stopped serving" "$tmp/crash.err"
[[ $rc -eq 1 ]] || tail -8 "$tmp/crash.err" | sed 's/^/  # /'
ssh_node 2 "$U/ctl.sh start"

stop_user_raftkvs
"$FL" cluster down >/dev/null 2>&1 && cluster_made=0
expect "the cluster is down" test ! -e /sys/class/net/flbr0
exit $((failures > 0))
