#!/usr/bin/env bash
# report.html in a real headless browser (Debian's chromium, driven over
# the DevTools protocol by tests/browser/report_test.mjs): the report of
# (a) a real raftkv run on the local cluster, valid, and (b) corpus
# etcd_000, not linearizable, made by `faultline report HISTORY --model`,
# are opened from file://; no console errors, no request but the file, the
# counterexample and the plots visible and drawn, jump to anomaly works;
# screenshots go to build/report-valid.png and build/report-invalid.png.
# Without chromium (or node) this fails: `make deps` installs them.
# Prints "ok - NAME" / "not ok - NAME"; exits non-zero on any failure.
BUILD=${BUILD:-build}
RAFTKV=${RAFTKV:-$BUILD/asan/raftkv}   # before lib.sh: its default is not this
LIB_TMP=/tmp/fl-test-report-html.XXXXXX
. "$(dirname "$0")/lib.sh"
SHARED=${SHARED:-../shared}

command -v node >/dev/null || { nok "node is installed (make deps)"; exit 1; }
[[ -x ${CHROMIUM:-/usr/bin/chromium} ]] ||
  { nok "chromium is installed (make deps installs Debian's chromium)"; exit 1; }

# (b) a known-invalid corpus history, checked and reported in one command
cp "$SHARED/corpus/etcd/etcd_000.jsonl" "$tmp/etcd_000.jsonl"
if "$FL" report "$tmp/etcd_000.jsonl" --model cas-register >"$tmp/out" 2>&1 &&
   [[ -s $tmp/etcd_000.report.html ]]; then
  ok "report HISTORY writes h.report.html beside it"
else
  nok "report HISTORY writes h.report.html beside it"; sed 's/^/  # /' "$tmp/out"
fi
if grep -q 'href="etcd_000.jsonl"' "$tmp/etcd_000.report.html"; then
  ok "the report links the history relatively"
else nok "the report links the history relatively"; fi
"$FL" report "$tmp/etcd_000.jsonl" --model cas-register -o "$tmp/o.html" >/dev/null 2>&1
if [[ -s $tmp/o.html ]]; then ok "report HISTORY -o FILE"; else nok "report HISTORY -o FILE"; fi
"$FL" report "$tmp/missing.jsonl" --model cas-register >/dev/null 2>&1
rc=$?
if [[ $rc -eq 66 ]]; then ok "report of a missing history exits 66"
else nok "report of a missing history exits 66 (got $rc)"; fi

printf '%s\n' '{"process":0,"type":"invoke","f":"write","value":1}' \
  '{"process":1,"type":"invoke","f":"read","value":null}' >"$tmp/pending.jsonl"
if "$FL" report "$tmp/pending.jsonl" --model register >/dev/null 2>&1 &&
   [[ -s $tmp/pending.report.html ]]; then ok "report of a history whose ops never completed"
else nok "report of a history whose ops never completed"; fi

pages=(invalid "$tmp/etcd_000.report.html" "$BUILD/report-invalid.png")

# (a) a real valid run: the local cluster, as tests/cli/test.sh runs it
valid=
if [[ $(id -u) -eq 0 ]] && ip netns list >/dev/null 2>&1 && [[ -x /usr/sbin/sshd ]] &&
   [[ -x $RAFTKV ]] && ! [[ -e /sys/class/net/flbr0 ]]; then
  R=$tmp/results
  if "$FL" test --raftkv "$RAFTKV" --results "$R" --time-limit 8 --nemesis partition \
       --nemesis-interval 3 --seed 3 --test-name html >"$tmp/run.log" 2>&1; then
    ok "a valid raftkv run on the local cluster"
  else
    nok "a valid raftkv run on the local cluster"; tail -5 "$tmp/run.log" | sed 's/^/  # /'
  fi
  valid=$R/latest/report.html
  if [[ -s $valid ]]; then ok "the stored run has report.html"
  else nok "the stored run has report.html"; valid=; fi
  if [[ -n $valid ]] && grep -q 'href="nodes/n1/raftkv.log"' "$valid" &&
     grep -q 'href="test.json"' "$valid" && grep -q 'href="history.jsonl"' "$valid"; then
    ok "report.html links the node logs, test.json and the history"
  else nok "report.html links the node logs, test.json and the history"; fi
  if [[ -n $valid ]] && grep -q '"nemesis":\[\[[0-9]*,[0-9]*,"start-partition' "$valid"; then
    ok "the nemesis periods are in the report's data"
  else nok "the nemesis periods are in the report's data"; fi
else
  echo "ok - a real raftkv run # SKIP needs root, ip netns, sshd, $RAFTKV and no cluster up"
fi
[[ -n $valid ]] && pages=(valid "$valid" "$BUILD/report-valid.png" "${pages[@]}")

mkdir -p "$BUILD"
node "$(dirname "$0")/../browser/report_test.mjs" "${pages[@]}" || failures=$((failures + 1))
exit $((failures > 0))
