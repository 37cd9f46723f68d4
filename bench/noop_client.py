#!/usr/bin/env python3
"""A client that does nothing (bench_harness): ready, then ok for every
operation at once — what the JSON-lines protocol itself costs."""
import sys
sys.stdin.readline()
out = sys.stdout
out.write('{"type":"ready"}\n')
out.flush()
for line in sys.stdin:
    i = line.index('"id":') + 5
    out.write('{"id":%s,"type":"ok","value":null}\n' % line[i:line.index(",", i)])
    out.flush()
