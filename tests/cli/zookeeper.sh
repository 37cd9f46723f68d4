#!/usr/bin/env bash
# CLI tests of the ZooKeeper target (targets/clients/zookeeper.h): its
# options, then — as root, with `ip netns`, sshd, java and Debian's
# zookeeper — bounded real runs on the local cluster (brought up if
# needed, torn down by faultline if it brought it up):
#   * the set workload under partitions and kills for 15 s: valid (no
#     acknowledged add lost) — asserted;
#   * the register workload under partitions for 15 s, --read-mode plain
#     and sync: the verdict and what the counterexample shows are printed
#     as "# ..." lines, not asserted (ZooKeeper documents plain reads as
#     possibly stale; whether a 15 s run catches one is chance), only that
#     each run completes with a verdict (exit 0 or 1);
#   * nothing of ZooKeeper is left running afterwards.
# Prints "ok - NAME" / "not ok - NAME"; exits non-zero on any failure.
LIB_TMP=/tmp/fl-test-zk.XXXXXX
. "$(dirname "$0")/lib.sh"

# ---- options -------------------------------------------------------------------
check "--target zookeeper --help succeeds" 0 "$FL" test --target zookeeper --help
if grep -q -- "--read-mode" "$tmp/out" "$tmp/err"; then ok "help lists --read-mode"
else nok "help lists --read-mode"; fi
check "--read-mode other than plain|sync is a usage error" 64 \
  "$FL" test --target zookeeper --read-mode linearizable
check "a zookeeper option is not raftkv's" 64 "$FL" test --read-mode sync

# ---- real runs ------------------------------------------------------------------
LIB_RUNS="zookeeper local cluster runs"
need_netns
[[ -x /usr/bin/java && -r /usr/share/java/zookeeper.jar ]] ||
  skip "needs java and Debian's zookeeper (make deps)"

R=$tmp/results
run() { "$FL" test --target zookeeper --results "$R" "$@"; }

check "set workload, partition,kill for 15 s, is valid" 0 run --workload set \
  --time-limit 15 --nemesis partition,kill --nemesis-interval 3 \
  --test-name zk-set
L=$R/latest
if grep -q '"f":"add"' "$L/history.jsonl" &&
   grep -q '"type":"ok","f":"read","key":0,"value":\[' "$L/history.jsonl"
then ok "set run recorded adds and a final read of key 0"
else nok "set run recorded adds and a final read of key 0"; fi
for f in nodes/n1/zookeeper.log nodes/n1/zoo.cfg; do
  if [[ -s $L/$f ]]; then ok "run stored $f"; else nok "run stored $f"; fi
done
python3 - "$L/results.json" <<'PY' | sed 's/^/# /'
import json, sys
r = json.load(open(sys.argv[1]))
s = r.get("checkers", {}).get("set", r)
print("set: valid %s, lost %s, ok adds %s" % (s.get("valid"), s.get("lost_count"),
      s.get("ok_count", s.get("acknowledged_count"))))
PY

# Verdicts (linearizable, sequential, the anomaly) and counterexample of
# the stored run $1, as "# " lines: reported, not asserted.
report() {
  python3 - "$1/results.json" "$2" <<'PY' | sed 's/^/# /'
import json, sys
r = json.load(open(sys.argv[1]))
lin = r.get("checkers", {}).get("linearizable", r)
sc = r.get("checkers", {}).get("sequential", {})
print("register, read mode %s: linearizable %s; sequential %s; anomaly %s%s"
      % (sys.argv[2], lin.get("valid"), sc.get("sequential", {}).get("valid"),
         sc.get("anomaly"), " (%s)" % sc["anomaly_kind"] if sc.get("anomaly_kind") else ""))
ce = lin.get("counterexample")
if ce:
    op = ce.get("op", {})
    print("  counterexample: process %s %s -> %s (key %s); states then: %s"
          % (op.get("process"), op.get("f"), op.get("output", op.get("value")), ce.get("key"),
             ce.get("states")))
PY
}

for mode in plain sync; do
  run --time-limit 15 --nemesis partition --nemesis-interval 3 \
    --read-mode $mode --test-name zk-register-$mode >"$tmp/out" 2>"$tmp/err"
  rc=$?
  if [[ $rc -eq 0 || $rc -eq 1 ]]; then ok "register, --read-mode $mode, partition for 15 s: a verdict (exit $rc)"
  else nok "register, --read-mode $mode, partition for 15 s: a verdict (exit $rc)"
    sed 's/^/  # /' "$tmp/err" | tail -8; fi
  [[ -e $R/latest/results.json ]] && report "$R/latest" $mode
  if python3 -c "import json,sys; t=json.load(open('$R/latest/test.json')); sys.exit(0 if t['target_options'].get('read-mode') == '$mode' else 1)"
  then ok "test.json records --read-mode $mode"
  else nok "test.json records --read-mode $mode"; fi
done

if pgrep -f "^[^ ]*java -Dfaultline.dir=" >/dev/null; then
  nok "no ZooKeeper left running"
else ok "no ZooKeeper left running"; fi

exit $((failures > 0))
