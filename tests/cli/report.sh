#!/usr/bin/env bash
# CLI tests of `faultline report RUN_DIR`: runs made from the stored raftkv
# histories (tests/data/runs) and hand-made ones (valid, a set with a lost
# add) are checked with `faultline analyze`, which writes junit.xml and
# summary.md; `faultline report` then rewrites them from results.json
# alone. junit.xml is parsed with python3's xml.etree: the structure CI
# tools read (testsuites > testsuite > testcase > failure/error), the
# counts against the test cases, and the failure messages. summary.md's
# first lines are checked. Usage errors and a run not yet checked too.
# Prints "ok - NAME" / "not ok - NAME"; exits non-zero on any failure.
LIB_TMP=/tmp/fl-test-report.XXXXXX
. "$(dirname "$0")/lib.sh"
DATA=$(cd "$(dirname "$0")/../data/runs" && pwd)

# junit.xml's structure and counts: DIR TESTS FAILURES ERRORS [MESSAGE]
junit() {
  python3 - "$@" <<'PY'
import sys, xml.etree.ElementTree as ET
d, tests, failures, errors = sys.argv[1], *map(int, sys.argv[2:5])
want_msg = sys.argv[5] if len(sys.argv) > 5 else None
root = ET.parse(d + "/junit.xml").getroot()
assert root.tag == "testsuites", root.tag
suites = root.findall("testsuite")
assert len(suites) == 1, suites
s = suites[0]
cases = s.findall("testcase")
assert all(c.tag == "testcase" for c in s), [c.tag for c in s]
fails = [f for c in cases for f in c.findall("failure")]
errs = [e for c in cases for e in c.findall("error")]
for c in cases:
    assert c.get("classname") and c.get("name"), c.attrib
    float(c.get("time"))
    assert len(list(c)) <= 1, "one outcome per test case"
for node in (root, s):
    got = (int(node.get("tests")), int(node.get("failures")), int(node.get("errors")))
    assert got == (len(cases), len(fails), len(errs)), (got, len(cases))
    assert got == (tests, failures, errors), (got, (tests, failures, errors))
for f in fails + errs:
    assert f.get("message") and f.text, f.attrib
if want_msg:
    assert any(want_msg in f.get("message") for f in fails), \
        [f.get("message") for f in fails]
PY
}

