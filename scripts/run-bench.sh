#!/usr/bin/env bash
# Runs each benchmark binary given as an argument, from the repo root (so
# they find ../shared), with a header per benchmark. Benchmarks print their
# own figures and ratios; none of them asserts a time.
set -u
export SHARED=${SHARED:-$(cd "$(dirname "$0")/../.." && pwd)/shared}
status=0
for b in "$@"; do
  echo "== $(basename "$b")"
  "$b" || status=1
  echo
done
# Benchmarks of whole commands (shell).
for b in bench/*.sh; do
  [[ -e $b ]] || continue
  echo "== $(basename "$b")"
  bash "$b" || status=1
  echo
done
exit $status
