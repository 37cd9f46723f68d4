/* server_internal: state shared by server.c (raft thread, lifecycle) and
 * server_http.c (client API). Not a public API. */
#ifndef SERVER_INTERNAL_H
#define SERVER_INTERNAL_H

#include <pthread.h>
#include <stdarg.h>

#include "targets/raftkv/kvsm.h"
#include "targets/raftkv/raft_storage.h"
#include "targets/raftkv/server.h"

struct MHD_Daemon;

typedef enum req_kind { REQ_READ, REQ_WRITE } req_kind;

/*
 * One client request in flight. Two references: the HTTP thread that waits
 * for it and the raft thread that answers it; the last to let go frees it
 * (under server.mu), so an HTTP thread that times out never leaves the raft
 * thread with a dangling pointer.
 */
typedef struct server_req {
    /* Set by the HTTP thread before submitting, then read-only. */
    req_kind kind;
    uint8_t *cmd;   /* REQ_WRITE: encoded kvsm command (owned) */
    size_t cmd_len;
    char *key;      /* REQ_READ: owned */
    size_t key_len;
    /* Guarded by server.mu. */
    int refs;
    bool done, abandoned;
    unsigned status;
    char *body;     /* malloc'd response body once done */
    pthread_cond_t cv;
    struct server_req *next; /* submission queue */
    /* Raft thread only. */
    uint64_t index, term;    /* REQ_WRITE once proposed */
    uint64_t ctx;            /* REQ_READ: read_index ctx */
    bool proposed, early, read_ready;
    struct server_req *pnext; /* pending list */
} server_req;

struct server {
    server_config cfg;
    int client_offset;       /* client port - peer port */
    /* Raft thread. */
    raft_node *raft;
    raft_storage *storage;
    kvsm *sm;
    transport *tp;
    uint64_t applied, snap_index, next_ctx;
    server_req *pending_writes, *pending_reads;
    raft_soft_state soft;
    pthread_t thread;
    bool thread_started;
    int wake_fd;             /* eventfd: requests and peer frames */
    struct MHD_Daemon *http;
    /* Guarded by mu. */
    pthread_mutex_t mu;
    server_req *queue_head, *queue_tail;
    bool stop, closed, failed;
    fl_error fail_err;
    raft_status status;
    uint64_t next_req_id;
    pthread_mutex_t log_mu;
};

/* Timestamped line to cfg.log (if any). */
void server_log(server *s, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

/* "HOST:PORT" of node id's client API into buf, or "" if id is none. */
void server_client_addr(const server *s, raft_id id, char *buf, size_t n);

/* A new request of kind (refs and cv set up); NULL on out of memory. */
server_req *server_req_new(req_kind kind);

/* Hand req to the raft thread and wait for its answer (or time out with
 * 504). On return *status and *body (malloc'd, caller frees) are set and
 * the caller no longer owns req. */
void server_call(server *s, server_req *req, unsigned *status, char **body);

/* Raft thread: answer req (body malloc'd or NULL for "{}"), drop the raft
 * thread's reference. */
void server_complete(server *s, server_req *req, unsigned status, char *body);

/* Body helpers: malloc'd strings; NULL on out of memory. */
char *server_fmt(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

int server_http_start(server *s, fl_error *err);
void server_http_stop(server *s);

#endif
