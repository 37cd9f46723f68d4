#!/usr/bin/env bash
# raftkv's transactions on one real node on loopback (127.0.0.21, no
# cluster): POST /txn runs micro-ops in one log entry and fills in the
# reads; bad bodies and methods are refused; with --bug txn-split the
# answer is the same (the bug is only visible under concurrency, to the
# elle checker). Prints "ok - NAME" / "not ok - NAME".
RAFTKV=${RAFTKV:-${BUILD:-build}/asan/raftkv}   # before lib.sh: its default is not this
. "$(dirname "$0")/lib.sh"
pid=
lib_before_cleanup() { [[ -n $pid ]] && kill $pid 2>/dev/null; wait 2>/dev/null; }
if [[ ! -x $RAFTKV ]]; then nok "raftkv binary $RAFTKV missing"; exit 1; fi

port=$((20000 + RANDOM % 20000))
cport=$((port + 1000))
post() { # BODY -> "CODE BODY"
  local code
  code=$(curl -s -o "$tmp/body" -w '%{http_code}' --max-time 10 -X POST \
    -d "$1" "http://127.0.0.21:$cport/txn")
  echo "$code $(cat "$tmp/body" 2>/dev/null)"
}
start() { # DIR [--bug X]
  "$RAFTKV" --id 1 --listen "127.0.0.21:$port" --peers "1=127.0.0.21:$port" \
    --data-dir "$tmp/$1" --log "$tmp/$1.log" "${@:2}" &
  pid=$!
  for _ in $(seq 50); do
    curl -s --max-time 1 "http://127.0.0.21:$cport/status" | grep -q '"leader":1' && return
    sleep 0.1
  done
}
expect() { # NAME WANT GOT
  if [[ $3 == "$2" ]]; then ok "$1"; else nok "$1: got $3, wanted $2"; fi
}

for bug in none txn-split; do
  if [[ $bug == none ]]; then start plain; else start split --bug txn-split; fi
  expect "$bug: reads see the txn's own appends" \
    '200 {"ok":true,"value":[["r",1,null],["append",1,5],["r",1,[5]]]}' \
    "$(post '{"value":[["r",1,null],["append",1,5],["r",1,null]]}')"
  expect "$bug: and earlier txns'; registers too" \
    '200 {"ok":true,"value":[["append",1,6],["r",1,[5,6]],["w","x",2],["r","x",2]]}' \
    "$(post '{"value":[["append",1,6],["r",1,null],["w","x",2],["r","x",null]]}')"
  expect "$bug: an empty txn is refused" 400 "$(post '{"value":[]}' | cut -d' ' -f1)"
  expect "$bug: an unknown micro-op is refused" 400 \
    "$(post '{"value":[["incr",1,1]]}' | cut -d' ' -f1)"
  expect "$bug: GET /txn is refused" 405 \
    "$(curl -s -o /dev/null -w '%{http_code}' "http://127.0.0.21:$cport/txn")"
  kill "$pid"; wait "$pid" 2>/dev/null; pid=
done
grep -q 'bug txn-split' "$tmp/split.log" && ok "the bug is named in the log" ||
  nok "the bug is named in the log"
[[ $failures -eq 0 ]]
