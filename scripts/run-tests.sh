#!/usr/bin/env bash
# Runs each cmocka test binary given as an argument (from the repo root, so
# tests find tests/data and ../shared), then the CLI tests, and prints one
# closing line: "N passed, N failed, N skipped". A skipped test (cmocka's
# skip(), a CLI test's "ok - NAME # SKIP why") counts as skipped only.
set -u
export ASAN_OPTIONS=${ASAN_OPTIONS:-detect_leaks=1:abort_on_error=0}
export UBSAN_OPTIONS=${UBSAN_OPTIONS:-print_stacktrace=1:halt_on_error=1}
export SHARED=${SHARED:-$(cd "$(dirname "$0")/../.." && pwd)/shared}
BUILD=${BUILD:-build}
TEST_TIMEOUT=${TEST_TIMEOUT:-900}

passed=0 failed=0 skipped=0 failures=()
log=$(mktemp)
trap 'rm -f "$log"' EXIT

for t in "$@"; do
  echo "== $t"
  timeout "$TEST_TIMEOUT" "$t" 2>&1 | tee "$log"
  rc=${PIPESTATUS[0]}
  p=$(sed -n 's/^\[  PASSED  \] \([0-9]*\) test.*/\1/p' "$log" | awk '{s+=$1} END {print s+0}')
  f=$(sed -n 's/^\[  FAILED  \] \([0-9]*\) test.*/\1/p' "$log" | awk '{s+=$1} END {print s+0}')
  s=$(sed -n 's/^\[  SKIPPED \] \([0-9]*\) test.*/\1/p' "$log" | awk '{s+=$1} END {print s+0}')
  passed=$((passed + p))
  failed=$((failed + f))
  skipped=$((skipped + s))
  if [[ $rc -ne 0 ]]; then
    [[ $f -eq 0 ]] && failed=$((failed + 1))   # crashed, leaked or timed out
    failures+=("$t (exit $rc)")
  fi
done

for t in tests/cli/*.sh; do
  [[ -e "$t" ]] || continue
  [[ $t == tests/cli/lib.sh ]] && continue   # sourced by the others
  echo "== $t"
  FAULTLINE="$BUILD/asan/faultline" bash "$t" 2>&1 | tee "$log"
  rc=${PIPESTATUS[0]}
  s=$(grep -c '^ok .*# SKIP' "$log"); p=$(grep -c '^ok ' "$log")
  f=$(grep -c '^not ok ' "$log")
  passed=$((passed + p - s)); failed=$((failed + f)); skipped=$((skipped + s))
  if [[ $rc -ne 0 ]]; then
    [[ $f -eq 0 ]] && failed=$((failed + 1))
    failures+=("$t (exit $rc)")
  fi
done

echo
if [[ ${#failures[@]} -gt 0 ]]; then
  printf 'failed: %s\n' "${failures[@]}"
fi
echo "$passed passed, $failed failed, $skipped skipped"
[[ $failed -eq 0 && ${#failures[@]} -eq 0 ]]
