#!/usr/bin/env bash
# `faultline test --target postgres --db existing`: a PostgreSQL the user
# runs. As root with `ip netns`, sshd and PostgreSQL 15's programs, and no
# faultline cluster already up, on a private 3-node local cluster used as
# remote nodes (--nodes-file, SSH):
#   * a PostgreSQL is set up and started by hand on n1, as its user
#     would: initdb as the postgres user, its own control script (ctl.sh:
#     start / kill; nothing of faultline's; whichever node it runs on it
#     acts on the one server, started in n1's namespace, so that every
#     kill the nemesis makes meets it), a table of the user's own with a
#     row in it;
#   * `faultline test --target postgres --workload list-append --db
#     existing --nemesis kill --time-limit 15` is valid, test.json records
#     the existing mode;
#   * the transactions went to the user's server, into faultline's table
#     txn under the run's key base (test.json db.key_base): every key in
#     txn is at or above it;
#   * nothing of the user's was wiped: the user's table and row are there,
#     and the server still runs afterwards from the same data directory
#     (a killed server was started again by ctl.sh start);
#   * the server was killed through ctl.sh and runs again afterwards.
# then the server is stopped and the cluster is torn down.
# Prints "ok - NAME" / "not ok - NAME"; exits non-zero on any failure.
LIB_TMP=/tmp/fl-pg-existing.XXXXXX
. "$(dirname "$0")/lib.sh"
export FAULTLINE_STATE=$tmp/state
PGBIN=${PGBIN:-/usr/lib/postgresql/15/bin}
S=$FAULTLINE_STATE U=$tmp/user R=$tmp/results
N=3

LIB_RUNS="postgres --db existing"
need_netns
[[ -x $PGBIN/postgres && -x $PGBIN/initdb ]] || skip "no PostgreSQL 15 in $PGBIN (postgresql-15)"
id postgres >/dev/null 2>&1 || skip "no postgres user"
command -v psql >/dev/null || skip "no psql"
need_no_cluster

# The user's server dies with the test, whatever happens to it.
lib_before_cleanup() {
  local p
  p=$(head -1 "$U/pgdata/postmaster.pid" 2>/dev/null) || return 0
  [[ -n $p ]] && kill -9 "$p" $(pgrep -P "$p") 2>/dev/null
}

cluster_made=1
"$FL" cluster up --nodes $N >"$tmp/up.out" 2>&1 || { nok "cluster up"; cat "$tmp/up.out"; exit 1; }

# The user's PostgreSQL, one server in n1's namespace. The nodes share
# one filesystem and process table, so ctl.sh on any node reaches it.
mkdir -p "$U/run" "$U/pgdata"
chmod 755 "$tmp"
chown postgres "$U/run" "$U/pgdata"
chmod 700 "$U/pgdata"
as_pg() { setpriv --reuid=postgres --regid=postgres --init-groups "$@"; }
as_pg "$PGBIN/initdb" -D "$U/pgdata" -U postgres --auth=trust >"$U/initdb.log" 2>&1 ||
  { nok "initdb"; tail "$U/initdb.log"; exit 1; }
echo 'host all all 10.231.0.0/24 trust' >>"$U/pgdata/pg_hba.conf"
cat >"$U/ctl.sh" <<EOF
#!/bin/sh
pm() { head -1 $U/pgdata/postmaster.pid 2>/dev/null; }
running() { p=\$(pm); [ -n "\$p" ] && [ -d /proc/\$p ] && ! grep -q '^State:.*Z' /proc/\$p/status; }
case \$1 in
start)
  running && exit 0
  setsid nohup ip netns exec fl-n1 setpriv --reuid=postgres --regid=postgres --init-groups \\
    $PGBIN/postgres -D $U/pgdata -c listen_addresses=10.231.0.11 -p 5432 \\
    -c unix_socket_directories=$U/run -c max_connections=100 \\
    >>$U/postgres.log 2>&1 </dev/null &
  echo "start \$(date +%s.%N)" >>$U/actions
  for i in \$(seq 150); do [ -n "\$(pm)" ] && exit 0; sleep 0.1; done; exit 1 ;;
