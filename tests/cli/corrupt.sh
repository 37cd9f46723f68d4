#!/usr/bin/env bash
# The file-corruption faults (bitflip, truncate, snapshot) on 3 nodes of
# the local cluster (its own, or one already up; root, `ip netns`, sshd,
# build/raftkv, build/faultline-corrupt):
#   * usage: an option out of range is refused, and so is a corruption
#     with --db existing (its files are the user's; exit 64), before
#     anything runs;
#   * copies an earlier run left on a node (a snapshot's saved copy) are
#     removed by the rest at the start and recorded in test.json's
#     found_at_start;
#   * one bounded run of raftkv under all three kinds is judged (exit 0 or
#     1, with results.json), and its history records what each fault did
#     on n3 (the only node of 3 they may touch): the file and the bits
#     flipped or the bytes cut, or the snapshot restored, and whether the
#     database served again afterwards;
#   * afterwards no node keeps a copy, an undo file or the helper.
# Prints "ok - NAME" / "not ok - NAME"; exits non-zero on any failure.
LIB_TMP=/tmp/fl-corrupt-cli.XXXXXX
LIB_RUNS="corruption runs"
. "$(dirname "$0")/lib.sh"
export FAULTLINE_STATE=$tmp/state
NODE_DIR=/var/lib/faultline-node
# jq -e over FILE, quietly: a check's condition.
jqs() { jq -se "$1" "$2" >/dev/null 2>&1; }   # the history, slurped
jq1() { jq -e "$1" "$2" >/dev/null 2>&1; }    # one JSON document

check "--bitflip-bits 0 is a usage error" 64 \
  "$FL" test --target raftkv --nemesis bitflip --bitflip-bits 0
contains "the message names the option" "$tmp/err" "--bitflip-bits"
echo "n1 127.0.0.1" >"$tmp/nodes"
check "truncate on an existing database is refused, commands or not" 64 \
  "$FL" test --target raftkv --db existing --nodes-file "$tmp/nodes" \
  --ssh-key /dev/null --kill-cmd true --start-cmd true --nemesis truncate
contains "the message says why" "$tmp/err" "--db managed"

need_netns
[[ -x $RAFTKV ]] || skip "no raftkv build at $RAFTKV"

R=$tmp/results
# A cluster already up (under the queue lock, nobody else's run uses it)
# is used as it is, its first 3 nodes, and left up; else one is made and
# taken down at the end.
if [[ -e /sys/class/net/flbr0 || -n $(ip netns list 2>/dev/null | grep '^fl-n') ]]; then
  echo "# using the local cluster that is already up (its state: the default)"
  unset FAULTLINE_STATE
else
  cluster_made=1
  check "cluster up" 0 "$FL" cluster up --nodes 3
fi
# What a run that died mid-fault would leave: a saved snapshot and an
# undo copy.
mkdir -p $NODE_DIR/n3/snapshot.saved $NODE_DIR/n3/bitflip.undo
date +%s >$NODE_DIR/n3/snapshot.saved.time

check "raftkv under bitflip,truncate,snapshot for 20 s: judged" 0 \
  bash -c "'$FL' test --target raftkv --raftkv '$RAFTKV' --nodes 3 \
    --results '$R' --keep-cluster --nemesis bitflip,truncate,snapshot \
    --bitflip-bits 4 --time-limit 20 --nemesis-interval 2 --seed 11 \
    --test-name corrupt; [ \$? -le 1 ]"
has "results.json was written" "$R/latest/results.json"
expect "test.json's found_at_start has n3's leftovers" \
  jq1 '.found_at_start.n3.faults.snapshot == 2 and
         .found_at_start.n3.faults.bitflip == 1' "$R/latest/test.json"
H=$R/latest/history.jsonl
# The beginnings' completions: what was corrupted, on n3 only.
expect "a bitflip recorded its file and flipped bits" \
  jqs 'any(.[]; .f == "bitflip" and .value.did.n3.file != null and
                   (.value.did.n3.flips | length) == 4)' "$H"
expect "a truncate recorded its file and the bytes cut" \
  jqs 'any(.[]; .f == "truncate" and .value.did.n3.cut == 64)' "$H"
expect "a snapshot recorded whether it restored a copy" \
  jqs 'any(.[]; .f == "restore-snapshot" and
                   (.value.did.n3.restored | type) == "boolean")' "$H"
expect "no fault touched n1 or n2" \
  jqs 'all(.[]; .process != "nemesis" or .value.did == null or
                   (.value.did | has("n1") or has("n2") | not))' "$H"
# The ends' completions: did the database serve again (after a repair
# when it refused)?
expect "every end says whether the database served again" \
  jqs '[.[] | select(.f | IN("bitflip-start", "truncate-start",
                                 "snapshot-start"))
               | select(.value.did != null) | .value.did.n3.serving]
          | length > 0 and all(. == true)' "$H"

left=""
for i in 1 2 3; do
  for f in bitflip.undo truncate.undo snapshot.undo snapshot.saved \
           snapshot.saved.time faultline-corrupt; do
    [[ -e $NODE_DIR/n$i/$f ]] && left="$left n$i/$f"
  done
done
if [[ -z $left ]]; then ok "no copy, undo or helper left on the nodes"
else nok "left on the nodes:$left"; fi

if [[ $cluster_made -eq 1 ]]; then
  check "cluster down" 0 "$FL" cluster down
  cluster_made=0
fi
exit $((failures > 0))
