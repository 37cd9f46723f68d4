#!/usr/bin/env bash
# CLI tests of the postgres target (targets/clients/postgres.h) on the
# daemon default: its options, then — as root, with `ip netns`, sshd and
# postgresql-15 — on the local cluster (brought up if needed, torn down by
# faultline if it brought it up; run it under the machine's queue lock):
#   * list-append under kills for 10 s, judged with `--consistency
#     read-committed` (a checker option of `faultline test`): valid, every
#     node initdb'd and serving as user postgres on its own address, elle's
#     verdict under read-committed, test.json recording the options;
#   * an outside kill -9 of node n1's postmaster (the server the clients
#     use) during a run without faults: the run is invalid, the crash
#     watcher having seen the waiting shell's db.exit (signal 9);
#   * nothing of PostgreSQL is left running afterwards.
# Prints "ok - NAME" / "not ok - NAME"; exits non-zero on any failure.
LIB_TMP=/tmp/fl-postgres-cli.XXXXXX
. "$(dirname "$0")/lib.sh"
PG_BIN=${PG_BIN:-/usr/lib/postgresql/15/bin}

# ---- options -------------------------------------------------------------------
check "--target postgres --help succeeds" 0 "$FL" test --target postgres --help
contains "help lists --isolation and its levels" "$tmp/out" \
  "every transaction's isolation level: serializable, repeatable-read or read-committed"
check "--isolation other than its levels is a usage error" 64 \
  "$FL" test --target postgres --workload list-append --isolation snapshot
contains "the error names the option" "$tmp/err" "target postgres: --isolation is"
check "--bin-dir with a shell word is a usage error" 64 \
  "$FL" test --target postgres --workload list-append --bin-dir '/x;y'
check "postgres runs transactions only" 64 "$FL" test --target postgres

# ---- real runs ------------------------------------------------------------------
LIB_RUNS="postgres local cluster runs"
need_netns
[[ -x $PG_BIN/postgres && -x $PG_BIN/initdb ]] || skip "needs postgresql-15 (make deps)"
id postgres >/dev/null 2>&1 || skip "needs the postgres user (postgresql-15)"

R=$tmp/results
NODE_DIR=/var/lib/faultline-node
run() {
  "$FL" test --target postgres --workload list-append --results "$R" "$@"
}

check "list-append under kills, judged read-committed: valid" 0 \
  run --nemesis kill --nemesis-interval 3 --time-limit 10 --seed 5 \
  --consistency read-committed --test-name pg-kill
cp "$tmp/err" "$tmp/kill.err"
L=$R/latest
contains "the nemesis killed and restarted a server" "$tmp/kill.err" "nemesis start"
for n in n1 n2 n3 n4 n5; do
  contains "$n initdb'd and serving" "$tmp/kill.err" "node $n: installed and serving"
done
if python3 - "$L" <<'EOF'
import json, sys
d = sys.argv[1]
t = json.load(open(d + "/test.json"))
r = json.load(open(d + "/results.json"))
assert t["checker_options"] == {"consistency": "read-committed"}, t.get("checker_options")
assert t["target_options"] == {"bin-dir": "/usr/lib/postgresql/15/bin",
                               "isolation": "serializable"}, t["target_options"]
e = r["checkers"]["elle"]
assert e["consistency"] == "read-committed", e["consistency"]
assert e["committed"] > 0, e
assert r["checkers"]["crash"]["valid"] is True
EOF
then ok "elle judged under read-committed; test.json records the options"
else nok "elle judged under read-committed; test.json records the options"; fi
if [[ $(stat -c %U "$NODE_DIR/n2/pgdata" 2>/dev/null) == postgres ]]; then
  ok "n2's data directory belongs to user postgres"
else nok "n2's data directory belongs to user postgres"; fi

# kill -9 n1's postmaster once the clients have run for 3 s.
kill_later() { # ERRFILE
  await_clients "$1"
  sleep 3
  local p; p=$(cat "$NODE_DIR/n1/postgres.pid" 2>/dev/null)
  [[ -n $p ]] && kill -9 "$p" && echo "$p" >"$tmp/killed"
}
run --nemesis none --time-limit 8 --seed 6 --test-name pg-crash \
  >"$tmp/out" 2>"$tmp/err" &
pid=$!
kill_later "$tmp/err"
wait $pid
rc=$?
if [[ -s $tmp/killed ]]; then ok "n1's postmaster was killed from outside"
else nok "n1's postmaster was killed from outside (no pid file)"; fi
exit_is "an outside kill -9 of the postmaster makes the run invalid" 1 $rc
contains "the watcher names the node and the signal" "$tmp/err" \
  "CRASH: node n1: the database killed by signal 9 (KILL)"

if pgrep -f "^[^ ]*postgres -D $NODE_DIR/" >/dev/null; then
  nok "no postgres left running"
else ok "no postgres left running"; fi

exit $((failures > 0))
