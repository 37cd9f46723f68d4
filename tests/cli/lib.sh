# tests/cli/lib.sh: what the CLI test scripts share. Sourced first, from
# the repository's root or anywhere:
#   . "$(dirname "$0")/lib.sh"
# Before sourcing a script may set:
#   LIB_TMP    a mktemp -d template for $tmp (default: mktemp's own)
#   LIB_SHOW   how much a failed check shows of the command's stderr or of
#              the file searched: a command over its lines (default
#              "tail -8")
# It then has:
#   ROOT       the repository's root
#   FL         the faultline binary ($FAULTLINE, default build/faultline),
#              made absolute
#   RAFTKV     raftkv's build ($RAFTKV, default ROOT/$BUILD/raftkv)
#   tmp        a fresh directory, removed at exit (a script whose cluster
#              is its own sets `export FAULTLINE_STATE=$tmp/state`)
#   failures   the number of checks that failed so far; a script ends with
#              `exit $((failures > 0))` or `[[ $failures -eq 0 ]]`
#   cluster_made  set it to 1 once a run may bring up the local cluster:
#              the exit then takes it down (`faultline cluster down`)
#   lib_before_cleanup  a function the script may define: run first at exit
# and the checks, each printing one line that scripts/run-tests.sh counts,
# "ok - NAME" or "not ok - NAME ..." (with what went wrong as "  # " lines):
#   ok NAME, nok NAME
#   check NAME EXIT CMD...   CMD exits EXIT (its stdout in $tmp/out, stderr
#                            in $tmp/err, for the checks after it)
#   exit_is NAME WANT GOT    a status already taken is WANT
#   expect NAME CMD...       CMD succeeds
#   has NAME FILE            FILE exists
#   contains NAME FILE TEXT  FILE has TEXT (a fixed string)
#   lacks NAME FILE TEXT     FILE has no TEXT
#   skip WHY                 the rest cannot run here: "ok - $LIB_RUNS #
#                            SKIP WHY" (set LIB_RUNS to what is skipped,
#                            e.g. "etcd runs"), and exit
#   need_netns               skip unless root with ip netns and sshd
#   need_no_cluster          skip when a faultline cluster is already up
#   await_clients FILE [N]   wait until the run logging to FILE has started
#                            its clients (at most N tenths of a second,
#                            default 600): to act during its timeline
set -u
ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
FL=${FAULTLINE:-build/faultline}
if [[ -d $(dirname "$FL") ]]; then FL=$(cd "$(dirname "$FL")" && pwd)/$(basename "$FL"); fi
RAFTKV=${RAFTKV:-$ROOT/${BUILD:-build}/raftkv}
tmp=$(mktemp -d ${LIB_TMP:+"$LIB_TMP"})
LIB_SHOW=${LIB_SHOW:-tail -8}
LIB_RUNS=${LIB_RUNS:-local cluster runs}
cluster_made=0
failures=0

lib_cleanup() {
  if declare -F lib_before_cleanup >/dev/null; then lib_before_cleanup; fi
  if [[ $cluster_made -eq 1 ]]; then "$FL" cluster down >/dev/null 2>&1; fi
  rm -rf "$tmp"
}
trap lib_cleanup EXIT

ok() { echo "ok - $1"; }
nok() { echo "not ok - $1"; failures=$((failures + 1)); }

# The end of a file, as "  # " lines, as much as LIB_SHOW says.
lib_show() { sed 's/^/  # /' "$1" | $LIB_SHOW; }

check() { # NAME EXPECTED_EXIT CMD...
  local name=$1 want=$2; shift 2
  "$@" >"$tmp/out" 2>"$tmp/err"
  local got=$?
  if [[ $got -eq $want ]]; then ok "$name"; else
    nok "$name (exit $got, wanted $want)"; lib_show "$tmp/err"
  fi
}

expect() { # NAME CMD...: ok when CMD succeeds
  local name=$1; shift
  if "$@"; then ok "$name"; else nok "$name"; fi
}

exit_is() { # NAME WANT GOT
  if [[ $2 -eq $3 ]]; then ok "$1"; else nok "$1 (exit $3, wanted $2)"; fi
}

has() { # NAME FILE
  if [[ -e $2 ]]; then ok "$1"; else nok "$1: $2 missing"; fi
}

contains() { # NAME FILE TEXT
  if grep -qF -- "$3" "$2"; then ok "$1"; else
    nok "$1: \"$3\" not in $(basename "$2")"; lib_show "$2"; fi
}

lacks() { # NAME FILE TEXT
  if ! grep -qF -- "$3" "$2"; then ok "$1"; else
    nok "$1: \"$3\" in $(basename "$2")"; grep -F -- "$3" "$2" | head -3 | sed 's/^/  # /'; fi
}

skip() { echo "ok - $LIB_RUNS # SKIP $1"; exit $((failures > 0)); }

need_netns() {
  [[ $(id -u) -eq 0 ]] || skip "needs root"
  ip netns list >/dev/null 2>&1 && [[ -x /usr/sbin/sshd ]] || skip "needs ip netns and sshd"
}

need_no_cluster() {
  if [[ -e /sys/class/net/flbr0 || -n $(ip netns list 2>/dev/null | grep '^fl-n') ]]; then
    skip "a faultline cluster is already up here"
  fi
}

await_clients() { # ERRFILE [TENTHS]
  local _
  for _ in $(seq "${2:-600}"); do
    grep -q 'clients: [0-9]* threads' "$1" 2>/dev/null && return
    sleep 0.1
  done
}
