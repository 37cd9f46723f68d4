/*
 * jsonl_client: a database client in any language, as a process speaking
 * JSON lines — the client half of a target described by a file
 * (targets/clients/file.h). faultline starts one process per worker and
 * talks to it over its stdin and stdout (a socket pair); its stderr is
 * faultline's.
 *
 * The protocol (version 1), one JSON object per line each way:
 *
 *   faultline -> client, once:  {"faultline": "client", "protocol": 1,
 *                                "node": "n1", "index": 0, "addr": ...,
 *                                "port": ..., "nodes": [...],
 *                                "options": {...}}
 *   client -> faultline, once:  {"type": "ready"}
 *   then for each operation:    {"id": 7, "f": "read"|"write"|"cas"|"add",
 *                                "key": K, "value": V}
 *   and its completion:         {"id": 7, "type": "ok"|"fail"|"info",
 *                                "value": V, "error": E}
 *
 * A read's ok must carry "value" (null: the key was never written); any
 * other ok records the operation's own value. "fail" promises the
 * operation certainly did not take effect; "info" says it may have.
 *
 * What faultline does when the client does not keep the protocol — never
 * an ok: a completion that is not a JSON object with the operation's id
 * and a known type, or a read ok without a value, is "client protocol"
 * (its error names the client and the line, with the line's text); a
 * client that exits or closes its stdout is "client died"; one that does
 * not answer within the operation's time-out is "client timeout". Each
 * of these is info (a read: fail, reads change nothing), the process is
 * killed (its whole process group) and the next operation starts a new
 * one. An operation that could not even be written to the client is a
 * fail (the client never saw it).
 *
 * Threads: a jsonl_client is used by one thread at a time; different
 * clients concurrently.
 */
#ifndef FL_TARGET_JSONL_CLIENT_H
#define FL_TARGET_JSONL_CLIENT_H

#include <jansson.h>

#include "base/fl_error.h"
#include "harness/target.h"

#define JSONL_PROTOCOL_VERSION 1
/* A completion line longer than this is "client protocol". */
#define JSONL_MAX_LINE (4 << 20)

/* How to start a client; every field is copied by jsonl_client_start. */
typedef struct jsonl_client_spec {
    const char *command;      /* run by /bin/sh -c */
    const char *cwd;          /* where it runs; NULL: faultline's own */
    const char *who;          /* names it in messages ("client for n1") */
    /* Its connections stay on the test network: preload (a path to
     * faultline-bind.so) is put in LD_PRELOAD and bind_address in
     * FAULTLINE_BIND_ADDRESS (preload/bind_connect.c). NULL
     * bind_address: no binding (remote nodes); preload is then unused. */
    const char *bind_address;
    const char *preload;
    const json_t *hello;      /* the handshake's node fields (an object) */
    int timeout_ms;           /* per operation, and for the ready line */
} jsonl_client_spec;

typedef struct jsonl_client jsonl_client;

/* Start the process, send the handshake and wait for its ready line.
 * FL_EIO naming spec->who and what went wrong (it exited, what it wrote
 * instead), FL_ENOMEM. *out is the caller's (jsonl_client_free). */
int jsonl_client_start(const jsonl_client_spec *spec, jsonl_client **out,
                       fl_error *err);

/* One operation, as above. Never fails as a call. If the process is gone
 * (an earlier protocol error) a new one is started first; if that fails,
 * a fail "client could not start". */
void jsonl_client_invoke(jsonl_client *c, const target_op *op,
                         target_result *out);

/* Whether c's process is running and kept the protocol so far (it may be
 * handed to the next user of the same node). */
bool jsonl_client_alive(jsonl_client *c);

/* Kill the process (its group) and free c. NULL: nothing. */
void jsonl_client_free(jsonl_client *c);

/* ---- pure parts (tested directly) ---------------------------------------------- */

/* The request line for op (with its "\n"), new string; NULL on ENOMEM. */
char *jsonl_request(long long id, const target_op *op);

/* The completion line (n bytes, no newline) of request id for op, as a
 * result: see above. A protocol error's detail names `who` and the
 * client's line number `lineno`. Returns true when the line kept the
 * protocol (the client may go on), false when it did not (out is then
 * the "client protocol" outcome). */
bool jsonl_decode(const char *line, size_t n, long long id,
                  const target_op *op, const char *who, long lineno,
                  target_result *out);

#endif
