#!/usr/bin/env bash
# Runs each benchmark binary given as an argument (from the repo root) and
# prints its output; exits non-zero if any benchmark failed.
set -u
rc=0
for b in "$@"; do
  echo "== $b"
  "$b" || { echo "$b: exit $?"; rc=1; }
done
exit $rc
