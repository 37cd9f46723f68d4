#!/usr/bin/env bash
# CLI tests of `faultline check`: verdicts, exit codes, the JSON result,
# EDN input, budgets and bad input.
# Prints "ok - NAME" / "not ok - NAME" per case; exits non-zero on any failure.
LIB_SHOW="head -5"
. "$(dirname "$0")/lib.sh"
SHARED=${SHARED:-../shared}

cat >"$tmp/valid.jsonl" <<'H'
{"process":0,"type":"invoke","f":"write","value":1}
{"process":1,"type":"invoke","f":"read","value":null}
{"process":0,"type":"ok","f":"write","value":1}
{"process":1,"type":"ok","f":"read","value":1}
H
cat >"$tmp/invalid.jsonl" <<'H'
{"process":0,"type":"invoke","f":"write","value":1}
{"process":0,"type":"ok","f":"write","value":1}
{"process":0,"type":"invoke","f":"write","value":2}
{"process":0,"type":"ok","f":"write","value":2}
{"process":1,"type":"invoke","f":"read","value":null}
{"process":1,"type":"ok","f":"read","value":1}
H

check "valid history exits 0" 0 "$FL" check --model register "$tmp/valid.jsonl"
contains "result says valid" "$tmp/out" '"valid":true'
contains "result names the model" "$tmp/out" '"model":"register"'
check "invalid history exits 1" 1 "$FL" check --model register --explain "$tmp/invalid.jsonl"
contains "result says invalid" "$tmp/out" '"valid":false'
contains "result carries a counterexample" "$tmp/out" '"counterexample":{'
contains "explain describes the stuck op" "$tmp/err" "cannot take effect"
contains "explain shows the shrunk history" "$tmp/err" "Shrunk to"
contains "unique values are decided without a full search" "$tmp/out" '"decided_by":"unique-values"'
contains "explain says why the unique values decide it" "$tmp/err" "Every value is written once"
check "--no-fast-path searches, same verdict" 1 "$FL" check --model register --no-fast-path "$tmp/invalid.jsonl"
if grep -qF decided_by "$tmp/out"; then echo "not ok - --no-fast-path does not use the fast path"
  failures=$((failures + 1)); else echo "ok - --no-fast-path does not use the fast path"; fi

"$FL" history convert "$tmp/invalid.jsonl" "$tmp/invalid.edn" 2>/dev/null
check "EDN input gives the same verdict" 1 "$FL" check --model register "$tmp/invalid.edn"

check "--initial changes the verdict" 0 "$FL" check --model register --initial 1 "$tmp/valid.jsonl"
check "unknown model is a usage error" 64 "$FL" check --model btree "$tmp/valid.jsonl"
contains "usage lists the models" "$tmp/err" "kv-append"
check "missing file exits 66" 66 "$FL" check --model register "$tmp/none.jsonl"
check "bad --time-limit is a usage error" 64 "$FL" check --model register --time-limit soon "$tmp/valid.jsonl"
check "an unknown --consistency is a usage error" 64 "$FL" check --model register --consistency causal "$tmp/valid.jsonl"
contains "--consistency names the levels" "$tmp/err" "linearizable, sequential or both"

printf '{"process":0,"type":"invoke","f":"cas","value":3}\n{"process":0,"type":"ok","f":"cas","value":3}\n' >"$tmp/badcas.jsonl"
check "a malformed cas is bad data" 65 "$FL" check --model cas-register "$tmp/badcas.jsonl"
contains "bad data names the op and field" "$tmp/err" 'field "value"'

