#!/usr/bin/env bash
# What powerfs costs one database server, without the cluster (which
# other runs may hold): a single raftkv (build/raftkv) and a single etcd
# (/usr/bin/etcd, if installed) on loopback, their data directory on the
# plain disk and on powerfs (build/faultline-powerfs, strict names, never
# cut), BENCH_POWERFS_PAIRS (default 3) interleaved pairs of
# BENCH_POWERFS_SECONDS (default 8) s of writes from 4 client threads
# (python3, one keep-alive connection each), plain first in odd pairs,
# with the load average before each pair. Needs root, /dev/fuse and
# fusermount3; skips otherwise. Figures only: nothing here asserts.
set -u
ROOT=$(cd "$(dirname "$0")/.." && pwd)
PFS=$ROOT/build/faultline-powerfs RAFTKV=$ROOT/build/raftkv
PAIRS=${BENCH_POWERFS_PAIRS:-3} SECS=${BENCH_POWERFS_SECONDS:-8}
if [[ $(id -u) -ne 0 || ! -x $PFS || ! -c /dev/fuse ]] ||
   ! command -v fusermount3 >/dev/null || ! command -v python3 >/dev/null; then
  echo "bench_powerfs_local: skipped (needs root, /dev/fuse, fusermount3, python3 and build/faultline-powerfs)"
  exit 0
fi
tmp=$(mktemp -d /tmp/fl-bench-powerfs.XXXXXX)
pid=
cleanup() {
  [[ -n $pid ]] && kill -9 "$pid" 2>/dev/null
  fusermount3 -u "$tmp/data" 2>/dev/null
  rm -rf "$tmp"
}
trap cleanup EXIT

# Writes per second: PORT PATH BODY (a %d in either: a counter).
writes() {
  python3 - "$SECS" "$@" <<'EOF'
import http.client, sys, threading, time
secs, port, path, body = float(sys.argv[1]), int(sys.argv[2]), sys.argv[3], sys.argv[4]
done = [0] * 4
def client(i):
    c = http.client.HTTPConnection('127.0.0.1', port, timeout=5)
    end, n = time.time() + secs, 0
    while time.time() < end:
        c.request('PUT' if path.startswith('/kv') else 'POST',
                  path % (n % 100) if '%d' in path else path,
                  body % n if '%d' in body else body)
        r = c.getresponse(); r.read()
        n += r.status == 200
    done[i] = n
ts = [threading.Thread(target=client, args=(i,)) for i in range(4)]
[t.start() for t in ts]; [t.join() for t in ts]
print(int(sum(done) / secs))
EOF
}

# One run: TARGET plain|powerfs; prints writes per second.
one() {
  rm -rf "$tmp/data" "$tmp/backing"; mkdir -p "$tmp/data" "$tmp/backing"
  if [[ $2 == powerfs ]]; then
    "$PFS" mount "$tmp/backing" "$tmp/data" "$tmp/sock" || { echo 0; return; }
  fi
  local port ready path body
  case $1 in
  raftkv)
    "$RAFTKV" --id 1 --listen 127.0.0.1:27990 --peers 1=127.0.0.1:27990 \
      --data-dir "$tmp/data" --client-port 28990 >"$tmp/log" 2>&1 &
    port=28990 ready=/status path=/kv/k%d body='{"value": %d}' ;;
  etcd)
    etcd --name b1 --data-dir "$tmp/data" \
      --listen-client-urls http://127.0.0.1:23990 \
      --advertise-client-urls http://127.0.0.1:23990 \
      --listen-peer-urls http://127.0.0.1:23991 \
      --initial-advertise-peer-urls http://127.0.0.1:23991 \
      --initial-cluster b1=http://127.0.0.1:23991 >"$tmp/log" 2>&1 &
    # key "k", value "v" (base64)
    port=23990 ready=/health path=/v3/kv/put body='{"key": "aw==", "value": "dg=="}' ;;
  esac
  pid=$!
  for _ in $(seq 100); do
    curl -s -m 1 "http://127.0.0.1:$port$ready" | grep -q 'leader\|true' && break
    sleep 0.1
  done
  writes "$port" "$path" "$body"
  kill -9 "$pid" 2>/dev/null; wait "$pid" 2>/dev/null; pid=
  [[ $2 == powerfs ]] && fusermount3 -u "$tmp/data"
}

uptime
targets=raftkv
command -v etcd >/dev/null && targets="raftkv etcd"
for t in $targets; do
  for i in $(seq "$PAIRS"); do
    load=$(cut -d' ' -f1-3 /proc/loadavg)
    if ((i % 2)); then p=$(one "$t" plain); f=$(one "$t" powerfs)
    else f=$(one "$t" powerfs); p=$(one "$t" plain); fi
    awk -v t="$t" -v p="$p" -v f="$f" -v i="$i" -v l="$load" 'BEGIN {
      printf "%s pair %d (load %s): plain disk %d writes/s, powerfs %d writes/s (%.2fx)\n",
             t, i, l, p, f, p ? f / p : 0 }'
  done
done
echo "(one server on loopback, 4 client threads, ${SECS} s each; powerfs strict, never cut)"
uptime
