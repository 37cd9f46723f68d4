#!/usr/bin/env bash
# CLI tests of `faultline check --checker elle`: an Elle EDN history read
# as it is, the verdict per --consistency, the words, JSONL <-> EDN, and
# bad input. Prints "ok - NAME" / "not ok - NAME"; exits non-zero on any
# failure.
LIB_SHOW="head -5"
. "$(dirname "$0")/lib.sh"
skew=tests/data/elle/write-skew.edn

check "write skew is not strict-serializable (default)" 1 \
  "$FL" check --checker elle --explain "$skew"
contains "the anomaly is named" "$tmp/out" '"anomaly_types":["G2-item"]'
contains "the models it rules out" "$tmp/out" '"not":["strict-serializable","serializable","repeatable-read"]'
contains "explained step by step" "$tmp/err" 'T0 read k1 = [], missing 1, which T1 appended next (rw)'
contains "ending in the cycle" "$tmp/err" 'hence T1 < T0 < T1.'
check "write skew is snapshot isolation" 0 \
  "$FL" check --checker elle --consistency snapshot-isolation "$skew"
check "and read committed" 0 \
  "$FL" check --checker elle --consistency read-committed "$skew"
check "a model elle does not know is a usage error" 64 \
  "$FL" check --checker elle --consistency causal "$skew"
check "EDN converts to JSONL" 0 "$FL" history convert "$skew" "$tmp/skew.jsonl"
check "and back" 0 "$FL" history convert "$tmp/skew.jsonl" "$tmp/skew.edn"
contains "micro-ops as keywords, as Elle writes them" "$tmp/skew.edn" ':value [[:r 1 []] [:append 2 1]]'
check "the JSONL is judged alike" 1 "$FL" check --checker elle "$tmp/skew.jsonl"
printf '%s\n' '{"process":0,"type":"invoke","f":"txn","value":[["incr",1,1]]}' \
  '{"process":0,"type":"ok","f":"txn","value":[["incr",1,1]]}' >"$tmp/bad.jsonl"
check "a bad micro-op is a data error" 65 "$FL" check --checker elle "$tmp/bad.jsonl"
contains "naming the event and field" "$tmp/err" 'event 1: field value[0]'

[[ $failures -eq 0 ]]