# A search that cannot finish within its budget answers unknown (exit 2).
# Two gets show "x" then "0" then "1", and "x" then "1" then "0", after the
# one put of "x": no order has both, but each string can be made, so
# neither kv-append's lookahead nor checkers/sc_graph (each string appended
# twice: which of the alike appends a get holds is not sure, so it sees no
# cycle) cuts the search short, and the orders of the appends are many.
{
  printf '{"process":30,"type":"invoke","f":"put","key":"k","value":"x"}\n'
  for i in $(seq 0 11); do printf '{"process":%d,"type":"invoke","f":"append","key":"k","value":"%d"}\n' $i $((i % 6)); done
  for i in $(seq 0 11); do printf '{"process":%d,"type":"ok","f":"append","key":"k","value":"%d"}\n' $i $((i % 6)); done
  printf '{"process":20,"type":"invoke","f":"get","key":"k","value":null}\n{"process":20,"type":"ok","f":"get","key":"k","value":"x01"}\n'
  printf '{"process":21,"type":"invoke","f":"get","key":"k","value":null}\n{"process":21,"type":"ok","f":"get","key":"k","value":"x10"}\n'
} >"$tmp/hard.jsonl"
check "exhausted memory budget exits 2" 2 "$FL" check --model kv-append --memory-limit 4 "$tmp/hard.jsonl"
contains "unknown result says which budget" "$tmp/out" "memory limit reached"

# ---- the checker registry: what runs is named, --checker NAME runs NAME ----
same_json() { # NAME FILE FILE: equal but for elapsed_ms (a measurement)
  if cmp -s <(sed -E 's/"elapsed_ms":[-0-9.e+]+//g' "$2") <(sed -E 's/"elapsed_ms":[-0-9.e+]+//g' "$3"); then
    echo "ok - $1"; else echo "not ok - $1"; diff "$2" "$3" | head -5 | sed 's/^/  # /'
    failures=$((failures + 1)); fi
}
for h in "$tmp/valid.jsonl" "$tmp/invalid.jsonl" tests/data/runs/stale-read-1.jsonl; do
  "$FL" check --explain "$h" >"$tmp/default.json" 2>"$tmp/default.err"
  want=$?
  check "--checker sequential --model cas-register: exit of the default ($(basename "$h"))" \
    $want "$FL" check --checker sequential --model cas-register --explain "$h"
  same_json "--checker sequential --model cas-register: JSON of the default ($(basename "$h"))" \
    "$tmp/default.json" "$tmp/out"
  same_json "--checker sequential: explanation of the default ($(basename "$h"))" \
    "$tmp/default.err" "$tmp/err"
  # linearizable alone: the same verdict, without the SC half
  check "--checker linearizable: the default's exit ($(basename "$h"))" \
    $want "$FL" check --checker linearizable "$h"
  contains "--checker linearizable is what runs ($(basename "$h"))" "$tmp/out" '"checker":"linearizable"'
  if grep -qF '"anomaly"' "$tmp/out"; then echo "not ok - --checker linearizable has no anomaly"; failures=$((failures + 1)); else echo "ok - --checker linearizable has no anomaly"; fi
done
contains "the default names the checker that ran" "$tmp/default.json" '"checker":"sequential"'
check "a bad model is reported before the history is read" 64 "$FL" check --model btree "$tmp/no-such-history.jsonl"
contains "a bad model names the model, not the file" "$tmp/err" 'unknown model "btree"'
contains "the default checks cas-register" "$tmp/default.json" '"model":"cas-register"'
check "an unknown checker is a usage error" 64 "$FL" check --checker causal "$tmp/valid.jsonl"
contains "an unknown checker names the known ones" "$tmp/err" 'unknown checker "causal" (checkers: linearizable, set, sequential, crash, elle)'
check "check --help lists the registry's checkers" 0 "$FL" check --help
contains "--help names the set checker" "$tmp/out" "checker/set"

