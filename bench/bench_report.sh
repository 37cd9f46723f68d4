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

gen() { # N OUT
  "$FL" history generate --ops "$1" --keys 100 --processes 10 --info-rate 0.15 --seed 7 "$2"
}

# LABEL HISTORY OPS: `faultline report HISTORY` (check with both checkers,
# then write), and `faultline report RUN_DIR` on a run dir holding the
# history and its results.json (the report's own cost: read the history,
# lay it out, write the page), each as wall and user CPU seconds (the
# machine is shared: CPU time is the steadier figure).
report() {
  local d=$tmp/$1.run
  /usr/bin/time -f '%e %U' -o "$tmp/t" "$FL" report "$2" --model cas-register \
    -o "$tmp/$1.html" >/dev/null || { echo "$1: report failed"; return 1; }
  read -r hw hu <"$tmp/t"
  mkdir -p "$d" && cp "$2" "$d/history.jsonl"
  "$FL" check --model cas-register --consistency linearizable "$2" >"$tmp/c.json"
  python3 -c 'import json,sys; c=json.load(open(sys.argv[1])); json.dump({"valid": c["valid"], "workload": "register", "checkers": {"linearizable": c}}, open(sys.argv[2], "w"))' \
    "$tmp/c.json" "$d/results.json"
  /usr/bin/time -f '%e %U' -o "$tmp/t" "$FL" report "$d" >/dev/null
  read -r dw du <"$tmp/t"
  local size
  size=$(stat -c %s "$d/report.html")
  printf '%-14s report RUN_DIR %5.2f s (cpu %5.2f)  report HISTORY (checks too) %5.2f s (cpu %5.2f)  report.html %6.2f MB (%4.1f bytes/op)\n' \
    "$1" "$dw" "$du" "$hw" "$hu" "$(echo "$size / 1048576" | bc -l)" "$(echo "$size / $3" | bc -l)"
  cp "$d/report.html" "$tmp/$1.html"
}

for n in 10000 100000 1000000; do
  gen "$n" "$tmp/h$n.jsonl"
  report "${n}-ops" "$tmp/h$n.jsonl" "$n"
done
# The same 1M history with times, as a stored run records them: events
# about 250 us apart, rising in line order, now and then a pause of 0.2 s.
python3 - "$tmp/h1000000.jsonl" "$tmp/t1000000.jsonl" <<'PY'
import json, random, sys
random.seed(7)
t = 0
with open(sys.argv[1]) as f, open(sys.argv[2], "w") as out:
    for line in f:
        e = json.loads(line)
        t += int(random.expovariate(1 / 250_000)) + 1
        if random.random() < 1e-4:
            t += 200_000_000
        e["time"] = t
        out.write(json.dumps(e, separators=(",", ":")) + "\n")
PY
report "1000000-timed" "$tmp/t1000000.jsonl" 1000000

if [[ -x ${CHROMIUM:-/usr/bin/chromium} ]] && command -v node >/dev/null; then
  node "$(dirname "$0")/report_open.mjs" "$tmp/1000000-ops.html" 3
  node "$(dirname "$0")/report_open.mjs" "$tmp/1000000-timed.html" 3
else
  echo "opening in Chromium: not measured (no chromium or node: make deps)"
fi
