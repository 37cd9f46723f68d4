#!/usr/bin/env bash
# Runs each libFuzzer binary for SECONDS, seeded from tests/fuzz/corpus/NAME
# (read-only: new inputs go to a scratch directory, so runs never grow the
# repository). Crashes are saved under $BUILD/fuzz/artifacts.
set -u
seconds=$1; shift
BUILD=${BUILD:-build}
mkdir -p "$BUILD/fuzz/artifacts"
status=0 passed=0 failed=0
for f in "$@"; do
  name=$(basename "$f")
  scratch=$(mktemp -d)
  seeds=tests/fuzz/corpus/$name
  echo "== $name (${seconds}s)"
  if "$f" -max_total_time="$seconds" -timeout=10 -rss_limit_mb=2048 \
       -artifact_prefix="$BUILD/fuzz/artifacts/$name-" -print_final_stats=0 \
       "$scratch" $( [[ -d $seeds ]] && echo "$seeds" ) > "$scratch.log" 2>&1; then
    passed=$((passed + 1))
    tail -n 1 "$scratch.log"
  else
    failed=$((failed + 1)); status=1
    tail -n 40 "$scratch.log"
    echo "fuzzer $name found a failure; reproduce with: $f $BUILD/fuzz/artifacts/$name-*"
  fi
  rm -rf "$scratch" "$scratch.log"
done
echo "fuzz: $passed passed, $failed failed"
exit $status
