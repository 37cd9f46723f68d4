#!/usr/bin/env bash
# Real-process test of raftkv: a 3-node cluster on loopback addresses
# 127.0.0.11-13 (loopback only), writes, CAS, redirects, kill -9 of the
# leader, failover, restart and catch-up (with snapshots every 5 entries, so
# compaction, snapshot recovery and InstallSnapshot are exercised), clean
# SIGTERM shutdown (exit 0, so ASan's leak check passed) and flag errors.
# Prints "ok - NAME" / "not ok - NAME"; exits non-zero on any failure.
RAFTKV=${RAFTKV:-${BUILD:-build}/asan/raftkv}   # before lib.sh: its default is not this
. "$(dirname "$0")/lib.sh"
pids=()
lib_before_cleanup() {
  for p in "${pids[@]}"; do [[ -n $p ]] && kill -9 "$p" 2>/dev/null; done
  wait 2>/dev/null
}
expect() { # NAME WANT GOT
  if [[ "$2" == "$3" ]]; then ok "$1"; else nok "$1 (wanted $2, got $3)"; fi
}

if [[ ! -x $RAFTKV ]]; then nok "raftkv binary $RAFTKV missing"; exit 1; fi

port=$((20000 + RANDOM % 20000))
cport=$((port + 1000))
peers="1=127.0.0.11:$port,2=127.0.0.12:$port,3=127.0.0.13:$port"
addr() { echo "127.0.0.1$1:$cport"; }

start() { # ID
  "$RAFTKV" --id "$1" --listen "127.0.0.1$1:$port" --peers "$peers" \
    --data-dir "$tmp/d$1" --log "$tmp/log$1" --snapshot-every 5 &
  pids[$1]=$!
}

# http METHOD URL [BODY] -> prints "CODE BODY"
http() {
  local code
  code=$(curl -s -o "$tmp/body" -w '%{http_code}' --max-time 10 -X "$1" \
    ${3:+-d "$3"} "http://$2")
  echo "$code $(cat "$tmp/body" 2>/dev/null)"
}

# wait_leader [EXCLUDE_ID] -> prints the leader id, or nothing after 20 s
wait_leader() {
  for _ in $(seq 200); do
    for i in 1 2 3; do
      [[ "$i" == "${1:-}" ]] && continue
      if curl -s --max-time 1 "http://$(addr $i)/status" | grep -q '"role":"leader"'; then
        echo "$i"; return
      fi
    done
    sleep 0.1
  done
}

for i in 1 2 3; do start $i; done
L=$(wait_leader)
if [[ -z $L ]]; then nok "a leader is elected within 20 s"; cat "$tmp"/log*; exit 1; fi
ok "a leader is elected (node $L)"

acked=0
for k in 1 2 3 4 5 6 7; do
  r=$(http PUT "$(addr $L)/kv/k$k" "{\"value\":{\"n\":$k}}")
  [[ $r == "200 "* ]] && acked=$((acked + 1)) || echo "  # put k$k: $r"
done
expect "seven puts acknowledged" 7 "$acked"
expect "cas with the right prev succeeds" '200 {"ok":true}' \
  "$(http PUT "$(addr $L)/kv/k1" '{"value":"x","prev":{"n":1}}')"
expect "cas with a wrong prev is 412 with the current value" \
  '412 {"error":"precondition failed","value":"x"}' \
  "$(http PUT "$(addr $L)/kv/k1" '{"value":"y","prev":{"n":1}}')"
expect "cas on a missing key is 412" \
  '412 {"error":"precondition failed","value":null}' \
  "$(http PUT "$(addr $L)/kv/nope" '{"value":1,"prev":null}')"
expect "create on a missing key succeeds" '200 {"ok":true}' \
  "$(http PUT "$(addr $L)/kv/s1" '{"value":[1],"create":true}')"
expect "create on an existing key is 412 with the current value" \
  '412 {"error":"precondition failed","value":[1]}' \
  "$(http PUT "$(addr $L)/kv/s1" '{"value":[2],"create":true}')"
expect "get from the leader" '200 {"value":"x"}' "$(http GET "$(addr $L)/kv/k1")"
expect "get a missing key is 404" '404 {"error":"not found"}' "$(http GET "$(addr $L)/kv/nope")"
expect "delete" '200 {"ok":true}' "$(http DELETE "$(addr $L)/kv/k7")"
expect "deleted key is gone" '404 {"error":"not found"}' "$(http GET "$(addr $L)/kv/k7")"
r=$(http PUT "$(addr $L)/kv/k1" '{"value":')
[[ $r == "400 "*"bad JSON"* ]] && ok "bad JSON is 400" || nok "bad JSON is 400: $r"

F=$(( L % 3 + 1 ))
expect "a follower refuses with 421 naming the leader" \
  "421 {\"error\":\"not leader\",\"leader\":\"$(addr $L)\"}" \
  "$(http GET "$(addr $F)/kv/k1")"

