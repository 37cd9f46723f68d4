/* server: lifecycle and the raft thread (see server.h; the loop follows the
 * sketch in raft.h: tick / step / propose / read_index, then drain Ready in
 * order persist -> send -> apply -> reads -> advance). */
#include "targets/raftkv/server_internal.h"
#include "base/alloc.h"
#include "base/clock.h"

#include <errno.h>
#include <inttypes.h>
#include <poll.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <time.h>
#include <unistd.h>

static void poke(int fd)
{
    uint64_t one = 1;
    ssize_t w = write(fd, &one, sizeof one);
    (void)w; /* counter already non-zero is as good */
}

void server_log(server *s, const char *fmt, ...)
{
    if (!s->cfg.log)
        return;
    struct timespec ts;
    struct tm tm;
    char stamp[32];
    clock_gettime(CLOCK_REALTIME, &ts);
    gmtime_r(&ts.tv_sec, &tm);
    strftime(stamp, sizeof stamp, "%Y-%m-%dT%H:%M:%S", &tm);
    va_list ap;
    va_start(ap, fmt);
    pthread_mutex_lock(&s->log_mu);
    fprintf(s->cfg.log, "%s.%03ldZ raftkv[%u] ", stamp, ts.tv_nsec / 1000000,
            s->cfg.id);
    vfprintf(s->cfg.log, fmt, ap);
    fputc('\n', s->cfg.log);
    fflush(s->cfg.log);
    pthread_mutex_unlock(&s->log_mu);
    va_end(ap);
}

char *server_fmt(const char *fmt, ...)
{
    char *out = NULL;
    va_list ap;
    va_start(ap, fmt);
    if (vasprintf(&out, fmt, ap) < 0)
        out = NULL;
    va_end(ap);
    return out;
}

void server_client_addr(const server *s, raft_id id, char *buf, size_t n)
{
    if (id == RAFT_NONE || id > s->cfg.n_nodes) {
        buf[0] = '\0';
        return;
    }
    snprintf(buf, n, "%s:%d", s->cfg.peers[id].host,
             (int)s->cfg.peers[id].port + s->client_offset);
}

/* ---- requests ------------------------------------------------------------------ */

server_req *server_req_new(req_kind kind)
{
    server_req *r = fl_calloc(1, sizeof *r);
    pthread_condattr_t ca;
    if (!r)
        return NULL;
    r->kind = kind;
    pthread_condattr_init(&ca);
    pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);
    pthread_cond_init(&r->cv, &ca);
    pthread_condattr_destroy(&ca);
    return r;
}

static void req_free(server_req *r)
{
    fl_free(r->cmd);
    fl_free(r->key);
    fl_free(r->body);
    pthread_cond_destroy(&r->cv);
    fl_free(r);
}

/* Caller holds s->mu. */
static void req_release_locked(server_req *r)
{
    if (--r->refs == 0)
        req_free(r);
}

void server_complete(server *s, server_req *r, unsigned status, char *body)
{
    pthread_mutex_lock(&s->mu);
    if (!r->done) {
        r->done = true;
        r->status = status;
        r->body = body;
        body = NULL;
        pthread_cond_signal(&r->cv);
    }
    req_release_locked(r);
    pthread_mutex_unlock(&s->mu);
    fl_free(body);
}

void server_call(server *s, server_req *r, unsigned *status, char **body)
{
    pthread_mutex_lock(&s->mu);
    if (s->closed) {
        pthread_mutex_unlock(&s->mu);
        req_free(r);
        *status = 503;
        *body = server_fmt("{\"error\":\"shutting down\"}");
        return;
    }
    r->refs = 2;
    if (s->queue_tail)
        s->queue_tail->next = r;
    else
        s->queue_head = r;
    s->queue_tail = r;
    pthread_mutex_unlock(&s->mu);
    poke(s->wake_fd);

    struct timespec dl;
    clock_gettime(CLOCK_MONOTONIC, &dl);
    dl.tv_sec += s->cfg.request_timeout_ms / 1000;
    dl.tv_nsec += (long)(s->cfg.request_timeout_ms % 1000) * 1000000L;
    if (dl.tv_nsec >= 1000000000L) {
        dl.tv_sec++;
        dl.tv_nsec -= 1000000000L;
    }
    pthread_mutex_lock(&s->mu);
    while (!r->done &&
           pthread_cond_timedwait(&r->cv, &s->mu, &dl) != ETIMEDOUT)
        ;
    if (r->done) {
        *status = r->status;
        *body = r->body;
        r->body = NULL;
    } else {
        /* The raft thread may still propose or apply it: indeterminate. */
        r->abandoned = true;
        *status = 504;
        *body = server_fmt(r->kind == REQ_WRITE
                               ? "{\"error\":\"timeout\",\"indeterminate\":true}"
                               : "{\"error\":\"timeout\"}");
    }
    req_release_locked(r);
    pthread_mutex_unlock(&s->mu);
}

