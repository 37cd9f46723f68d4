#!/usr/bin/env bash
# The file-corruption faults (bitflip, truncate, snapshot) on a private
# 3-node local cluster (root, `ip netns`, sshd, build/raftkv,
# build/faultline-corrupt):
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
set -u
FL=${FAULTLINE:-build/faultline}
FL=$(cd "$(dirname "$FL")" && pwd)/$(basename "$FL")
RAFTKV=${RAFTKV:-$(cd "$(dirname "$0")/../.." && pwd)/${BUILD:-build}/raftkv}
NODE_DIR=/var/lib/faultline-node
tmp=$(mktemp -d /tmp/fl-corrupt-cli.XXXXXX)
export FAULTLINE_STATE=$tmp/state
cluster_made=0
cleanup() {
  if [[ $cluster_made -eq 1 ]]; then "$FL" cluster down >/dev/null 2>&1; fi
  rm -rf "$tmp"
}
trap cleanup EXIT
failures=0
ok() { echo "ok - $1"; }
nok() { echo "not ok - $1"; failures=$((failures + 1)); }
expect() { # NAME CMD...
  local name=$1; shift
  if "$@" >/dev/null 2>&1; then ok "$name"; else nok "$name"; fi
}

check() { # NAME EXPECTED_EXIT CMD...
  local name=$1 want=$2; shift 2
  "$@" >"$tmp/out" 2>"$tmp/err"
  local got=$?
  if [[ $got -eq $want ]]; then ok "$name"; else
    nok "$name (exit $got, wanted $want)"; sed 's/^/  # /' "$tmp/err" | tail -8
  fi
}

check "--bitflip-bits 0 is a usage error" 64 \
  "$FL" test --target raftkv --nemesis bitflip --bitflip-bits 0
grep -q -- "--bitflip-bits" "$tmp/err" && ok "the message names the option" \
  || nok "the message names the option"
echo "n1 127.0.0.1" >"$tmp/nodes"
check "truncate on an existing database is refused, commands or not" 64 \
  "$FL" test --target raftkv --db existing --nodes-file "$tmp/nodes" \
  --ssh-key /dev/null --kill-cmd true --start-cmd true --nemesis truncate
grep -q -- "--db managed" "$tmp/err" && ok "the message says why" \
  || nok "the message says why"

skip() { echo "ok - corruption runs # SKIP $1"; exit $((failures > 0)); }
[[ $(id -u) -eq 0 ]] || skip "needs root"
ip netns list >/dev/null 2>&1 && [[ -x /usr/sbin/sshd ]] || skip "needs ip netns and sshd"
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
expect "results.json was written" test -s "$R/latest/results.json"
expect "test.json's found_at_start has n3's leftovers" \
  jq -e '.found_at_start.n3.faults.snapshot == 2 and
         .found_at_start.n3.faults.bitflip == 1' "$R/latest/test.json"
H=$R/latest/history.jsonl
# The beginnings' completions: what was corrupted, on n3 only.
expect "a bitflip recorded its file and flipped bits" \
  jq -se 'any(.[]; .f == "bitflip" and .value.did.n3.file != null and
                   (.value.did.n3.flips | length) == 4)' "$H"
expect "a truncate recorded its file and the bytes cut" \
  jq -se 'any(.[]; .f == "truncate" and .value.did.n3.cut == 64)' "$H"
expect "a snapshot recorded whether it restored a copy" \
  jq -se 'any(.[]; .f == "restore-snapshot" and
                   (.value.did.n3.restored | type) == "boolean")' "$H"
expect "no fault touched n1 or n2" \
  jq -se 'all(.[]; .process != "nemesis" or .value.did == null or
                   (.value.did | has("n1") or has("n2") | not))' "$H"
# The ends' completions: did the database serve again (after a repair
# when it refused)?
expect "every end says whether the database served again" \
  jq -se '[.[] | select(.f | IN("bitflip-start", "truncate-start",
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
