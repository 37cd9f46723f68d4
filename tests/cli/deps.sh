#!/usr/bin/env bash
# CLI tests of scripts/deps.sh with fake package tools on PATH (nothing is
# installed): a fresh install of a package with a host service never
# starts it (policy-rc.d forbids it during the install, whatever policy the
# machine had, and that policy is put back), and its units are disabled
# and stopped; services of packages that were already installed are left
# alone. Prints "ok - NAME" / "not ok - NAME".
LIB_TMP=/tmp/fl-deps.XXXXXX
. "$(dirname "$0")/lib.sh"
root=$ROOT
expect() { # NAME CONDITION...
  local name=$1; shift
  if "$@"; then ok "$name"; else nok "$name"; fi
}

mkdir -p "$tmp/bin" "$tmp/init.d"
log=$tmp/calls.log
# dpkg-query: every package installed except those in $MISSING.
cat >"$tmp/bin/dpkg-query" <<'SH'
#!/bin/sh
for p in $MISSING; do [ "$p" = "$3" ] && exit 1; done
printf 'install ok installed'
SH
# apt-get: records what policy-rc.d answers at install time.
cat >"$tmp/bin/apt-get" <<'SH'
#!/bin/sh
if [ "$1" = install ]; then
  sh "$POLICY_RC_D" ssh start; echo "apt-get install: policy exit $?" >>"$LOG"
fi
SH
for t in systemctl update-rc.d; do
  printf '#!/bin/sh\necho "%s $*" >>"$LOG"\n' "$t" >"$tmp/bin/$t"
done
printf '#!/bin/sh\necho 0\n' >"$tmp/bin/id"
printf '#!/bin/sh\necho "init.d/ssh $*" >>"$LOG"\n' >"$tmp/init.d/ssh"
chmod +x "$tmp/bin/"* "$tmp/init.d/ssh"

run_deps() { # MISSING POLICY_CONTENT_OR_EMPTY
  rm -f "$log" "$tmp/policy-rc.d"; touch "$log"
  [[ -n $2 ]] && printf '%s\n' "$2" >"$tmp/policy-rc.d"
  PATH=$tmp/bin:$PATH MISSING=$1 LOG=$log POLICY_RC_D=$tmp/policy-rc.d \
    INIT_D=$tmp/init.d bash "$root/scripts/deps.sh" >"$tmp/out" 2>&1
}

# A machine whose policy-rc.d allows everything (exit 0).
run_deps openssh-server $'#!/bin/sh\nexit 0'
expect "fresh sshd: install runs with policy-rc.d forbidding starts" \
  grep -q 'apt-get install: policy exit 101' "$log"
expect "fresh sshd: ssh.service disabled and stopped" \
  grep -q 'systemctl disable --now --quiet ssh.service' "$log"
expect "fresh sshd: ssh.socket disabled and stopped" \
  grep -q 'systemctl disable --now --quiet ssh.socket' "$log"
expect "fresh sshd: the sysv script is disabled and stopped too" \
  grep -q 'init.d/ssh stop' "$log"
expect "the machine's own policy-rc.d is put back" \
  grep -q 'exit 0' "$tmp/policy-rc.d"

# No policy-rc.d at all: ours is removed afterwards.
run_deps etcd-server ""
expect "fresh etcd: install runs with policy-rc.d forbidding starts" \
  grep -q 'apt-get install: policy exit 101' "$log"
expect "fresh etcd: etcd.service disabled and stopped" \
  grep -q 'systemctl disable --now --quiet etcd.service' "$log"
expect "no policy-rc.d before: none after" test ! -e "$tmp/policy-rc.d"

# Only a library is missing: the host's sshd (installed before) is untouched.
run_deps libcmocka-dev ""
expect "already-installed sshd is left alone" \
  bash -c "! grep -q 'ssh' '$log'"

# Nothing missing: nothing runs.
run_deps "" ""
expect "nothing missing: no install" test ! -s "$log"

exit $((failures > 0))