static bool req_abandoned(server *s, server_req *r)
{
    pthread_mutex_lock(&s->mu);
    bool a = r->abandoned;
    pthread_mutex_unlock(&s->mu);
    return a;
}

/* 421 with the leader's client address, or 503 when none is known. */
static void refuse(server *s, server_req *r, raft_id leader)
{
    char addr[96];
    server_client_addr(s, leader, addr, sizeof addr);
    if (addr[0])
        server_complete(s, r, 421, server_fmt("{\"error\":\"not leader\","
                                              "\"leader\":\"%s\"}", addr));
    else
        server_complete(s, r, 503, server_fmt("{\"error\":\"no leader\","
                                              "\"leader\":null}"));
}

static void push(server_req **list, server_req *r)
{
    r->pnext = *list;
    *list = r;
}

static void propose(server *s, server_req *r)
{
    raft_proposal p;
    fl_error err;
    int rc = raft_propose(s->raft, r->cmd, r->cmd_len, &p, &err);
    if (rc == RAFT_ENOTLEADER) {
        refuse(s, r, p.leader);
    } else if (rc) {
        server_complete(s, r, 500, server_fmt("{\"error\":\"propose failed\"}"));
        server_log(s, "propose: %s", err.msg);
    } else {
        r->index = p.index;
        r->term = p.term;
        r->proposed = true;
        r->early = (s->cfg.bugs & SERVER_BUG_EARLY_ACK) != 0;
        push(&s->pending_writes, r);
    }
}

static void start_read(server *s, server_req *r)
{
    raft_id leader = RAFT_NONE;
    fl_error err;
    r->ctx = ++s->next_ctx;
    int rc = raft_read_index(s->raft, r->ctx, &leader, &err);
    if (rc == RAFT_ENOTLEADER) {
        refuse(s, r, leader);
    } else if (rc) {
        server_complete(s, r, 500, server_fmt("{\"error\":\"read failed\"}"));
        server_log(s, "read_index: %s", err.msg);
    } else {
        push(&s->pending_reads, r);
    }
}

static void take_requests(server *s)
{
    pthread_mutex_lock(&s->mu);
    server_req *r = s->queue_head;
    s->queue_head = s->queue_tail = NULL;
    pthread_mutex_unlock(&s->mu);
    while (r) {
        server_req *next = r->next;
        if (req_abandoned(s, r)) /* timed out before we saw it: never proposed */
            server_complete(s, r, 504, NULL);
        else if (r->kind == REQ_WRITE)
            propose(s, r);
        else
            start_read(s, r);
        r = next;
    }
}

/* ---- applying ---------------------------------------------------------------------- */

static void answer_write(server *s, server_req *r, int rc, kvsm_result *res)
{
    if (rc)
        server_complete(s, r, 500, server_fmt("{\"error\":\"apply failed\"}"));
    else if (res->outcome == KVSM_PRECONDITION_FAILED)
        server_complete(s, r, 412, server_fmt("{\"error\":\"precondition "
                                              "failed\",\"value\":%s}",
                                              res->current ? res->current
                                                           : "null"));
    else if (res->current) /* a transaction, its reads filled in */
        server_complete(s, r, 200, server_fmt("{\"ok\":true,\"value\":%s}",
                                              res->current));
    else
        server_complete(s, r, 200, server_fmt("{\"ok\":true}"));
}