kill)
  p=\$(pm); [ -n "\$p" ] || exit 0
  echo "kill \$p \$(date +%s.%N)" >>$U/actions
  kill -9 \$p \$(pgrep -P \$p) 2>/dev/null
  while [ -d /proc/\$p ] && ! grep -q '^State:.*Z' /proc/\$p/status; do sleep 0.05; done ;;
esac
EOF
chmod +x "$U/ctl.sh"
ssh_node() { ssh -F "$S/ssh.conf" -o BatchMode=yes "n$1" "${@:2}"; }
ssh_node 1 "$U/ctl.sh start"
psql_u() { psql -h "$U/run" -p 5432 -U postgres -Atc "$1" 2>&1; }
for _ in $(seq 100); do psql_u 'select 1' | grep -qx 1 && break; sleep 0.1; done
psql_u "create table mine (note text); insert into mine values ('kept')" >/dev/null
expect "the user's PostgreSQL is up before the test" \
  bash -c "[[ \$(psql -h '$U/run' -p 5432 -U postgres -Atc 'select note from mine') == kept ]]"
pm_before=$(head -1 "$U/pgdata/postmaster.pid")

# One PostgreSQL server, so one node: faultline awaits, kills and starts
# the database of every node it is given.
grep -v "^#" "$S/nodes" | head -1 >"$tmp/nodes.n1"
"$FL" test --target postgres --workload list-append --db existing \
  --results "$R" --nodes-file "$tmp/nodes.n1" --ssh-user root \
  --ssh-key "$S/id_ed25519" --known-hosts "$S/known_hosts" \
  --kill-cmd "$U/ctl.sh kill" --start-cmd "$U/ctl.sh start" \
  --nemesis kill --nemesis-interval 3 --time-limit 15 --seed 3 \
  --test-name pg-existing >"$tmp/run.out" 2>&1
rc=$?
exit_is "--db existing, list-append under kill for 15 s: valid" 0 $rc
[[ $rc -eq 0 ]] || lib_show "$tmp/run.out"
echo "# nemesis:" $(grep '"process":"nemesis"' "$R/latest/history.jsonl" |
  grep -o '"f":"[a-z-]*","value":[^}]*' | sort | uniq -c | tr -s ' ' | tr '\n' ';')
echo "# ctl.sh:" $(sed 's/ [0-9.]*$//' "$U/actions" | cut -d' ' -f1 | sort | uniq -c | tr -s ' ' | tr '\n' ';')
base=$(python3 -c 'import json,sys; d=json.load(open(sys.argv[1]))["db"]; print(d["key_base"] if d["mode"] == "existing" else -1)' "$R/latest/test.json")
expect "test.json records the existing mode and a key base" test "${base:--1}" -gt 0
oks=$(grep -c '"type":"ok","f":"txn"' "$R/latest/history.jsonl")
echo "# $oks transactions ok; key base $base"
expect "some transactions committed" test "$oks" -gt 0
expect "every key in faultline's table is at or above the run's key base" \
  bash -c "[[ \$(psql -h '$U/run' -p 5432 -U postgres -Atc 'select count(*) from txn where k < $base') == 0 && \$(psql -h '$U/run' -p 5432 -U postgres -Atc 'select count(*) from txn') -gt 0 ]]"
expect "the user's own table and row are still there" \
  bash -c "[[ \$(psql -h '$U/run' -p 5432 -U postgres -Atc 'select note from mine') == kept ]]"
kills=$(grep -c '^kill ' "$U/actions")
expect "the nemesis killed the server through ctl.sh" test "$kills" -gt 0
expect "the server runs afterwards, a new postmaster on the same data directory" \
  bash -c "p=\$(head -1 '$U/pgdata/postmaster.pid'); [[ -d /proc/\$p && \$p != $pm_before ]]"
exit $((failures > 0))
