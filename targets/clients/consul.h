/*
 * Consul target: Consul's KV store over its HTTP API (/v1/kv), with
 * libcurl. No Consul binary can be installed on the machines faultline is
 * developed on: the client is verified against a fake server that answers
 * as Consul's documentation specifies (tests/test_consul.c), and the db
 * side's command lines are checked as text only. See the README.
 *
 * On a node (NODE_DIR/NAME): consul-data/, consul.log, stdout.log,
 * consul.pid. HTTP on http://ADDR:8500 (-client ADDR), server RPC and
 * gossip on ADDR (-bind ADDR), DNS off.
 *
 * Options (`faultline test --target consul --help`):
 *   --binary PATH     consul's path on the nodes (default /usr/bin/consul)
 *   --read-mode M     consistent (default: ?consistent, the leader checks
 *                     it is still leader), default (no parameter: the
 *                     leader answers without that check — a deposed
 *                     leader can serve stale reads), stale (?stale: any
 *                     server answers from its own state)
 *
 * Keys: the decimal key under "faultline/"; values: their JSON text.
 * Operations: read (GET), write (PUT), cas (GET ?consistent for the
 * value and its ModifyIndex; if the value is not the expected one the cas
 * fails definitely, nothing written; else PUT ?cas=ModifyIndex, whose
 * `false` is a definite fail), add (targets/clients/rmw.h, the CAS a PUT
 * ?cas=ModifyIndex, 0 for a new key).
 *
 * Errors and whether a fail with it is definite:
 *   cannot bind to the test network  definite: nothing was sent
 *   no connection                    definite: no byte went out
 *   precondition failed              definite: the value was not the
 *                                    expected one, or ?cas= answered false
 *   no leader                        definite: 500 "No cluster leader" —
 *                                    no server knew a leader to forward
 *                                    the write to
 *   rejected                         definite: 400, 403 (ACL), 413 (too
 *                                    large), 429 (rate limit): refused
 *                                    before any Raft apply; "detail" has
 *                                    Consul's text
 *   out of memory                    definite: never sent
 *   timeout, connection lost,
 *   consul error, not consul's
 *   answer, answer too large         not definite: a write is info
 *                                    ("consul error": any other 5xx, e.g.
 *                                    "leadership lost while committing
 *                                    log"); a read fails
 */
#ifndef FL_TARGET_CONSUL_H
#define FL_TARGET_CONSUL_H

#include <stddef.h>
#include <jansson.h>

#include "harness/target.h"
#include "targets/clients/http.h"

#define CONSUL_HTTP_PORT 8500
#define CONSUL_CONNECT_TIMEOUT_MS 1000
/* Consul holds a request up to its RPC hold timeout (7 s) while it looks
 * for a leader; a client should not sit out a partition in one request. */
#define CONSUL_REQUEST_TIMEOUT_MS 3000
#define CONSUL_ADD_ATTEMPTS 20

extern const target_vtable consul_target;

/* The shell command that starts a Consul server on node i of n. New
 * string, NULL when out of memory. */
char *consul_start_cmd(const char *binary, const char *node_dir, size_t n,
                       const char *const *names, const char *const *addrs,
                       size_t i);

/* A KV read's answer: 0 and *value (new reference; JSON null when the key
 * is absent) and *modify_index (0 when absent), or -1 when the answer is
 * not Consul's. */
int consul_read_answer(const http_answer *a, json_t **value,
                       long long *modify_index);

/* What became of write f ("write", "cas" — the ?cas= PUT, "read") given
 * Consul's answer; written: an ok's value. */
void consul_classify(const char *f, const json_t *written,
                     const http_answer *a, target_result *out);

/* A client speaking to one Consul agent at address:port with the given
 * read mode ("consistent", "default", "stale"), for tests; bind_address as
 * in remote_bind_address (NULL: none). Close with
 * consul_target.client_close. */
int consul_client_open_at(const char *address, int port, const char *read_mode,
                          const char *bind_address, void **out, fl_error *err);

#endif