run_from() { # DIR HISTORY [TEST_JSON]
  mkdir -p "$1" && cp "$2" "$1/history.jsonl"
  if [[ $# -gt 2 ]]; then echo "$3" >"$1/test.json"; fi
}

# ---- usage -----------------------------------------------------------------------
check "report without a directory is a usage error" 64 "$FL" report
check "report --help succeeds" 0 "$FL" report --help
mkdir -p "$tmp/unchecked"
check "report of a run not yet checked exits 66" 66 "$FL" report "$tmp/unchecked"
if grep -qF "faultline analyze $tmp/unchecked" "$tmp/err"; then ok "and says to analyze it"
else nok "and says to analyze it"; fi

# ---- the stored raftkv runs ----------------------------------------------------------
for h in "$DATA"/*.jsonl; do
  n=$(basename "$h" .jsonl); d=$tmp/$n
  run_from "$d" "$h" '{"name": "raftkv-register", "target": "raftkv", "workload": "register"}'
  check "$n: analyze finds it invalid" 1 "$FL" analyze "$d"
  if [[ -s $d/junit.xml && -s $d/summary.md ]]; then ok "$n: analyze writes junit.xml and summary.md"
  else nok "$n: analyze writes junit.xml and summary.md"; fi
  rm -f "$d/junit.xml" "$d/summary.md"
  check "$n: report rewrites them" 0 "$FL" report "$d"
  # linearizable: the checker and its one invalid key fail; sequential
  # consistency allows a stale read, not an early acknowledgement.
  fails=2; [[ $n == early-ack-* ]] && fails=3
  # (the fourth testcase: the crash checker, on every run)
  if out=$(junit "$d" 4 $fails 0 "NOT linearizable" 2>&1); then ok "$n: junit.xml parses, counts right"
  else nok "$n: junit.xml parses, counts right"; echo "$out" | sed 's/^/  # /' | tail -4; fi
  if [[ $(head -1 "$d/summary.md") == "# faultline: INVALID — raftkv-register" ]] &&
     sed -n 3p "$d/summary.md" | grep -q "^register workload on raftkv; run ended: "
  then ok "$n: summary.md's first lines"; else nok "$n: summary.md's first lines"; sed 's/^/  # /' "$d/summary.md" | head -4; fi
  if grep -q "^## First anomaly: linearizable" "$d/summary.md"; then ok "$n: summary.md shows the anomaly"
  else nok "$n: summary.md shows the anomaly"; fi
done

# ---- hand-made runs ----------------------------------------------------------------------
cat >"$tmp/good.jsonl" <<'H'
{"process":0,"type":"invoke","f":"write","key":1,"value":1}
{"process":0,"type":"ok","f":"write","key":1,"value":1}
{"process":1,"type":"invoke","f":"read","key":1,"value":null}
{"process":1,"type":"ok","f":"read","key":1,"value":1}
H
run_from "$tmp/good" "$tmp/good.jsonl"
check "valid run: analyze exits 0" 0 "$FL" analyze "$tmp/good"
if out=$(junit "$tmp/good" 3 0 0 2>&1); then ok "valid run: junit.xml has no failures"
else nok "valid run: junit.xml has no failures"; echo "$out" | sed 's/^/  # /' | tail -4; fi
if [[ $(head -1 "$tmp/good/summary.md") == "# faultline: valid — faultline" ]]
then ok "valid run: summary.md says valid"; else nok "valid run: summary.md says valid"; fi

cat >"$tmp/set.jsonl" <<'H'
{"process":0,"type":"invoke","f":"add","key":"k<&\"é","value":1}
{"process":0,"type":"ok","f":"add","key":"k<&\"é","value":1}
{"process":0,"type":"invoke","f":"read","key":"k<&\"é","value":null}
{"process":0,"type":"ok","f":"read","key":"k<&\"é","value":[]}
H
run_from "$tmp/set" "$tmp/set.jsonl" '{"workload": "set", "name": "set <&> \"é\""}'
check "set run with a lost add: analyze exits 1" 1 "$FL" analyze "$tmp/set"
if out=$(junit "$tmp/set" 3 2 0 'key k<&"é: the final read' 2>&1); then ok "set run: junit.xml escapes the key, counts right"
else nok "set run: junit.xml escapes the key, counts right"; echo "$out" | sed 's/^/  # /' | tail -4; fi
if python3 -c 'import sys,xml.etree.ElementTree as E; assert E.parse(sys.argv[1]).getroot()[0].get("name") == "set <&> \"é\""' "$tmp/set/junit.xml"
then ok "set run: the suite's name survives escaping"; else nok "set run: the suite's name survives escaping"; fi

# analyze takes check's checker options: the workload's checkers, changed
check "analyze --checker linearizable: that checker alone" 0 "$FL" analyze --checker linearizable "$tmp/good"
if python3 -c 'import json,sys; assert list(json.load(open(sys.argv[1]))["checkers"]) == ["linearizable"]' "$tmp/good/results.json"
then ok "analyze --checker: results.json has it alone"; else nok "analyze --checker: results.json has it alone"; fi
check "analyze --time-limit: the workload's checkers, both (and crash)" 0 "$FL" analyze --time-limit 5 "$tmp/good"
if python3 -c 'import json,sys; assert list(json.load(open(sys.argv[1]))["checkers"]) == ["crash", "linearizable", "sequential"]' "$tmp/good/results.json"
then ok "analyze with an option keeps the workload's checkers"; else nok "analyze with an option keeps the workload's checkers"; fi
check "analyze --model btree: a usage error before the run is read" 64 "$FL" analyze --model btree "$tmp/no-such-run"
if grep -qF 'unknown model "btree"' "$tmp/err"; then ok "analyze names the bad model"; else nok "analyze names the bad model"; fi

exit $((failures > 0))