static void apply_entry(server *s, const raft_entry *e)
{
    kvsm_result res = {0};
    fl_error err;
    int rc = FL_OK;
    if (e->type == RAFT_ENTRY_NORMAL) {
        rc = kvsm_apply(s->sm, e->data, e->len, &res, &err);
        if (rc)
            server_log(s, "entry %" PRIu64 " not applied: %s", e->index, err.msg);
    }
    s->applied = e->index;
    for (server_req **pp = &s->pending_writes; *pp;) {
        server_req *r = *pp;
        if (r->index != e->index) {
            pp = &r->pnext;
            continue;
        }
        *pp = r->pnext;
        if (r->term == e->term)
            answer_write(s, r, rc, &res);
        else /* our entry was overwritten: it can never commit */
            server_complete(s, r, 503, server_fmt("{\"error\":\"leadership lost\"}"));
    }
    fl_free(res.current);
}

/* An InstallSnapshot replaces the state: writes it covers have an outcome
 * we can no longer see. */
static int apply_snapshot(server *s, const raft_snapshot *snap, fl_error *err)
{
    int rc = kvsm_restore(s->sm, snap->data, snap->len, err);
    if (rc)
        return fl_error_wrap(err, "installing snapshot %" PRIu64, snap->index);
    s->applied = s->snap_index = snap->index;
    for (server_req **pp = &s->pending_writes; *pp;) {
        server_req *r = *pp;
        if (r->index > snap->index) {
            pp = &r->pnext;
            continue;
        }
        *pp = r->pnext;
        server_complete(s, r, 504, server_fmt("{\"error\":\"timeout\","
                                              "\"indeterminate\":true}"));
    }
    server_log(s, "installed snapshot at %" PRIu64 " (%zu keys)", snap->index,
               kvsm_count(s->sm));
    return FL_OK;
}

static void note_reads(server *s, const raft_read_state *rs, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        for (server_req **pp = &s->pending_reads; *pp; pp = &(*pp)->pnext) {
            server_req *r = *pp;
            if (r->ctx != rs[i].ctx)
                continue;
            if (rs[i].ok) {
                r->index = rs[i].index;
                r->read_ready = true;
            } else {
                *pp = r->pnext;
                server_complete(s, r, 503, server_fmt("{\"error\":"
                                                      "\"leadership lost\"}"));
            }
            break;
        }
    }
}

static void serve_reads(server *s)
{
    for (server_req **pp = &s->pending_reads; *pp;) {
        server_req *r = *pp;
        if (!r->read_ready || s->applied < r->index) {
            pp = &r->pnext;
            continue;
        }
        *pp = r->pnext;
        const char *v = kvsm_get(s->sm, r->key, r->key_len);
        if (v)
            server_complete(s, r, 200, server_fmt("{\"value\":%s}", v));
        else
            server_complete(s, r, 404, server_fmt("{\"error\":\"not found\"}"));
    }
}

static void send_msgs(server *s, const raft_msg *msgs, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        uint8_t *frame;
        size_t len;
        fl_error err;
        if (raft_msg_encode(&msgs[i], &frame, &len, &err))
            server_log(s, "encode %s: %s", raft_msg_type_name(msgs[i].type),
                       err.msg);
        else
            transport_send(s->tp, msgs[i].to, frame, len);
    }
}

/* Lost leadership: our uncommitted proposals may still be committed by the
 * next leader, or overwritten. Answer them now as indeterminate rather than
 * holding clients for the full timeout. */
static void fail_pending_writes(server *s)
{
    while (s->pending_writes) {
        server_req *r = s->pending_writes;
        s->pending_writes = r->pnext;
        server_complete(s, r, 504, server_fmt("{\"error\":\"timeout\","
                                              "\"indeterminate\":true}"));
    }
}

static void note_soft_state(server *s, const raft_soft_state *ss)
{
    if (ss->role != s->soft.role || ss->term != s->soft.term ||
        ss->leader != s->soft.leader)
        server_log(s, "role %s term %" PRIu64 " leader %u",
                   raft_role_name(ss->role), ss->term, ss->leader);
    if (s->soft.role == RAFT_LEADER && ss->role != RAFT_LEADER)
        fail_pending_writes(s);
    s->soft = *ss;
}

