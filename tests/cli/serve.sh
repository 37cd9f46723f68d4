#!/usr/bin/env bash
# CLI tests of `faultline serve` over loopback: a temp results directory
# of hand-made runs (valid with a report.html and node logs, invalid,
# unknown, not checked), the server on 127.0.0.1 on a free port (--port 0,
# the port read from what it prints), fetched with curl: the run list's
# rows newest first with their verdict classes, files with their
# Content-Type and content, a run's listing, a run stored while serving,
# and paths that must be refused (.., %2e%2e, //etc/passwd, a symlink
# leading out: 403, never the file). Stopped with SIGINT and SIGTERM
# (exit 0; under ASan a leak would fail it). Usage errors too.
# Prints "ok - NAME" / "not ok - NAME"; exits non-zero on any failure.
LIB_TMP=/tmp/fl-test-serve.XXXXXX
. "$(dirname "$0")/lib.sh"
pid=
lib_before_cleanup() { [[ -n $pid ]] && kill "$pid" 2>/dev/null; }

if ! command -v curl >/dev/null; then
  echo "ok - serve over loopback # SKIP no curl"; exit 0
fi

# ---- usage -------------------------------------------------------------------------
check "serve --help succeeds" 0 "$FL" serve --help
expect "and says what binding elsewhere exposes" grep -q "no authentication" "$tmp/out"
check "serve --port x is a usage error" 64 "$FL" serve --port x
check "serve --port 70000 is a usage error" 64 "$FL" serve --port 70000
check "serve --bind localhost is a usage error (an address, not a name)" 64 \
  "$FL" serve --bind localhost --results "$tmp"
check "serve of a missing directory exits 66" 66 "$FL" serve --results "$tmp/none"
check "serve with a stray argument is a usage error" 64 "$FL" serve extra

# ---- a results directory ------------------------------------------------------------
R=$tmp/results
run() { # TEST TIME TEST_JSON RESULTS_JSON (either may be "")
  mkdir -p "$R/$1/$2"
  [[ -n $3 ]] && echo "$3" >"$R/$1/$2/test.json"
  [[ -n $4 ]] && echo "$4" >"$R/$1/$2/results.json"
  return 0
}
run raftkv-register 20261201T100000 '{"target":"raftkv","workload":"register","nemesis":"partition,kill","time_limit":10}' \
  '{"valid":true,"workload":"register","events":40,"ended":"completed","checkers":{"linearizable":{"valid":true,"ops":20}}}'
run raftkv-register 20261201T110000 '{"target":"raftkv","workload":"register"}' '{"valid":false}'
run etcd-set 20261201T120000 '{"target":"etcd","workload":"set"}' '{"valid":"unknown"}'
run etcd-set 20261201T090000 '{"target":"etcd","ended":"could not start: no etcd"}' ''
V=$R/raftkv-register/20261201T100000
echo '<!DOCTYPE html><title>report</title>' >"$V/report.html"
echo '{"index":0,"process":0,"type":"invoke","f":"read"}' >"$V/history.jsonl"
echo '<testsuites/>' >"$V/junit.xml"
echo '# faultline: valid' >"$V/summary.md"
mkdir -p "$V/nodes/n1" && echo "raftkv log line" >"$V/nodes/n1/raftkv.log"
ln -s /etc "$V/out"
ln -s raftkv-register/20261201T100000 "$R/latest"
echo "outside the results directory" >"$tmp/secret.txt"

start() { # starts the server in the background; sets pid and port
  "$FL" serve --port 0 --results "$R" >"$tmp/serve.out" 2>"$tmp/serve.err" &
  pid=$!
  port=
  for _ in $(seq 100); do
    port=$(sed -n 's|.*http://127\.0\.0\.1:\([0-9]*\)/.*|\1|p' "$tmp/serve.out")
    [[ -n $port ]] && return 0
    kill -0 "$pid" 2>/dev/null || break
    sleep 0.1
  done
  cat "$tmp/serve.err" >&2
  return 1
}

stop() { # SIGNAL NAME
  kill -"$1" "$pid"
  wait "$pid"
  local rc=$?
  pid=
  expect "$2: exits 0 (rc $rc)" test "$rc" -eq 0
  expect "$2: says it stopped" grep -q "stopped (SIG$1)" "$tmp/serve.out"
  if [[ -s $tmp/serve.err ]]; then sed 's/^/  # /' "$tmp/serve.err" | tail -20; fi
}

fetch() { # PATH: body to $tmp/body; prints "STATUS CONTENT_TYPE"
  curl -s --path-as-is -o "$tmp/body" -w '%{http_code} %{content_type}' \
    "http://127.0.0.1:$port$1"
}

if ! start; then nok "serve starts and prints its port"; exit 1; fi
ok "serve starts on a free port ($port) and prints it"
expect "it serves the directory's realpath on 127.0.0.1" \
  grep -qF "$(realpath "$R") at http://127.0.0.1:$port/" "$tmp/serve.out"

