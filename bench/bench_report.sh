#!/usr/bin/env bash
# report.html's cost (report/html.h): generation time and file size for
# generated histories of 10k, 100k and 1M operations (`faultline history
# generate`, which records no times, so ticks are event positions), and a
# 1M one with a time on every event (as a stored run has, ~2k ops/s), then
# how long headless Chromium takes to open the 1M reports. Targets: a 1M
# report under 5 s and 20 MB, open in under 3 s. Figures only: nothing
# here asserts a time.
set -u
FL=${FAULTLINE:-${BUILD:-build}/faultline}
tmp=$(mktemp -d /tmp/fl-bench-report.XXXXXX)
trap 'rm -rf "$tmp"' EXIT
ms() { echo $(( ($(date +%s%N) - $1) / 1000000 )); }

gen() { # N OUT
  "$FL" history generate --ops "$1" --keys 100 --processes 10 --info-rate 0.15 --seed 7 "$2"
}

report() { # LABEL HISTORY
  local t0 c0 check_ms report_ms size
  c0=$(date +%s%N)
  "$FL" check --model cas-register "$2" >/dev/null
  check_ms=$(ms "$c0")
  t0=$(date +%s%N)
  "$FL" report "$2" --model cas-register -o "$tmp/$1.html" >/dev/null || { echo "$1: report failed"; return 1; }
  report_ms=$(ms "$t0")
  size=$(stat -c %s "$tmp/$1.html")
  printf '%-14s report %6d ms (check alone %6d ms)  report.html %6.2f MB  (%5.1f bytes/op)\n' \
    "$1" "$report_ms" "$check_ms" "$(echo "$size / 1048576" | bc -l)" "$(echo "$size / $3" | bc -l)"
}

for n in 10000 100000 1000000; do
  gen "$n" "$tmp/h$n.jsonl"
  report "${n}-ops" "$tmp/h$n.jsonl" "$n"
done
# The same 1M history with times: invocations 500 us apart, latencies
# of 0.3-20 ms, as a stored run records them.
python3 - "$tmp/h1000000.jsonl" "$tmp/t1000000.jsonl" <<'PY'
import json, random, sys
random.seed(7)
inv = {}
with open(sys.argv[1]) as f, open(sys.argv[2], "w") as out:
    t = 0
    for line in f:
        e = json.loads(line)
        t += 250_000
        if e["type"] == "invoke":
            inv[e["process"]] = t
            e["time"] = t
        else:
            e["time"] = max(t, inv.pop(e["process"], t) + int(random.lognormvariate(14, 1)))
            t = max(t, e["time"]) if random.random() < 0.01 else t
        out.write(json.dumps(e, separators=(",", ":")) + "\n")
PY
report "1000000-timed" "$tmp/t1000000.jsonl" 1000000

if [[ -x ${CHROMIUM:-/usr/bin/chromium} ]] && command -v node >/dev/null; then
  node "$(dirname "$0")/report_open.mjs" "$tmp/1000000-ops.html" 3
  node "$(dirname "$0")/report_open.mjs" "$tmp/1000000-timed.html" 3
else
  echo "opening in Chromium: not measured (no chromium or node: make deps)"
fi