# Kill the leader hard; the survivors elect a new one that has everything.
kill -9 "${pids[$L]}"; wait "${pids[$L]}" 2>/dev/null; pids[$L]=
N=$(wait_leader "$L")
if [[ -z $N ]]; then nok "a new leader after kill -9"; cat "$tmp"/log*; exit 1; fi
ok "a new leader is elected after kill -9 of node $L (node $N)"
got=""
for k in 1 2 3 4 5 6; do
  for _ in $(seq 50); do  # the new leader may still be committing its no-op
    r=$(http GET "$(addr $N)/kv/k$k"); [[ $r == 200* ]] && break; sleep 0.1
  done
  got="$got$r;"
done
expect "the new leader serves every acknowledged write" \
  '200 {"value":"x"};200 {"value":{"n":2}};200 {"value":{"n":3}};200 {"value":{"n":4}};200 {"value":{"n":5}};200 {"value":{"n":6}};' "$got"
for k in 8 9 10 11 12 13; do http PUT "$(addr $N)/kv/k$k" "{\"value\":$k}" >/dev/null; done

# Restart the killed node: it recovers from disk and catches up.
start "$L"
want=$(curl -s "http://$(addr $N)/status" | jq .commit)
caught=""
for _ in $(seq 200); do
  a=$(curl -s --max-time 1 "http://$(addr $L)/status" | jq -r '.applied // 0' 2>/dev/null)
  if [[ -n $a && $a -ge $want ]]; then caught=1; break; fi
  sleep 0.1
done
[[ -n $caught ]] && ok "the restarted node catches up (applied >= $want)" \
  || { nok "the restarted node catches up"; tail -5 "$tmp/log$L"; }
grep -q "snapshot at" "$tmp"/log* && ok "snapshots were taken" || nok "snapshots were taken"

# A leader whose followers are frozen cannot commit: the write is answered
# 504 indeterminate (or refused, if it already stepped down) — never 200.
N=$(wait_leader)
for i in 1 2 3; do [[ $i != "$N" ]] && kill -STOP "${pids[$i]}"; done
r=$(http PUT "$(addr $N)/kv/frozen" '{"value":1}')
case $r in
  '504 {"error":"timeout","indeterminate":true}'|"503 "*|"421 "*) ok "no quorum: the write is not acknowledged ($r)";;
  *) nok "no quorum: the write is not acknowledged (got $r)";;
esac
for i in 1 2 3; do kill -CONT "${pids[$i]}"; done

# Clean shutdown: exit 0 (ASan's leak check runs at exit).
for i in 1 2 3; do
  p=${pids[$i]}; kill -TERM "$p"; wait "$p"; rc=$?; pids[$i]=
  expect "node $i exits 0 on SIGTERM" 0 "$rc"
done

# Seeded bug early-ack: a leader whose followers are frozen (SIGSTOP) still
# acknowledges a write it cannot commit. Long elections (2-4 s) keep it
# leader while we ask (check-quorum would demote it after 2 s).
eport=$((port + 7)); ecport=$((eport + 1000))
epeers="1=127.0.0.11:$eport,2=127.0.0.12:$eport,3=127.0.0.13:$eport"
for i in 1 2 3; do
  "$RAFTKV" --id "$i" --listen "127.0.0.1$i:$eport" --peers "$epeers" \
    --data-dir "$tmp/e$i" --log "$tmp/elog$i" --election-ticks 200 --bug early-ack &
  pids[$((i + 3))]=$!
done
EL=""
for _ in $(seq 200); do
  for i in 1 2 3; do
    curl -s --max-time 1 "http://127.0.0.1$i:$ecport/status" | grep -q '"role":"leader"' && EL=$i
  done
  [[ -n $EL ]] && break; sleep 0.1
done
if [[ -z $EL ]]; then nok "early-ack cluster elects a leader"; else
  for i in 1 2 3; do [[ $i != "$EL" ]] && kill -STOP "${pids[$((i + 3))]}"; done
  expect "early-ack: a leader without a quorum acknowledges a write" '200 {"ok":true}' \
    "$(http PUT "127.0.0.1$EL:$ecport/kv/lost" '{"value":1}')"
fi
for i in 4 5 6; do kill -9 "${pids[$i]}" 2>/dev/null; wait "${pids[$i]}" 2>/dev/null; pids[$i]=; done

# Flag errors are usage errors with a message.
"$RAFTKV" --id 1 >/dev/null 2>"$tmp/err"; expect "missing flags exit 64" 64 $?
"$RAFTKV" --id 4 --listen 127.0.0.11:1 --peers "$peers" --data-dir "$tmp/x" 2>"$tmp/err"
expect "an id not in --peers exits 64" 64 $?
grep -q "not in --peers" "$tmp/err" && ok "the message names the problem" || nok "the message names the problem"
"$RAFTKV" --bug nosuch 2>/dev/null; expect "an unknown bug exits 64" 64 $?

exit $((failures > 0))