/* Drain Ready in contract order. Errors: storage failures (fatal). */
static int process_ready(server *s, fl_error *err)
{
    raft_ready rd;
    while (raft_has_ready(s->raft)) {
        raft_ready_get(s->raft, &rd);
        int rc = raft_storage_save_ready(s->storage, &rd, err);  /* 1 */
        if (rc)
            return fl_error_wrap(err, "persisting");
        send_msgs(s, rd.msgs, rd.n_msgs);                       /* 2 */
        if (rd.snapshot && (rc = apply_snapshot(s, rd.snapshot, err)))
            return rc;                                          /* 3 */
        for (size_t i = 0; i < rd.n_committed; i++)
            apply_entry(s, &rd.committed[i]);
        note_reads(s, rd.reads, rd.n_reads);                    /* 4 */
        if (rd.soft_state_changed)                              /* 5 */
            note_soft_state(s, &rd.soft_state);
        raft_advance(s->raft);                                  /* 6 */
        serve_reads(s);
    }
    return FL_OK;
}

/* Seeded bug early-ack: every proposal made before the Ready we just
 * persisted is now on the leader's disk — answer it as if committed. */
static void early_acks(server *s)
{
    for (server_req **pp = &s->pending_writes; *pp;) {
        server_req *r = *pp;
        if (!r->early) {
            pp = &r->pnext;
            continue;
        }
        *pp = r->pnext;
        server_complete(s, r, 200, server_fmt("{\"ok\":true}"));
    }
}

/* Drop requests whose HTTP thread gave up (they were answered 504). */
static void sweep(server *s, server_req **list)
{
    for (server_req **pp = list; *pp;) {
        server_req *r = *pp;
        if (!req_abandoned(s, r)) {
            pp = &r->pnext;
            continue;
        }
        *pp = r->pnext;
        server_complete(s, r, 504, NULL);
    }
}

static int maybe_compact(server *s, fl_error *err)
{
    if (s->applied - s->snap_index < s->cfg.snapshot_every)
        return FL_OK;
    uint8_t *data;
    size_t len;
    raft_status st;
    int rc = kvsm_snapshot(s->sm, &data, &len, err);
    if (!rc)
        rc = raft_compact(s->raft, s->applied, data, len, err);
    if (!rc) {
        raft_get_status(s->raft, &st);
        rc = raft_storage_save_snapshot(s->storage, s->applied,
                                        st.snapshot_term, data, len, err);
    }
    if (rc)
        return fl_error_wrap(err, "snapshot at %" PRIu64, s->applied);
    fl_free(data);
    s->snap_index = s->applied;
    server_log(s, "snapshot at %" PRIu64 " (%zu keys, %zu bytes)",
               s->applied, kvsm_count(s->sm), len);
    return FL_OK;
}

static void step_frames(server *s)
{
    transport_frame *f = transport_recv(s->tp);
    while (f) {
        transport_frame *next = f->next;
        raft_msg m;
        fl_error err;
        if (raft_msg_decode(f->data, f->len, &m, &err) == FL_OK) {
            if (raft_step(s->raft, &m, &err) == FL_ENOMEM)
                server_log(s, "step: %s", err.msg);
            raft_msg_free(&m);
        }
        fl_free(f);
        f = next;
    }
}

/* Returns the number of ticks due, advancing *next. */
static int ticks_due(server *s, uint64_t *next)
{
    uint64_t now = (uint64_t)(fl_clock_mono_ns() / 1000000);
    int n = 0;
    if (now > *next + 10ull * s->cfg.tick_ms) /* stalled: don't burst */
        *next = now;
    while (now >= *next) {
        n++;
        *next += s->cfg.tick_ms;
    }
    return n;
}

/* The seeded lease-read bug's clock: the wall clock, which an operator,
 * NTP or a clock fault (libfaketime) may set anywhere. */
static uint64_t wall_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    return (uint64_t)ts.tv_sec * 1000u + (uint64_t)ts.tv_nsec / 1000000u;
}

