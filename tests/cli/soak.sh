#!/usr/bin/env bash
# The short soak (bench/soak.sh, issue 21): two back-to-back runs of 10 s
# on the local cluster with every fault kind under two CPU hogs, the first
# with an outside kill -9 of a raftkv. Checks behaviour only: no hang, no
# dead man's switch firing under the live controller, the outside kill
# detected and no crash reported without one. Takes the machine's queue
# lock per run (bench/soak.sh); skips where the local cluster cannot run.
set -u
cd "$(dirname "$0")/../.."
state=$(mktemp -d /tmp/fl-soak-state.XXXXXX)
trap 'rm -rf "$state"' EXIT
SOAK_RUNS=${SOAK_RUNS:-2} SOAK_SECONDS=${SOAK_SECONDS:-10} SOAK_CHECK=1 \
  SOAK_STATE=$state/state bash bench/soak.sh
