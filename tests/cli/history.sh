#!/usr/bin/env bash
# CLI tests of `faultline history` and the top-level exit codes.
# Prints "ok - NAME" / "not ok - NAME" per case; exits non-zero on any failure.
LIB_SHOW="head -5"
. "$(dirname "$0")/lib.sh"
SHARED=${SHARED:-../shared}

# Exit codes
check "no arguments is a usage error" 64 "$FL"
check "unknown command is a usage error" 64 "$FL" frobnicate
check "help succeeds" 0 "$FL" --help
check "test with a bad option is a usage error" 64 "$FL" test --frob

printf '{"process":0,"type":"invoke","f":"read"}\n{"process":0,"type":"done","f":"read"}\n' >"$tmp/bad.jsonl"
check "bad data exits 65" 65 "$FL" history stats "$tmp/bad.jsonl"
contains "bad data names file, line and field" "$tmp/err" "bad.jsonl:2: field \"type\""
check "missing file exits 66" 66 "$FL" history stats "$tmp/none.jsonl"
check "unknown extension is a usage error" 64 "$FL" history convert "$tmp/bad.jsonl" "$tmp/out.txt"
check "convert needs two files" 64 "$FL" history convert "$tmp/bad.jsonl"

# Conversions through EDN keep every event: compare canonical JSONL bytes.
if [[ -d $SHARED/corpus ]]; then
  n=0 bad=0
  for f in "$SHARED"/corpus/etcd/etcd_00*.jsonl "$SHARED"/corpus/kv/*.jsonl; do
    b=$(basename "$f" .jsonl)
    "$FL" history convert "$f" "$tmp/$b.a.jsonl" &&
      "$FL" history convert "$f" "$tmp/$b.edn" &&
      "$FL" history convert "$tmp/$b.edn" "$tmp/$b.b.jsonl" &&
      cmp -s "$tmp/$b.a.jsonl" "$tmp/$b.b.jsonl" || { bad=$((bad + 1)); echo "  # differs: $b"; }
    n=$((n + 1))
  done
  if [[ $bad -eq 0 ]]; then echo "ok - jsonl -> edn -> jsonl keeps $n corpus histories"; else
    echo "not ok - $bad of $n corpus histories changed through EDN"; failures=$((failures + 1)); fi
  check "stats on a corpus file" 0 "$FL" history stats "$SHARED/corpus/kv/c10-ok.jsonl"
  contains "stats counts events" "$tmp/out" "674 events"
  contains "stats counts keys" "$tmp/out" "10 keys"
  check "stats --json" 0 "$FL" history stats --json "$SHARED/corpus/etcd/etcd_000.jsonl"
  contains "stats --json has by_f" "$tmp/out" '"by_f"'
else
  echo "ok - corpus conversions # SKIP $SHARED/corpus not found"
fi

# A history cut mid-line by a killed recorder is still readable.
printf '{"process":0,"type":"invoke","f":"read"}\n{"process":0,"ty' >"$tmp/cut.jsonl"
check "cut final line is dropped, not fatal" 0 "$FL" history stats "$tmp/cut.jsonl"
contains "cut final line is reported" "$tmp/err" "truncated final line"

# EDN input: bad data names file, line and field; a cut final form is dropped;
# --keys decides what [k v] values mean.
printf '{:process 0, :type :invoke, :f :read}\n{:process 0, :type :done, :f :read}\n' >"$tmp/bad.edn"
check "bad edn exits 65" 65 "$FL" history stats "$tmp/bad.edn"
contains "bad edn names file, line and field" "$tmp/err" "bad.edn:2: field :type: unknown type :done"
printf '[{:process 0, :type :invoke, :f :read}\n {:process 0, :type :ok, :f :read, :value [1 2]' >"$tmp/syntax.edn"
check "edn cut inside a vector keeps complete ops" 0 "$FL" history convert "$tmp/syntax.edn" "$tmp/syntax.jsonl"
contains "edn cut is reported" "$tmp/err" "dropped the incomplete final form"
printf '{:process 0, :type :invoke, :f :read, :value [:k nil]}\n{:process 0, :type :ok, :f :read, :value [:k 1]}\n' >"$tmp/keyed.edn"
check "edn tuples become keys" 0 "$FL" history convert "$tmp/keyed.edn" "$tmp/keyed.jsonl"
contains "edn tuple key" "$tmp/keyed.jsonl" '"key":"k","value":1'
check "edn --keys no keeps tuples" 0 "$FL" history convert --keys no "$tmp/keyed.edn" "$tmp/unkeyed.jsonl"
contains "edn --keys no value" "$tmp/unkeyed.jsonl" '"value":["k",1]'
printf '{:process 0, :type :invoke, :f :read, :value [1 2}\n' >"$tmp/unbalanced.edn"
check "unbalanced edn exits 65" 65 "$FL" history stats "$tmp/unbalanced.edn"
contains "unbalanced edn names line and column" "$tmp/err" "unbalanced.edn:1:50: unexpected }: expected ]"

# generate: the benchmarks' histories, deterministic and linearizable
check "generate writes a history" 0 "$FL" history generate --ops 2000 \
  --keys 3 --processes 20 --info-rate 0.2 --seed 9 "$tmp/gen.jsonl"
check "generate again with the same options" 0 "$FL" history generate \
  --ops 2000 --keys 3 --processes 20 --info-rate 0.2 --seed 9 "$tmp/gen2.jsonl"
if cmp -s "$tmp/gen.jsonl" "$tmp/gen2.jsonl"; then echo "ok - the same options give the same history"
else echo "not ok - the same options give the same history"; failures=$((failures + 1)); fi
check "a generated history is linearizable" 0 "$FL" check "$tmp/gen.jsonl"
check "a generated history's stats" 0 "$FL" history stats "$tmp/gen.jsonl"
contains "it has the ops, the keys and info ops asked for" "$tmp/out" "3 keys"
if grep -q '"type":"info"' "$tmp/gen.jsonl"; then echo "ok - it has info ops"
else echo "not ok - it has info ops"; failures=$((failures + 1)); fi
check "generate writes EDN too" 0 "$FL" history generate --ops 50 "$tmp/gen.edn"
check "generate: a bad number is a usage error" 64 "$FL" history generate --ops x "$tmp/g.jsonl"
contains "generate names the option" "$tmp/err" 'bad value "x" for --ops'
check "generate: an info rate above 1 is a usage error" 64 "$FL" history generate --info-rate 1.5 "$tmp/g.jsonl"
check "generate: an unknown extension is a usage error" 64 "$FL" history generate "$tmp/g.txt"

exit $((failures > 0))
