/*
 * etcd target: etcd 3.4 (Debian's etcd-server), run by faultline on each
 * node, or a cluster the user already runs; the client speaks etcd's v3
 * JSON gateway (/v3/kv/range, /v3/kv/put, /v3/kv/txn) with libcurl.
 *
 * On a node (NODE_DIR/NAME): etcd-data/ (its data dir), etcd.log (its
 * log), stdout.log, etcd.pid. Client URL http://ADDR:2379, peer URL
 * http://ADDR:2380, on the node's address only.
 *
 * Options (`faultline test --target etcd --help`):
 *   --binary PATH       etcd's path on the nodes (default /usr/bin/etcd)
 *   --read-mode M       linearizable (default): a read goes through the
 *                       leader's read index; serializable: a read is
 *                       served from the node's own state, which may lag
 *   --routing R         bound (default): client process i always talks to
 *                       node i mod n, as Jepsen binds them; round-robin:
 *                       each operation goes to the next node
 *
 * Why bound matters: a process's program order is what a real client
 * sees only if its operations reach one node. With serializable reads on
 * a bound client, a lagging node can show its client an old value —
 * a stale read, a real-time anomaly the sequential-consistency checker
 * tells apart from a lost write; round-robin routing can also make one
 * process read a newer value and then an older one from another node.
 *
 * Keys and values: a key is the decimal (or string) key; a value is its
 * JSON text; both base64 as the gateway wants. Operations: read, write
 * (put), cas (a txn: compare VALUE = old, put new), txn (list-append and
 * rw-register transactions, below), and add (the set
 * workload's add by read-modify-write, targets/clients/rmw.h: the CAS is
 * a txn comparing the value, or the create revision 0 for a new key; its
 * failure branch reads the key, so a refused CAS says what the set is).
 *
 * Errors (the "error" of a result) and whether a fail with it is
 * definite:
 *   cannot bind to the test network  definite: nothing was sent
 *   no connection                    definite: no byte of the request went
 *                                    out (targets/clients/http.h)
 *   precondition failed              definite: the txn's compare was false
 *   rejected                         definite: etcd refused the request
 *                                    before proposing it (invalid
 *                                    argument; "too many requests";
 *                                    "request is too large"); "detail"
 *                                    has etcd's message
 *   out of memory                    definite: faultline could not build
 *                                    the request; nothing was sent
 *   timeout, connection lost,
 *   etcd error, not etcd's answer,
 *   answer too large                 not definite: a write with it is
 *                                    info ("etcd error": any other error
 *                                    etcd answers — "request timed out",
 *                                    "leader changed", "server stopped" —
 *                                    all may follow a proposal that still
 *                                    commits); a read fails
 */
#ifndef FL_TARGET_ETCD_H
#define FL_TARGET_ETCD_H

#include <stdbool.h>
#include <stddef.h>
#include <jansson.h>

#include "harness/target.h"
#include "targets/clients/http.h"
#include "targets/clients/rmw.h"

#define ETCD_CLIENT_PORT 2379
#define ETCD_PEER_PORT 2380
#define ETCD_CONNECT_TIMEOUT_MS 1000
/* Below etcd's own request timeout (7 s with the default election
 * timeout): a write stuck on a minority node ends info after this either
 * way, and clients should not sit out a partition in one request. */
#define ETCD_REQUEST_TIMEOUT_MS 3000
#define ETCD_ADD_ATTEMPTS 20

extern const target_vtable etcd_target;

/* The shell command that starts etcd on node i of n (names, addrs: every
 * node's), with its data in NODE_DIR/NAME. New string, NULL when out of
 * memory. */
char *etcd_start_cmd(const char *binary, const char *node_dir, size_t n,
                     const char *const *names, const char *const *addrs,
                     size_t i);

/* The gateway request bodies (new strings, NULL when out of memory). key:
 * the key's text; values are JSON values, sent as their compact text. */
char *etcd_range_body(const char *key, bool serializable);
char *etcd_put_body(const char *key, const json_t *value);
/* Compare-and-put: put next if the key's value is `expected` (NULL: if
 * the key does not exist); on a false compare, read the key. */
char *etcd_txn_body(const char *key, const json_t *expected,
                    const json_t *next);

/* The value in a range answer (or a txn's failure-branch read), as a new
 * reference: JSON null when the key is absent. Returns 0, or -1 when the
 * answer is not a range answer or the value is not base64 JSON. */
int etcd_range_value(const json_t *range_answer, json_t **value);

/* What became of operation f ("read", "write", "cas") given the gateway's
 * answer; written: the value a write or cas stored (becomes an ok's
 * value). For a txn, *out is ok when it succeeded and a refused fail
 * "precondition failed" when its compare was false. */
void etcd_classify(const char *f, const json_t *written,
                   const http_answer *a, target_result *out);

/* ---- Transactions (etcd_txn.c) ------------------------------------------------
 *
 * A list-append or rw-register transaction (workloads/txn.h) is two Txns:
 * a snapshot reading every key it touches (one revision), then, if it
 * writes, a commit comparing each of those keys' mod revision with the
 * snapshot's and putting the new values (a list key holds its JSON list).
 * A false compare is retried from the snapshot, up to ETCD_TXN_ATTEMPTS,
 * then the txn fails "precondition failed" (definite: nothing was put).
 * A snapshot without an answer fails (it writes nothing); a commit's is
 * judged as a cas's. Strict serializable as etcd's Txn is: every key the
 * transaction read or wrote is unchanged from its reads to its commit.
 * Keys must fit 63 bytes; at most 64 keys per transaction. */
#define ETCD_TXN_ATTEMPTS 10

/* The snapshot Txn's body for txn (new string), or NULL for a txn of the
 * wrong shape or out of memory. */
char *etcd_txn_snapshot_body(const json_t *txn, bool serializable);

/* From the snapshot's answer: *done, the transaction with its reads filled
 * in (new reference), and *commit, the commit Txn's body (new string;
 * NULL when the transaction writes nothing: it is done). 0, or -1 when
 * the answer is not the snapshot's or out of memory. */
int etcd_txn_plan(const json_t *txn, const json_t *snapshot, json_t **done,
                  char **commit);

#endif