# ---- the run list ----------------------------------------------------------------------
got=$(fetch /)
expect "/ is an HTML page ($got)" test "$got" = "200 text/html; charset=utf-8"
rows=$(grep -o '<tr class="run [a-z-]*"><td class="verdict">[^<]*</td><td>[^<]*</td><td><a href="[^"]*"' "$tmp/body" |
  sed 's|<tr class="run \([a-z-]*\)"><td class="verdict">[^<]*</td><td>\([^<]*\)</td><td><a href="\([^"]*\)"|\1 \3|')
want="unknown /etcd-set/20261201T120000/
invalid /raftkv-register/20261201T110000/
valid /raftkv-register/20261201T100000/
not-checked /etcd-set/20261201T090000/"
if [[ $rows == "$want" ]]; then ok "the runs newest first, each with its verdict class"
else nok "the runs newest first, each with its verdict class"; echo "$rows" | sed 's/^/  # /'; fi
expect "the valid run links to its report.html" \
  grep -q 'href="/raftkv-register/20261201T100000/report.html"' "$tmp/body"
for f in summary.md junit.xml results.json test.json history.jsonl nodes/; do
  expect "and to its $f" grep -q "href=\"/raftkv-register/20261201T100000/$f\"" "$tmp/body"
done
expect "a run without report.html has no report link" \
  bash -c "! grep -q '20261201T110000/report.html' '$tmp/body'"
expect "it shows target, workload, nemesis, duration and ops" \
  grep -q '<td>raftkv</td><td>register</td><td>partition,kill</td><td class="num">10 s</td><td class="num">20</td><td>completed</td>' "$tmp/body"
expect "results/latest is not listed as a run" bash -c "! grep -q latest '$tmp/body'"

# ---- files and listings -----------------------------------------------------------------
file_is() { # PATH TYPE EXPECTED_FILE
  local got; got=$(fetch "$1")
  if [[ $got == "200 $2" ]] && cmp -s "$tmp/body" "$3"; then ok "$1: $2, the file's bytes"
  else nok "$1: got $got, wanted 200 $2"; fi
}
file_is /raftkv-register/20261201T100000/results.json application/json "$V/results.json"
file_is /raftkv-register/20261201T100000/report.html "text/html; charset=utf-8" "$V/report.html"
file_is /raftkv-register/20261201T100000/history.jsonl "text/plain; charset=utf-8" "$V/history.jsonl"
file_is /raftkv-register/20261201T100000/junit.xml application/xml "$V/junit.xml"
file_is /raftkv-register/20261201T100000/summary.md "text/markdown; charset=utf-8" "$V/summary.md"
file_is /raftkv-register/20261201T100000/nodes/n1/raftkv.log "text/plain; charset=utf-8" "$V/nodes/n1/raftkv.log"
file_is /latest/test.json application/json "$V/test.json"
got=$(fetch /raftkv-register/20261201T100000/)
expect "a run's directory is a listing ($got)" test "$got" = "200 text/html; charset=utf-8"
expect "listing the run's files and nodes/" grep -q 'href="nodes/">nodes/</a>' "$tmp/body"
got=$(curl -s -o /dev/null -w '%{http_code} %{redirect_url}' "http://127.0.0.1:$port/raftkv-register/20261201T100000")
expect "a directory without its slash redirects to it ($got)" \
  test "$got" = "301 http://127.0.0.1:$port/raftkv-register/20261201T100000/"
got=$(fetch /raftkv-register/20261201T100000/missing.json)
expect "a missing file is 404 ($got)" test "${got%% *}" = 404
got=$(curl -s -o /dev/null -w '%{http_code}' -X POST "http://127.0.0.1:$port/")
expect "POST is 405 ($got)" test "$got" = 405

run zk 20261201T130000 '{"target":"zookeeper"}' '{"valid":false}'
fetch / >/dev/null
expect "a run stored while serving is first on reload" \
  bash -c "grep -o 'class=\"run [a-z-]*\"><td class=\"verdict\">[^<]*</td><td>[^<]*' '$tmp/body' | head -1 | grep -q '>zk$'"

# ---- refused ------------------------------------------------------------------------------
refused() { # PATH
  local got; got=$(fetch "$1")
  if [[ ${got%% *} == 403 ]] && ! grep -q "outside the results\|root:" "$tmp/body"; then
    ok "$1 is refused (403)"
  else nok "$1: got $got, wanted 403"; sed 's/^/  # /' "$tmp/body" | head -3; fi
}
refused /../secret.txt
refused /raftkv-register/../../secret.txt
refused /%2e%2e/secret.txt
refused /%2E%2E/%2e%2e/etc/passwd
refused /raftkv-register/..%2f..%2fsecret.txt
refused //etc/passwd
refused /raftkv-register/20261201T100000/out/passwd
refused /raftkv-register/20261201T100000/out/
stop INT "SIGINT"

if start; then ok "serve starts again"; stop TERM "SIGTERM"
else nok "serve starts again"; fi

# ---- a port in use ------------------------------------------------------------------------
if start; then
  check "a second server on the same port exits 74" 74 "$FL" serve --port "$port" --results "$R"
  expect "and says the port is in use" grep -q "cannot listen on 127.0.0.1 port $port" "$tmp/err"
  stop INT "the first"
else nok "serve starts a third time"; fi

exit $((failures > 0))
