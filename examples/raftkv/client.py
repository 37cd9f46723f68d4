#!/usr/bin/env python3
"""A faultline client for raftkv in Python (standard library only).

faultline writes one JSON line per operation on stdin and reads one
completion per line on stdout (docs/any-database.md). raftkv's HTTP API:
GET /kv/K -> 200 {"value": V} | 404 {"error": "not found"};
PUT /kv/K {"value": V[, "prev": OLD]} -> 200 {"ok": true} | 412;
421 {"error": "not leader", "leader": "HOST:PORT"}; 503 no leader; 504.
"""
import http.client, json, socket, sys

hello = json.loads(sys.stdin.readline())
nodes = {f'{n["addr"]}:{hello["port"]}' for n in hello["nodes"]}
home = f'{hello["addr"]}:{hello["port"]}'


class NotSent(Exception):
    pass


def call(method, key, body=None, hostport=home, hops=1):
    """One request; a 421's leader hint (one of our nodes) followed once."""
    host, port = hostport.rsplit(":", 1)
    conn = http.client.HTTPConnection(host, int(port), timeout=2.5)
    try:
        conn.connect()
    except OSError as e:
        raise NotSent(str(e))
    try:
        conn.request(method, f"/kv/{key}", body and json.dumps(body),
                     {"Content-Type": "application/json"})
        r = conn.getresponse()
        status, text = r.status, r.read()
    finally:
        conn.close()
    try:
        answer = json.loads(text)
    except ValueError:
        answer = None
    hint = answer.get("leader") if isinstance(answer, dict) else None
    if status == 421 and hops and hint in nodes and hint != hostport:
        return call(method, key, body, hint, hops - 1)
    return status, answer


def perform(op):
    f, key, value = op["f"], op["key"], op["value"]
    read = f == "read"
    body = None if read else {"value": value} if f == "write" else \
        {"value": value[1], "prev": value[0]}
    try:
        status, answer = call("GET" if read else "PUT", key, body)
    except NotSent as e:
        return {"type": "fail", "error": f"no connection: {e}"}
    except (OSError, http.client.HTTPException) as e:   # sent: may have happened
        return {"type": "fail" if read else "info", "error": f"lost: {e}"}
    ours = isinstance(answer, dict)
    if status == 200 and ours and ("value" in answer if read
                                   else answer.get("ok") is True):
        return {"type": "ok", "value": answer.get("value")}
    if status == 404 and read and answer == {"error": "not found"}:
        return {"type": "ok", "value": None}
    if status in (412, 421, 503) and ours:
        return {"type": "fail", "error": answer.get("error")}
    definite = read or (400 <= status < 500 and ours)
    return {"type": "fail" if definite else "info", "error": f"status {status}"}


def add(key, element):
    """The set's add as read-modify-write: a read, then a put conditional
    on what was read; an uncertain put is settled by the next read."""
    uncertain = False
    for _ in range(20):
        now = perform({"f": "read", "key": key, "value": None})
        if now["type"] != "ok":
            break
        current = now["value"]
        if current is not None and element in current:
            return {"type": "ok"}                  # an uncertain put landed
        body = {"value": [element], "create": True} if current is None else \
            {"value": current + [element], "prev": current}
        try:
            status, answer = call("PUT", key, body)
        except NotSent:
            continue
        except (OSError, http.client.HTTPException):
            uncertain = True
            continue
        if status == 200:
            return {"type": "ok"}
        uncertain |= status not in (412, 421, 503)
    return {"type": "info" if uncertain else "fail", "error": "add gave up"}


print(json.dumps({"type": "ready"}), flush=True)
for line in sys.stdin:
    op = json.loads(line)
    done = add(op["key"], op["value"]) if op["f"] == "add" else perform(op)
    print(json.dumps({"id": op["id"], **done}), flush=True)
