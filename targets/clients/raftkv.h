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
 */
#ifndef FL_TARGET_RAFTKV_H
#define FL_TARGET_RAFTKV_H

#include <stdbool.h>
#include <stddef.h>
#include <jansson.h>

#include "base/fl_error.h"
#include "harness/target.h"

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
 * (checked by the target before use).
 */
char *raftkv_start_cmd(const char *node_dir, size_t n,
                       const char *const *names, const char *const *addrs,
                       size_t i, const char *bug);

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
 * answered false means no answer came (timed_out: it ran out of time;
 * otherwise sent: the request may have reached the server). */
typedef struct raftkv_answer {
    bool answered;
    bool timed_out;
    bool sent;
    bool too_large;       /* the answer did not fit the client's buffer */
    bool unbound;         /* the connection could not be bound to the test
                             network's source address (remote_bind_address:
                             the local cluster's bridge is gone): nothing
                             was sent */
    long status;
    const json_t *body;   /* parsed body or NULL */
} raftkv_answer;

/*
 * Map an answer to ok/fail/info, filling out->value and out->error.
 * `written` is the value a write or cas installs (for the ok value).
 *
 * An answer counts as raftkv's only when its body is raftkv's: a 200
 * read {"value":V}, a 200 write {"ok":true}, a 404 read exactly
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
 * write loop of at most RAFTKV_ADD_ATTEMPTS requests within twice the
 * request time-out (each request gets only the time left): GET the set (a JSON array), then PUT it back with the
 * element appended, {"value": NEXT, "prev": CURRENT} — or, while the key is
 * absent, {"value": [E], "create": true} — retrying with the set a 412
 * returns. ok: a write was acknowledged or the element is already in the
 * set; fail: a definite refusal, a key holding something other than a
 * set, or giving up, while nothing of ours can have taken effect; info:
 * the same after an attempt whose outcome is unknown. A read of a set key
 * returns the array.
 */
#define RAFTKV_ADD_ATTEMPTS 20

/* The set `current` (NULL: absent) with `element` appended, in *next (new
 * reference). Returns 0 (next built), 1 (already there: next NULL), -1
 * (current is not an array of integers), -2 (out of memory). */
int raftkv_set_with(const json_t *current, json_int_t element, json_t **next);

/* The PUT body for the write of next over current (NULL: create). New
 * string, NULL when out of memory. */
char *raftkv_add_payload(const json_t *current, const json_t *next);

/*
 * The add's decisions, apart from the network, so tests can drive them
 * with made-up answers: init; then repeatedly next() says what to send
 * (GET the set, PUT *payload — a new string the caller frees — or DONE)
 * and answer() takes the answer to it; when the caller's bound runs out,
 * give_up(). result is then set (owned by the state until moved out;
 * clear() frees what is left). `wait`: the last request failed without
 * deciding anything (no leader yet): pause before the next.
 */
typedef enum raftkv_add_action {
    RAFTKV_ADD_GET,
    RAFTKV_ADD_PUT,
    RAFTKV_ADD_DONE,
} raftkv_add_action;

typedef struct raftkv_add {
    json_int_t element;
    json_t *current;     /* the set as last seen (owned); NULL: absent */
    bool known;          /* current reflects an answer, not a guess */
    bool uncertain;      /* an attempt may have taken effect unseen */
    bool wait;
    bool done;
    target_result result;
} raftkv_add;

void raftkv_add_init(raftkv_add *st, json_int_t element);
raftkv_add_action raftkv_add_next(raftkv_add *st, char **payload);
void raftkv_add_answer(raftkv_add *st, raftkv_add_action sent,
                       const raftkv_answer *a);
void raftkv_add_give_up(raftkv_add *st);
void raftkv_add_clear(raftkv_add *st);

#endif
