#!/usr/bin/env bash
# The CI recipe (README, "A CI recipe"): run one `faultline test` and
# publish what a CI job shows — report.html (when this build writes it),
# summary.md, junit.xml — plus the whole run directory as a tarball.
#
#   scripts/ci-recipe.sh [faultline test options...]
#   e.g. scripts/ci-recipe.sh --time-limit 30 --nemesis partition,kill
#
# Environment:
#   FAULTLINE  the binary (default build/faultline, as `make` builds it)
#   RESULTS    where runs are stored (default results; passed as --results)
#   PUBLISH    where the files to publish are copied (default ci-artifacts):
#              report.html, summary.md, junit.xml, results.json, test.json,
#              run.tar.gz (the run directory: history, node logs, ...)
#
# Exit: faultline test's own code, so that the job fails unless the
# history is valid: 0 valid, 1 invalid, 2 unknown (a checker's budget ran
# out: not shown wrong, not shown right), 3 could not run or could not be
# trusted (no cluster, a node unreachable, a dead man's switch fired), 64
# bad options. The files are published whatever the verdict.
set -u
FL=${FAULTLINE:-build/faultline}
RESULTS=${RESULTS:-results}
PUBLISH=${PUBLISH:-ci-artifacts}
mkdir -p "$RESULTS" "$PUBLISH" || exit 3

# This run's directory is the one made after the marker: results/latest
# is not moved by a run that could not start, and would name an old one.
marker=$(mktemp)
trap 'rm -f "$marker"' EXIT
"$FL" test --results "$RESULTS" "$@"
rc=$?
run=$(find "$RESULTS" -mindepth 2 -maxdepth 2 -type d -newer "$marker" | sort | tail -1)

case $rc in
  0) verdict="valid" ;;
  1) verdict="INVALID: the database broke its consistency model" ;;
  2) verdict="unknown: a checker's budget ran out" ;;
  3) verdict="could not run (or could not be trusted): see the log above" ;;
  64) verdict="bad options" ;;
  *) verdict="exit $rc" ;;
esac
echo "ci-recipe: faultline test: $verdict (exit $rc)"
if [[ -z $run ]]; then
  echo "ci-recipe: no run directory was made under $RESULTS; nothing to publish"
  exit "$rc"
fi
echo "ci-recipe: run directory $run"

for f in report.html summary.md junit.xml results.json test.json; do
  if [[ -f $run/$f ]]; then cp "$run/$f" "$PUBLISH/"; echo "ci-recipe: published $PUBLISH/$f"; fi
done
tar -C "$(dirname "$run")" -czf "$PUBLISH/run.tar.gz" "$(basename "$run")" &&
  echo "ci-recipe: published $PUBLISH/run.tar.gz"
if [[ -f $run/summary.md ]]; then
  echo "---- summary.md"
  cat "$run/summary.md"
else
  echo "ci-recipe: the run was not checked (no summary.md): see $run/faultline.log"
fi
exit "$rc"