# ---- sequential consistency (--consistency) ------------------------------------
cat >"$tmp/stale.jsonl" <<'H'
{"process":0,"type":"invoke","f":"write","value":1}
{"process":0,"type":"ok","f":"write","value":1}
{"process":1,"type":"invoke","f":"read","value":null}
{"process":1,"type":"ok","f":"read","value":null}
H
cat >"$tmp/dekker.jsonl" <<'H'
{"process":0,"type":"invoke","f":"write","key":"x","value":1}
{"process":1,"type":"invoke","f":"write","key":"y","value":1}
{"process":0,"type":"ok","f":"write","key":"x","value":1}
{"process":1,"type":"ok","f":"write","key":"y","value":1}
{"process":0,"type":"invoke","f":"read","key":"y","value":null}
{"process":1,"type":"invoke","f":"read","key":"x","value":null}
{"process":0,"type":"ok","f":"read","key":"y","value":null}
{"process":1,"type":"ok","f":"read","key":"x","value":null}
H
check "a stale read: both exits with linearizability's verdict" 1 "$FL" check "$tmp/stale.jsonl"
contains "a stale read is a real-time anomaly" "$tmp/out" '"anomaly":"real-time"'
contains "and named as a stale read" "$tmp/out" '"anomaly_kind":"stale-read"'
check "a stale read: --consistency sequential exits with SC's verdict" 0 "$FL" check --consistency sequential "$tmp/stale.jsonl"
check "--consistency linearizable is the linearizable checker alone" 1 "$FL" check --consistency linearizable "$tmp/stale.jsonl"
if grep -qF '"anomaly"' "$tmp/out"; then echo "not ok - --consistency linearizable has no anomaly"; failures=$((failures + 1)); else echo "ok - --consistency linearizable has no anomaly"; fi
check "SC per key, not as a whole: not SC" 1 "$FL" check --consistency sequential --explain "$tmp/dekker.jsonl"
contains "non-sequential anomaly" "$tmp/out" '"anomaly":"non-sequential"'
contains "--explain names the keys together" "$tmp/err" 'together, though each key alone may have one'
contains "--explain names the keys as per_key does" "$tmp/err" '(keys x, y together'
contains "--explain shows the cycle in words" "$tmp/err" "no order of the writes satisfies all of these"
contains "--explain lists the cycle's ops" "$tmp/err" "must come before the next, and the last before the first"
contains "the shrunk counterexample is a minimal witness" "$tmp/out" '"shrunk":{"minimal":true'
check "--checker sequential is the same checker" 1 "$FL" check --checker sequential --consistency sequential "$tmp/dekker.jsonl"
check "sequential: bad data exits 65" 65 "$FL" check --consistency sequential --model cas-register "$tmp/badcas.jsonl"
check "sequential: missing file exits 66" 66 "$FL" check --consistency sequential "$tmp/none.jsonl"
check "sequential: unknown model is a usage error" 64 "$FL" check --consistency sequential --model btree "$tmp/valid.jsonl"
check "sequential: exhausted memory budget exits 2" 2 "$FL" check --consistency sequential --model kv-append --memory-limit 4 "$tmp/hard.jsonl"

# ---- the set checker ---------------------------------------------------------
cat >"$tmp/set-ok.jsonl" <<'H'
{"process":0,"type":"invoke","f":"add","key":1,"value":1}
{"process":1,"type":"invoke","f":"add","key":1,"value":2}
{"process":0,"type":"ok","f":"add","key":1,"value":1}
{"process":1,"type":"info","f":"add","key":1,"value":2}
{"process":0,"type":"invoke","f":"read","key":1,"value":null}
{"process":0,"type":"ok","f":"read","key":1,"value":[1]}
H
cat >"$tmp/set-lost.jsonl" <<'H'
{"process":0,"type":"invoke","f":"add","key":1,"value":1}
{"process":0,"type":"ok","f":"add","key":1,"value":1}
{"process":0,"type":"invoke","f":"add","key":1,"value":2}
{"process":0,"type":"ok","f":"add","key":1,"value":2}
{"process":0,"type":"invoke","f":"read","key":1,"value":null}
{"process":0,"type":"ok","f":"read","key":1,"value":[2]}
H
cat >"$tmp/set-bad.jsonl" <<'H'
{"process":0,"type":"invoke","f":"add","key":1,"value":1}
{"process":0,"type":"ok","f":"add","key":1,"value":1}
{"process":0,"type":"invoke","f":"read","key":1,"value":null}
{"process":0,"type":"ok","f":"read","key":1,"value":"1"}
H
head -2 "$tmp/set-ok.jsonl" | sed 's/"key":1/"key":2/' >"$tmp/set-unread.jsonl"
check "set: acknowledged adds all read is valid" 0 "$FL" check --checker set "$tmp/set-ok.jsonl"
contains "set: the indeterminate add is pending, not lost" "$tmp/out" '"lost_count":0'
check "set: a lost add is invalid" 1 "$FL" check --checker set --explain "$tmp/set-lost.jsonl"
contains "set: the lost element is named" "$tmp/out" '"lost":[1]'
contains "set: --explain says what was lost" "$tmp/err" "acknowledged adds lost"
check "set: a set never read is unknown" 2 "$FL" check --checker set "$tmp/set-unread.jsonl"
check "set: a read that is not an array is bad data" 65 "$FL" check --checker set "$tmp/set-bad.jsonl"
contains "set: the bad event is named" "$tmp/err" "event index 3"
check "unknown checker is a usage error" 64 "$FL" check --checker bank "$tmp/set-ok.jsonl"

