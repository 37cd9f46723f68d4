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

#include "harness/fl_error.h"
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

/* Outcome of an HTTP exchange for an operation f ("read", "write", "cas"):
 * curl_ok false means no answer came (timed_out: it ran out of time;
 * otherwise sent: the request may have reached the server). */
typedef struct raftkv_answer {
    bool answered;
    bool timed_out;
    bool sent;
    long status;
    const json_t *body;   /* parsed body or NULL */
} raftkv_answer;

/* Map an answer to ok/fail/info, filling out->value and out->error.
 * `written` is the value a write or cas installs (for the ok value). */
void raftkv_classify(const char *f, const json_t *written,
                     const raftkv_answer *a, target_result *out);

#endif
