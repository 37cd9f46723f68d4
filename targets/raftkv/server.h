/*
 * server: a raftkv node — the Raft core (raft.h) driven by one thread, with
 * durable storage (raft_storage.h), the key-value state machine (kvsm.h),
 * the peer transport (transport.h) and an HTTP/JSON client API
 * (libmicrohttpd, one thread per client connection).
 *
 * Threads: the raft thread owns the raft_node, the storage and the kvsm.
 * HTTP threads hand requests to it through a queue + eventfd and wait on a
 * per-request condition variable (bounded by request_timeout_ms); the
 * transport thread hands it received frames through the same eventfd.
 *
 * Client API (all bodies JSON). Status codes and what they tell a client:
 *
 *   GET    /kv/K              200 {"value":V} | 404 {"error":"not found"}
 *   PUT    /kv/K {"value":V}  200 {"ok":true}, once committed and applied
 *   PUT    /kv/K {"value":V,"prev":P}
 *                             compare-and-set: 200, or 412 {"error":
 *                             "precondition failed","value":CURRENT|null}.
 *                             A missing key never equals any prev.
 *   PUT    /kv/K {"value":V,"create":true}
 *                             create-if-absent: 200, or 412 as above when
 *                             K exists. With "prev": 400.
 *   DELETE /kv/K              200 {"ok":true}
 *   GET    /status            {"id","role","term","leader","commit","applied"}
 *
 *   Definite failures (the operation did not and will not take effect):
 *     400 bad request body, 404 (reads), 412 (CAS), 405/404 unknown route,
 *     413 body too large,
 *     421 {"error":"not leader","leader":"ADDR:PORT"|null} — not proposed,
 *     503 {"error":"no leader"} — not proposed; also 503 {"error":
 *         "leadership lost"} when the entry's log slot was taken by another
 *         term's entry (it can never commit), or a read lost its leader,
 *         and 503 {"error":"shutting down"} before a proposal was made.
 *   Indeterminate (the write may or may not take effect; record as info):
 *     504 {"error":"timeout","indeterminate":true} — proposed (or possibly
 *         about to be) but no outcome within request_timeout_ms, or the
 *         leader stepped down before the entry applied (a later leader may
 *         still commit it), or its outcome was hidden by an InstallSnapshot
 *         or by shutdown.
 *   A 504 on a GET is harmless (reads change nothing).
 *
 * Leader hints: node i's client address is taken to be its peer host and
 * peer port + (this node's client port - this node's peer port), i.e. every
 * node is assumed to use the same offset (the default is +1000).
 */
#ifndef SERVER_H
#define SERVER_H

#include <limits.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>

#include "base/fl_error.h"
#include "targets/raftkv/raft.h"
#include "targets/raftkv/transport.h"

enum {
    SERVER_BUG_STALE_READ = 1u << 0,    /* raft bug_stale_read */
    SERVER_BUG_EARLY_ACK = 1u << 1,     /* ack PUT once appended+persisted */
    SERVER_BUG_VOLATILE_VOTE = 1u << 2, /* raft + storage volatile vote */
    SERVER_BUG_TXN_SPLIT = 1u << 3,     /* a txn's micro-ops as two log
                                           entries, not one */
    SERVER_BUG_LEASE_READ = 1u << 4,    /* raft bug_lease_read, on the
                                           wall clock (CLOCK_REALTIME) */
    SERVER_BUG_NO_FSYNC = 1u << 5,      /* storage never fsyncs */
};

#define SERVER_DEFAULT_CLIENT_OFFSET 1000

typedef struct server_config {
    raft_id id;
    uint32_t n_nodes;
    transport_addr peers[RAFT_MAX_NODES + 1]; /* [1..n_nodes] */
    transport_addr client;      /* HTTP listen address */
    char data_dir[PATH_MAX];
    char log_path[PATH_MAX];    /* "" = stderr; opened by the caller */
    unsigned bugs;              /* SERVER_BUG_* */
    uint32_t tick_ms;           /* default 10 */
    uint32_t election_ticks;    /* default 30 (300..600 ms) */
    uint32_t heartbeat_ticks;   /* default 3 */
    uint32_t request_timeout_ms;/* default 2000 */
    uint32_t snapshot_every;    /* applied entries between snapshots; 1000 */
    bool help;                  /* --help given: print usage, exit 0 */
    FILE *log;                  /* borrowed; NULL = no logging */
} server_config;

/* Usage text for the command line. */
const char *server_usage(void);

/* Parse raftkv's command line (argv[0] is the program). Fills *cfg with
 * defaults first; leaves cfg->log NULL. Errors: FL_EUSAGE with a message
 * naming the flag. Not reentrant (getopt). */
int server_parse_args(int argc, char **argv, server_config *cfg,
                      fl_error *err);

typedef struct server server;

/* Recover state from cfg->data_dir, bind the peer and client sockets and
 * start all threads. cfg is copied (cfg->log stays borrowed and must
 * outlive the server). On success *out is owned by the caller
 * (server_stop). Errors: FL_EIO, FL_EDATA (corrupt data dir), FL_ENOMEM,
 * FL_EUSAGE. */
int server_start(const server_config *cfg, server **out, fl_error *err);

/* True once the raft thread stopped on a fatal error (storage I/O); the
 * message is copied to *err. The server then raises SIGTERM in its own
 * process so a main thread waiting in sigwait() wakes up. */
bool server_failed(server *s, fl_error *err);

/* Stop every thread, answer outstanding requests, free everything.
 * s may be NULL. */
void server_stop(server *s);

#endif