static int loop_once(server *s, uint64_t *next_tick, fl_error *err)
{
    uint64_t now = (uint64_t)(fl_clock_mono_ns() / 1000000);
    if (s->cfg.bugs & SERVER_BUG_LEASE_READ)
        raft_lease_clock(s->raft, wall_ms());
    struct pollfd pfd = {.fd = s->wake_fd, .events = POLLIN};
    int timeout = *next_tick > now ? (int)(*next_tick - now) : 0;
    if (poll(&pfd, 1, timeout) > 0) {
        uint64_t v;
        ssize_t r = read(s->wake_fd, &v, sizeof v);
        (void)r;
    }
    int ticks = ticks_due(s, next_tick);
    for (int i = 0; i < ticks; i++)
        if (raft_tick(s->raft, err) == FL_ENOMEM)
            server_log(s, "tick: %s", err->msg);
    step_frames(s);
    take_requests(s);
    int rc = process_ready(s, err);
    if (rc)
        return rc;
    early_acks(s);
    serve_reads(s);
    if (ticks) {
        sweep(s, &s->pending_writes);
        sweep(s, &s->pending_reads);
    }
    if ((rc = maybe_compact(s, err)))
        return rc;
    raft_status st;
    raft_get_status(s->raft, &st);
    pthread_mutex_lock(&s->mu);
    s->status = st;
    pthread_mutex_unlock(&s->mu);
    return FL_OK;
}

static void *raft_main(void *arg)
{
    server *s = arg;
    uint64_t next_tick = (uint64_t)(fl_clock_mono_ns() / 1000000) + s->cfg.tick_ms;
    fl_error err;
    for (;;) {
        pthread_mutex_lock(&s->mu);
        bool stop = s->stop;
        pthread_mutex_unlock(&s->mu);
        if (stop)
            break;
        fl_error_clear(&err);
        if (loop_once(s, &next_tick, &err)) {
            server_log(s, "fatal: %s", err.msg);
            pthread_mutex_lock(&s->mu);
            s->failed = true;
            s->fail_err = err;
            pthread_mutex_unlock(&s->mu);
            kill(getpid(), SIGTERM); /* wake main's sigwait */
            break;
        }
    }
    return NULL;
}

/* ---- lifecycle ----------------------------------------------------------------------- */

static int open_state(server *s, fl_error *err)
{
    raft_storage_options so = {
        .bug_volatile_vote = (s->cfg.bugs & SERVER_BUG_VOLATILE_VOTE) != 0,
        .bug_no_fsync = (s->cfg.bugs & SERVER_BUG_NO_FSYNC) != 0};
    raft_restore rs;
    raft_config rc;
    int e;
    if (!(s->sm = kvsm_new()))
        return fl_error_set(err, FL_ENOMEM, "out of memory");
    if ((e = raft_storage_open(s->cfg.data_dir, &so, &s->storage, err)))
        return e;
    raft_storage_restore(s->storage, &rs);
    if (rs.snapshot.index &&
        (e = kvsm_restore(s->sm, rs.snapshot.data, rs.snapshot.len, err)))
        return fl_error_wrap(err, "%s/snapshot", s->cfg.data_dir);
    s->applied = s->snap_index = rs.snapshot.index;
    raft_config_init(&rc);
    rc.id = s->cfg.id;
    rc.n_nodes = s->cfg.n_nodes;
    rc.election_ticks = s->cfg.election_ticks;
    rc.heartbeat_ticks = s->cfg.heartbeat_ticks;
    rc.seed = ((uint64_t)getpid() << 20) ^ (uint64_t)time(NULL) ^ s->cfg.id;
    rc.bug_stale_read = (s->cfg.bugs & SERVER_BUG_STALE_READ) != 0;
    /* The bug is a leader trusting its own leadership: like etcd before
     * its read fixes, it neither confirms reads with a quorum nor notices
     * that it lost its quorum, so a partitioned leader serves stale values
     * until it hears of a newer term. */
    if (rc.bug_stale_read)
        rc.check_quorum = false;
    rc.bug_volatile_vote = (s->cfg.bugs & SERVER_BUG_VOLATILE_VOTE) != 0;
    /* Half the shortest election timeout: safe while clocks run true. */
    rc.bug_lease_read = (s->cfg.bugs & SERVER_BUG_LEASE_READ) != 0;
    rc.lease_ms = s->cfg.election_ticks * s->cfg.tick_ms / 2;
    if ((e = raft_new(&rc, &rs, &s->raft, err)))
        return e;
    server_log(s, "recovered %s: term %" PRIu64 " vote %u snapshot %" PRIu64
               " entries %zu (cut %" PRIu64 " torn bytes)", s->cfg.data_dir,
               rs.hard_state.term, rs.hard_state.vote, rs.snapshot.index,
               rs.n_entries, raft_storage_cut_bytes(s->storage));
    raft_get_status(s->raft, &s->status);
    s->soft.term = rs.hard_state.term;
    return FL_OK;
}