# ---- bad input is never valid ---------------------------------------------------
printf 'hello' >"$tmp/hello.jsonl"
check "a final line of garbage is bad data" 65 "$FL" check "$tmp/hello.jsonl"
contains "the garbage line is named" "$tmp/err" "hello.jsonl:1:"
head -c 200000 /dev/zero | tr '\0' x >"$tmp/xs.jsonl"
check "a run of x is bad data" 65 "$FL" check "$tmp/xs.jsonl"
printf '"hello\n{:type :invoke, :f :read, :process 0}\n' >"$tmp/open.edn"
check "an EDN string left open on line 1 is bad data" 65 "$FL" check "$tmp/open.edn"
contains "the open string's line is named" "$tmp/err" "open.edn:1:"
printf '{:type :invoke, :f :read, :value "abc, :process 0}\n{:type :ok, :f :read, :value 1, :process 0}\n' >"$tmp/open-map.edn"
check "an EDN string that never closes does not swallow the file" 65 "$FL" check "$tmp/open-map.edn"
contains "the unclosed string's start is named" "$tmp/err" "string opened at line 1, column 34"
{ printf '{:type :invoke, :f :read, :value nil, :process 0}\n{:type :ok, :f :read, :value nil, :process 0}\n'
  printf '{:type :invoke, :f :write, :value "ab'; } >"$tmp/cut-last.edn"
check "an EDN map cut on the last line is dropped" 0 "$FL" check --model register "$tmp/cut-last.edn"
contains "the cut map is a warning" "$tmp/err" "dropped the incomplete final form"
head -c 1000 /dev/zero >"$tmp/nul.edn"
check "NUL bytes in EDN are bad data, not an empty history" 65 "$FL" check "$tmp/nul.edn"
check "an endless input ends with an error" 65 timeout 60 "$FL" check /dev/zero
contains "the endless input's error says why" "$tmp/err" "NUL byte"
mkdir -p "$tmp/dir.jsonl"
check "a directory is a read error" 74 "$FL" check "$tmp/dir.jsonl"
printf '{"process":0,"type":"invoke","f":"read","type":"ok"}\n' >"$tmp/dup.jsonl"
check "a duplicate key is bad data" 65 "$FL" check "$tmp/dup.jsonl"
contains "the duplicate is named" "$tmp/err" "duplicate"
{ head -1 "$tmp/valid.jsonl"; printf '{"process":0,"type":"ok","f":"wri'; } >"$tmp/cut.jsonl"
check "a cut-off last event is dropped, not an error" 0 "$FL" check --model register "$tmp/cut.jsonl"
contains "the cut line is a warning" "$tmp/err" "dropped a truncated final line"
: >"$tmp/empty.jsonl"
check "an empty history is no operations, exit 4" 4 "$FL" check "$tmp/empty.jsonl"
contains "an empty history says no operations" "$tmp/err" "no operations"
check "/dev/null is no operations" 4 "$FL" check /dev/null
printf '[]\n' >"$tmp/empty.edn"
check "an empty EDN vector is no operations" 4 "$FL" check "$tmp/empty.edn"
check "--allow-empty accepts an empty history" 0 "$FL" check --allow-empty "$tmp/empty.jsonl"
contains "an accepted empty history says 0 operations" "$tmp/err" "valid: 0 operations"
check "several files: no operations (4) beats a verdict" 4 "$FL" check "$tmp/empty.jsonl" "$tmp/valid.jsonl"
printf '%s\n' '{"time":9,"process":0,"type":"invoke","f":"read","value":null}' \
  '{"time":5,"process":0,"type":"ok","f":"read","value":null}' \
  '{"time":4,"process":1,"type":"invoke","f":"read","value":null}' \
  '{"time":3,"process":1,"type":"ok","f":"read","value":null}' >"$tmp/back.jsonl"
