/*
 * raftkv target: faultline's bundled Raft key-value store as a target
 * (harness/target.h; the vtable is `raftkv_target`). Exposed here: the
 * pure pieces — the shell command lines run on a node and the mapping of
 * HTTP answers to operation outcomes — so tests can check them without a
 * network.
 *
 * On node i (0-based; raftkv id i+1) everything lives in NODE_DIR/<name>/
 * (nodes of a local cluster share one filesystem, so each needs its own
 * directory): raftkv (the uploaded binary), data/, raftkv.log,
 * stdout.log, raftkv.pid. Peers listen on port RAFTKV_PEER_PORT, clients
 * on RAFTKV_CLIENT_PORT.
 *
 * Options (target_option; `faultline test --target raftkv --help`):
 *   --binary PATH (also --raftkv PATH)  the build to install; default:
 *                                       raftkv next to the running
 *                                       faultline binary, or one level up
 *   --bug X                             passed to every raftkv: stale-read,
 *                                       early-ack, volatile-vote, txn-split,
 *                                       no-fsync
 * Operations: read, write, cas, and add (emulated, see below).
 *
 * Errors (the "error" string of a result) and whether a fail with it is
 * definite (raftkv_classify decides; tests/test_raftkv_outcome.c):
 *   cannot bind to the test network   definite: nothing was sent
 *   no connection                     definite: no byte of the request
 *                                     was sent (each write has a new
 *                                     connection, so curl never sends
 *                                     one twice)
 *   precondition failed, not leader,
 *   no leader                         definite: raftkv refused it
 *   connection lost, timeout,
 *   answer too large, not raftkv's
 *   answer, unexpected status         not definite: a write with it is
 *                                     info; a read fails only because
 *                                     reads change nothing
 */
#ifndef FL_TARGET_RAFTKV_H
#define FL_TARGET_RAFTKV_H

#include <stdbool.h>
#include <stddef.h>
#include <jansson.h>

#include "base/fl_error.h"
#include "harness/target.h"
#include "targets/clients/http.h"
#include "targets/clients/rmw.h"

#define RAFTKV_PEER_PORT 7000
#define RAFTKV_CLIENT_PORT 8000
#define RAFTKV_CONNECT_TIMEOUT_MS 1000
/* A little over raftkv's own 2 s request time-out, so that its 504 (a
 * definite "indeterminate") usually arrives before ours. */
#define RAFTKV_REQUEST_TIMEOUT_MS 2500

extern const target_vtable raftkv_target;

/*
 * The command that starts node i as a daemon (setsid, nohup, pid file),
 * for nodes with these names and addresses; bug may be NULL. New string
 * owned by the caller, or NULL on OOM. Names and addresses must be plain
 * (checked by the target before use). env (NULL: none) is the
 * environment to start it in (target_config.db_env), trusted.
 */
char *raftkv_start_cmd(const char *node_dir, size_t n,
                       const char *const *names, const char *const *addrs,
                       size_t i, const char *bug, const char *env);

/* kill -9 (sig "KILL"), SIGSTOP ("STOP") or SIGCONT ("CONT") to every
 * raftkv running on the node's data directory (found in /proc; the pid
 * file is informational). New string. */
char *raftkv_signal_cmd(const char *node_dir, const char *name,
                        const char *sig);

/* SIGCONT then kill -9 to every raftkv running on the node's data
 * directory; prints "running=N stopped=M" (target_vtable.rest_cmd). New
 * string. */
char *raftkv_rest_cmd(const char *node_dir, const char *name);

/* Outcome of an HTTP exchange for an operation f ("read", "write", "cas"):
 * see targets/clients/http.h. */
typedef http_answer raftkv_answer;

/*
 * Map an answer to ok/fail/info, filling out->value and out->error.
 * `written` is the value a write or cas installs (for the ok value).
 *
 * An answer counts as raftkv's only when its body is raftkv's: a 200
 * read {"value":V}, a 200 write {"ok":true}, a 200 txn {"ok":true,
 * "value":[micro-ops with reads]} (ok with that value; a txn is
 * otherwise judged as a write), a 404 read exactly
 * {"error":"not found"} (the null value), an error status an object with
 * a string "error" (412's "precondition failed", 421's "not leader").
 * Anything else — a proxy's or another server's page on that port — says
 * nothing about the database: fail for a read, info for a write. A 404 to
 * a write is info too.
 *
 * What the runner can tell from out->error (its "error" string):
 * "cannot bind to the test network" (answer.unbound: the local cluster's
 * bridge is gone; the op is a fail, nothing was sent, and every later op
 * will fail the same way until the cluster is back), "no connection",
 * "connection lost", "timeout", "answer too large", "not raftkv's
 * answer", or raftkv's own refusals ("precondition failed", "not leader",
 * "no leader", "unexpected status").
 */
#define RAFTKV_ERROR_UNBOUND TARGET_ERROR_UNBOUND
void raftkv_classify(const char *f, const json_t *written,
                     const raftkv_answer *a, target_result *out);

/*
 * A client of the raftkv at address:port, as the target's client_open
 * makes for a node (same requests, same outcomes), for tests against a
 * fake server. bind_address: the source address its connections are
 * bound to (NULL: none). Strings are borrowed and must outlive the
 * client; free it with raftkv_target.client_close.
 */
int raftkv_client_open_at(const char *address, int port,
                          const char *bind_address, void **out, fl_error *err);

/*
 * The set workload's "add" (value: an integer element) is a read-modify-
 * write (targets/clients/rmw.h decides) of at most RAFTKV_ADD_ATTEMPTS
 * requests within twice the request time-out (each request gets only the
 * time left): READ is GET the set (a JSON array); CAS is PUT it back with
 * the element appended, {"value": NEXT, "prev": CURRENT} — or, while the
 * key is absent, {"value": [E], "create": true}; a 412 is the refusal
 * that carries the set as it is now. A read of a set key returns the
 * array.
 */
#define RAFTKV_ADD_ATTEMPTS 20

/* The PUT body for the write of next over current (NULL: create). New
 * string, NULL when out of memory. */
char *raftkv_add_payload(const json_t *current, const json_t *next);

/*
 * raftkv's side of the add, apart from the network, so tests can drive it
 * with made-up answers: after rmw_add_init, raftkv_add_next() says what to
 * send (GET the set, PUT *payload — a new string the caller frees — or
 * DONE) and raftkv_add_answer() takes raftkv's answer to it;
 * rmw_add_give_up / rmw_add_clear as in rmw.h.
 */
typedef enum raftkv_add_action {
    RAFTKV_ADD_GET,
    RAFTKV_ADD_PUT,
    RAFTKV_ADD_DONE,
} raftkv_add_action;

raftkv_add_action raftkv_add_next(rmw_add *st, char **payload);
void raftkv_add_answer(rmw_add *st, raftkv_add_action sent,
                       const raftkv_answer *a);

#endif