static int start_threads(server *s, fl_error *err)
{
    transport_config tc = {.self = s->cfg.id, .n_nodes = s->cfg.n_nodes,
                           .notify_fd = s->wake_fd};
    memcpy(tc.addrs, s->cfg.peers, sizeof tc.addrs);
    int rc = transport_start(&tc, &s->tp, err);
    if (rc)
        return rc;
    if (pthread_create(&s->thread, NULL, raft_main, s)) {
        return fl_error_set(err, FL_EIO, "cannot start the raft thread");
    }
    s->thread_started = true;
    return server_http_start(s, err);
}

int server_start(const server_config *cfg, server **out, fl_error *err)
{
    server *s = fl_calloc(1, sizeof *s);
    if (!s)
        return fl_error_set(err, FL_ENOMEM, "out of memory");
    s->cfg = *cfg;
    s->client_offset = (int)cfg->client.port - (int)cfg->peers[cfg->id].port;
    s->next_req_id = 1;
    pthread_mutex_init(&s->mu, NULL);
    pthread_mutex_init(&s->log_mu, NULL);
    s->wake_fd = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
    int rc = s->wake_fd < 0
                 ? fl_error_set(err, FL_EIO, "eventfd: %s", strerror(errno))
                 : open_state(s, err);
    if (!rc)
        rc = start_threads(s, err);
    if (rc) {
        server_stop(s);
        return rc;
    }
    server_log(s, "serving peers on %s:%u, clients on %s:%u%s%s%s%s%s%s",
               cfg->peers[cfg->id].host, cfg->peers[cfg->id].port,
               cfg->client.host, cfg->client.port,
               cfg->bugs & SERVER_BUG_STALE_READ ? " [bug stale-read]" : "",
               cfg->bugs & SERVER_BUG_EARLY_ACK ? " [bug early-ack]" : "",
               cfg->bugs & SERVER_BUG_VOLATILE_VOTE ? " [bug volatile-vote]" : "",
               cfg->bugs & SERVER_BUG_TXN_SPLIT ? " [bug txn-split]" : "",
               cfg->bugs & SERVER_BUG_LEASE_READ ? " [bug lease-read]" : "",
               cfg->bugs & SERVER_BUG_NO_FSYNC ? " [bug no-fsync]" : "");
    *out = s;
    return FL_OK;
}

bool server_failed(server *s, fl_error *err)
{
    pthread_mutex_lock(&s->mu);
    bool f = s->failed;
    if (f && err)
        *err = s->fail_err;
    pthread_mutex_unlock(&s->mu);
    return f;
}

/* After the raft thread stopped: nothing will answer these any more. */
static void answer_leftovers(server *s)
{
    pthread_mutex_lock(&s->mu);
    s->closed = true;
    server_req *q = s->queue_head;
    s->queue_head = s->queue_tail = NULL;
    pthread_mutex_unlock(&s->mu);
    while (q) {
        server_req *next = q->next;
        server_complete(s, q, 503, server_fmt("{\"error\":\"shutting down\"}"));
        q = next;
    }
    fail_pending_writes(s);
    while (s->pending_reads) {
        server_req *r = s->pending_reads;
        s->pending_reads = r->pnext;
        server_complete(s, r, 503, server_fmt("{\"error\":\"shutting down\"}"));
    }
}

void server_stop(server *s)
{
    if (!s)
        return;
    pthread_mutex_lock(&s->mu);
    s->stop = true;
    pthread_mutex_unlock(&s->mu);
    if (s->thread_started) {
        poke(s->wake_fd);
        pthread_join(s->thread, NULL);
    }
    answer_leftovers(s);
    server_http_stop(s);
    transport_stop(s->tp);
    raft_free(s->raft);
    raft_storage_close(s->storage);
    kvsm_free(s->sm);
    if (s->wake_fd >= 0)
        close(s->wake_fd);
    server_log(s, "stopped");
    pthread_mutex_destroy(&s->mu);
    pthread_mutex_destroy(&s->log_mu);
    fl_free(s);
}