check "times going backwards are not an error" 0 "$FL" check --model register "$tmp/back.jsonl"
if [[ $(grep -c warning "$tmp/err") -eq 1 ]]; then echo "ok - one warning for times going backwards"
else echo "not ok - one warning for times going backwards"; sed 's/^/  # /' "$tmp/err"; failures=$((failures + 1)); fi
contains "the warning names the count and first line" "$tmp/err" "back.jsonl:2: 3 events"

if [[ -f "$SHARED/corpus/kv/c10-ok.jsonl" ]]; then
  check "corpus kv history, split by key" 0 "$FL" check --model kv-append "$SHARED/corpus/kv/c10-ok.jsonl"
  contains "ten keys checked" "$tmp/out" '"keys":10'
  check "corpus kv c10-bad: not linearizable" 1 "$FL" check --model kv-append "$SHARED/corpus/kv/c10-bad.jsonl"
  contains "c10-bad: SC decided (not SC) by the string path, not left unknown" "$tmp/out" '"decided_by":"graph"'
  check "corpus etcd history" 1 "$FL" check --model cas-register "$SHARED/corpus/etcd/etcd_000.jsonl"
else
  echo "ok - corpus cases skipped: $SHARED/corpus not found # SKIP"
fi

# Many files in one process: one line each, in the order given, naming its
# file; a bad file is reported and the rest still checked; the exit code is
# the worst (an error over invalid over unknown over valid).
check "two valid files exit 0" 0 "$FL" check --model register "$tmp/valid.jsonl" "$tmp/valid.jsonl"
if [[ $(wc -l <"$tmp/out") -eq 2 ]]; then echo "ok - one line per file"
else echo "not ok - one line per file"; sed 's/^/  # /' "$tmp/out"; failures=$((failures + 1)); fi
contains "each line names its file" "$tmp/out" "{\"file\":\"$tmp/valid.jsonl\",\"valid\":true"
check "valid and invalid exit 1" 1 "$FL" check --model register --jobs 2 "$tmp/valid.jsonl" "$tmp/invalid.jsonl" "$tmp/valid.jsonl"
if [[ $(sed -n 2p "$tmp/out") == "{\"file\":\"$tmp/invalid.jsonl\",\"valid\":false"* ]]; then
  echo "ok - --jobs keeps the order of the files"
else echo "not ok - --jobs keeps the order of the files"; sed 's/^/  # /' "$tmp/out"; failures=$((failures + 1)); fi
check "a missing file among valid ones exits 66" 66 "$FL" check --model register "$tmp/invalid.jsonl" "$tmp/nope.jsonl" "$tmp/valid.jsonl"
contains "the missing file gets an error line" "$tmp/out" "{\"file\":\"$tmp/nope.jsonl\",\"error\":\"$tmp/nope.jsonl: cannot open"
contains "the files after it are still checked" "$tmp/out" "{\"file\":\"$tmp/valid.jsonl\",\"valid\":true"
contains "the error is on stderr too" "$tmp/err" "faultline check: $tmp/nope.jsonl: cannot open"
check "a single file's output has no file field" 0 "$FL" check --model register "$tmp/valid.jsonl"
if grep -q '"file"' "$tmp/out"; then echo "not ok - a single file's output has no file field"; failures=$((failures + 1))
else echo "ok - a single file's line is as before"; fi

# The checking binary links nothing of the controller (libcurl, libssh2,
# libmicrohttpd: their start-up was paid by every check).
if command -v ldd >/dev/null && ! ldd "$FL" | grep -qE 'libcurl|libssh2|libmicrohttpd'; then
  echo "ok - faultline links no libcurl, libssh2 or libmicrohttpd"
else echo "not ok - faultline links no libcurl, libssh2 or libmicrohttpd"; ldd "$FL" | sed 's/^/  # /'; failures=$((failures + 1)); fi
check "test --help runs the harness binary" 0 "$FL" test --help
contains "test's usage comes from faultline-harness" "$tmp/out" "usage: faultline test"

exit $((failures > 0))
