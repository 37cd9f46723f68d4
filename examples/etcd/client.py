#!/usr/bin/env python3
"""A faultline client for etcd in Python (standard library only), over
etcd's v3 JSON gateway: POST /v3/kv/range, /v3/kv/put, /v3/kv/txn with
base64 keys and values (docs/any-database.md). Usage: client.py READ_MODE
(linearizable or serializable)."""
import base64, http.client, json, sys

hello = json.loads(sys.stdin.readline())
serializable = sys.argv[1:] == ["serializable"]


def b64(text):
    return base64.b64encode(text.encode()).decode()


class NotSent(Exception):
    pass


def post(path, body):
    conn = http.client.HTTPConnection(hello["addr"], hello["port"], timeout=2.5)
    try:
        conn.connect()
    except OSError as e:
        raise NotSent(str(e))
    try:
        conn.request("POST", path, json.dumps(body))
        r = conn.getresponse()
        return r.status, json.loads(r.read() or b"null")
    finally:
        conn.close()


def perform(op):
    f, key = op["f"], b64(str(op["key"]))
    read = f == "read"
    if read:
        path, body = "/v3/kv/range", {"key": key, "serializable": serializable}
    elif f == "write":
        path, body = "/v3/kv/put", {"key": key, "value": b64(json.dumps(op["value"]))}
    else:
        old, new = (b64(json.dumps(v)) for v in op["value"])
        path, body = "/v3/kv/txn", {
            "compare": [{"key": key, "target": "VALUE", "result": "EQUAL", "value": old}],
            "success": [{"request_put": {"key": key, "value": new}}]}
    try:
        status, answer = post(path, body)
    except NotSent as e:
        return {"type": "fail", "error": f"no connection: {e}"}
    except (OSError, ValueError, http.client.HTTPException) as e:
        return {"type": "fail" if read else "info", "error": f"lost: {e}"}
    if status == 200 and isinstance(answer, dict) and "header" in answer:
        if read:
            kvs = answer.get("kvs") or []
            value = base64.b64decode(kvs[0].get("value", "")) if kvs else None
            return {"type": "ok", "value": json.loads(value) if value else None}
        if f == "cas" and not answer.get("succeeded"):  # false is left out
            return {"type": "fail", "error": "precondition failed"}
        return {"type": "ok"}
    error = answer.get("error") if isinstance(answer, dict) else None
    # gRPC InvalidArgument (3): refused before any proposal.
    definite = read or (error and answer.get("code") == 3)
    return {"type": "fail" if definite else "info", "error": error or f"status {status}"}


print(json.dumps({"type": "ready"}), flush=True)
for line in sys.stdin:
    op = json.loads(line)
    print(json.dumps({"id": op["id"], **perform(op)}), flush=True)
