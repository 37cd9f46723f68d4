/*
 * A deterministic simulated Raft cluster. One seed drives everything: message
 * loss, delay (and so reordering), duplication, partitions, crashes that lose
 * whatever a node had not persisted through its Ready, restarts from that
 * "disk", client proposals and ReadIndex reads. After every tick the oracle
 * checks Raft's safety properties (Figure 3): election safety, log matching,
 * leader completeness, state-machine safety, plus ReadIndex linearizability.
 * Then the network heals and the cluster must make progress in bounded time.
 *
 * Every message goes through raft_msg_encode/decode, so the codec is
 * exercised too.
 *
 *   RAFT_SIM_SEEDS=N   seeds per configuration (default below)
 *   RAFT_SIM_SEED=S    replay only seed S (printed on failure)
 *   RAFT_SIM_STORAGE_SEEDS=N  seeds run through raft_storage files
 *   RAFT_SIM_VERBOSE=1 print per-seed statistics
 *   RAFT_SIM_TRACE=1   print elections, crashes and restarts as they happen
 *   RAFT_SIM_VV=N      run the volatile-vote experiment over N seeds
 *                      (test_vv_hunt: a measurement, not a test; its knobs,
 *                      VV_*, are described above it)
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "targets/raftkv/raft.h"
#include "targets/raftkv/raft_storage.h"

#define MAXN 5
#define CHAOS_TICKS 600
#define HEAL_TICKS 400
#define DEFAULT_SEEDS 7000
#define DEFAULT_STORAGE_SEEDS 20

/* ---- the simulated world ---------------------------------------------------------- */

typedef struct sim_disk {
    raft_hard_state hs;
    raft_snapshot snap;
    raft_entry *ents;
    size_t n, cap;
} sim_disk;

typedef struct sim_node {
    raft_node *r; /* NULL while crashed */
    sim_disk disk;
    raft_storage *st; /* real storage too, when the sim runs with it */
    char *dir;
    uint64_t app_index; /* state machine: index applied and chain hash */
    uint64_t app_hash;
} sim_node;

typedef struct sim_msg {
    uint64_t at;
    raft_id to;
    uint8_t *buf;
    size_t len;
    uint64_t sent;
    raft_id from;
    uint64_t seq;
    bool held;      /* real: waiting in a transport queue or TCP buffer */
} sim_msg;

typedef struct sim_link {
    bool broken;      /* transport noticed the peer gone */
    uint64_t retry_at;
    uint32_t backoff;
} sim_link;

typedef struct sim_read {
    raft_id node;
    uint64_t ctx;
    uint64_t min_index; /* highest commit anyone knew when it was asked */
} sim_read;

/* What the oracle knows about each committed index. */
typedef struct sim_commit {
    uint64_t term;       /* 0: not known committed */
    uint64_t value;      /* entry payload (0 for a no-op) */
    uint64_t chain;      /* state-machine hash after applying it */
    uint64_t seen_term;  /* term of the node that first applied it */
} sim_commit;

typedef struct sim_opts {
    uint32_t n;
    double loss, dup;
    uint32_t max_delay;
    double crash, restart, partition;
    double crash_mid_ready; /* after persisting, before sending */
    bool volatile_vote, stale_read;
    bool stop_on_violation_only; /* bug hunting: skip the progress check */
    bool vary; /* derive fault rates and timeouts from the seed too */
    bool storage; /* also persist through raft_storage in temp dirs */
    /* Experiment knobs (test_vv_hunt): what a real nemesis can do. */
    bool real;           /* per-link FIFO, no dup; messages never survive a
                            receiver restart except via the transport's
                            backoff queue; cut messages are held (TCP
                            retransmits) and released after the heal */
    bool survive;        /* real: in-flight messages survive a restart */
    bool count_double;   /* count two-leader terms instead of stopping */
    uint32_t min_down;   /* crash..restart at least this many ticks */
    uint32_t delay, jitter; /* real: extra latency (netem), ticks */
    uint32_t election_ticks, heartbeat_ticks; /* 0: defaults */
    uint64_t chaos_ticks; /* 0: CHAOS_TICKS */
    /* A targeted schedule: every `period` ticks kill the leader, then at a
     * uniform offset in [1, win] kill a follower; each restarts `down`
     * ticks after its kill. */
    uint32_t period, win, down;
} sim_opts;

typedef struct sim {
    sim_opts o;
    uint32_t election_ticks, heartbeat_ticks, max_entries;
    bool pre_vote, check_quorum;
    uint64_t seed, rng, tick;
    sim_node nodes[MAXN + 1];
    bool cut[MAXN + 1][MAXN + 1];
    double loss, dup, crash_mid_ready;
    uint32_t max_delay;
    sim_msg *msgs;
    size_t n_msgs, cap_msgs;
    uint64_t seq;
    sim_link link[MAXN + 1][MAXN + 1];
    uint64_t crashed_at[MAXN + 1], started_at[MAXN + 1];
    uint64_t last_at[MAXN + 1][MAXN + 1];
    uint64_t n_double, n_double_simul, n_vote_requeued, last_double_term;
    uint64_t restart_at[MAXN + 1];
    uint64_t second_kill_at;
    raft_id *leader_of; /* by term */
    size_t cap_terms;
    sim_commit *commits; /* by index */
    size_t cap_commits;
    uint64_t max_commit;
    sim_read *reads;
    size_t n_reads, cap_reads;
    uint64_t next_value, next_ctx;
    uint64_t want_value; /* heal phase: the proposal that must commit */
    bool want_seen;
    char violation[512];
    /* statistics */
    uint64_t n_leaders, n_applied, n_reads_ok, n_crashes, n_snap_installs,
        n_truncations;
} sim;

static uint64_t rnd(sim *s)
{
    uint64_t z = (s->rng += 0x9e3779b97f4a7c15ULL);
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
    return z ^ (z >> 31);
}

static bool chance(sim *s, double p)
{
    return (double)(rnd(s) >> 11) / 9007199254740992.0 < p;
}

static uint32_t below(sim *s, uint32_t n) { return (uint32_t)(rnd(s) % n); }

static void *xrealloc(void *p, size_t n)
{
    void *q = realloc(p, n);
    assert_non_null(q);
    return q;
}

static int g_trace = -1;
static bool tracing(void)
{
    if (g_trace < 0)
        g_trace = getenv("RAFT_SIM_TRACE") != NULL;
    return g_trace;
}
#define TR(s, ...)                                                          \
    do {                                                                    \
        if (tracing()) {                                                    \
            fprintf(stderr, "t%4llu ", (unsigned long long)(s)->tick);      \
            fprintf(stderr, __VA_ARGS__);                                   \
            fputc('\n', stderr);                                           \
        }                                                                   \
    } while (0)

/* Grow an array indexed by i (elements of sz, zero-filled). */
static void ensure(void **arr, size_t *cap, size_t i, size_t sz)
{
    if (i < *cap)
        return;
    size_t nc = *cap ? *cap : 64;
    while (nc <= i)
        nc *= 2;
    *arr = xrealloc(*arr, nc * sz);
    memset((char *)*arr + *cap * sz, 0, (nc - *cap) * sz);
    *cap = nc;
}

static void violate(sim *s, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));
static void violate(sim *s, const char *fmt, ...)
{
    if (s->violation[0])
        return;
    va_list ap;
    va_start(ap, fmt);
    int k = snprintf(s->violation, sizeof s->violation, "tick %llu: ",
                     (unsigned long long)s->tick);
    vsnprintf(s->violation + k, sizeof s->violation - (size_t)k, fmt, ap);
    va_end(ap);
}

static uint64_t mix(uint64_t h, uint64_t v)
{
    h ^= v + 0x9e3779b97f4a7c15ULL + (h << 6) + (h >> 2);
    return h * 0xff51afd7ed558ccdULL;
}

static uint64_t entry_value(const raft_entry *e)
{
    uint64_t v = 0;
    if (e->type == RAFT_ENTRY_NORMAL && e->len == 8)
        memcpy(&v, e->data, 8);
    return v;
}

/* ---- disk ---------------------------------------------------------------------------- */

static void disk_free(sim_disk *d)
{
    for (size_t i = 0; i < d->n; i++)
        free(d->ents[i].data);
    free(d->ents);
    free(d->snap.data);
    memset(d, 0, sizeof *d);
}

static uint64_t disk_last(const sim_disk *d)
{
    return d->snap.index + d->n;
}

static void copy_into(raft_entry *dst, const raft_entry *src)
{
    *dst = *src;
    dst->data = NULL;
    if (src->len) {
        dst->data = xrealloc(NULL, src->len);
        memcpy(dst->data, src->data, src->len);
    }
}

static void disk_set_snapshot(sim_disk *d, const raft_snapshot *snap)
{
    free(d->snap.data);
    d->snap = *snap;
    d->snap.data = xrealloc(NULL, snap->len ? snap->len : 1);
    memcpy(d->snap.data, snap->data, snap->len);
}

/* Drop disk entries <= index (a local compaction). */
static void disk_compact(sim_disk *d, uint64_t index)
{
    size_t drop = (size_t)(index - d->snap.index);
    if (drop > d->n)
        drop = d->n;
    for (size_t i = 0; i < drop; i++)
        free(d->ents[i].data);
    memmove(d->ents, d->ents + drop, (d->n - drop) * sizeof *d->ents);
    d->n -= drop;
}

/* Step 1 of the Ready contract, checking that the core's instructions make
 * sense against what is on disk. The writes land in the order raft_storage
 * makes them (snapshot, hard state, truncation, entries); a torn persist (a
 * crash mid-write) keeps only the first `limit` of them. */
static void persist(sim *s, raft_id id, const raft_ready *rd, size_t limit)
{
    sim_disk *d = &s->nodes[id].disk;
    s->n_truncations += rd->truncate_from != 0;
    if (rd->snapshot && limit) {
        limit--;
        s->n_snap_installs++;
        disk_set_snapshot(d, rd->snapshot);
        for (size_t i = 0; i < d->n; i++)
            free(d->ents[i].data);
        d->n = 0;
    }
    if (rd->hard_state_changed && limit) {
        limit--;
        d->hs = rd->hard_state;
    }
    if (rd->truncate_from && limit) {
        limit--;
        if (rd->truncate_from <= d->snap.index ||
            rd->truncate_from > disk_last(d) + 1)
            violate(s, "node %u: truncate_from %llu outside disk log", id,
                    (unsigned long long)rd->truncate_from);
        else
            while (disk_last(d) >= rd->truncate_from)
                free(d->ents[--d->n].data);
    }
    for (size_t i = 0; i < rd->n_entries && limit; i++, limit--) {
        if (rd->entries[i].index != disk_last(d) + 1) {
            violate(s, "node %u: Ready entry %llu does not follow disk log "
                    "ending at %llu", id,
                    (unsigned long long)rd->entries[i].index,
                    (unsigned long long)disk_last(d));
            return;
        }
        ensure((void **)&d->ents, &d->cap, d->n, sizeof *d->ents);
        copy_into(&d->ents[d->n++], &rd->entries[i]);
    }
}

static size_t persist_steps(const raft_ready *rd)
{
    return (rd->snapshot != NULL) + rd->hard_state_changed +
           (rd->truncate_from != 0) + rd->n_entries;
}

/* With real storage, the same writes go to files too. */
static void persist_storage(sim *s, raft_id id, const raft_ready *rd)
{
    raft_storage *st = s->nodes[id].st;
    fl_error err = {0};
    if (st && raft_storage_save_ready(st, rd, &err) != FL_OK)
        violate(s, "node %u: storage: %s", id, err.msg);
}

/* ---- network --------------------------------------------------------------------------- */

static void net_send(sim *s, const raft_msg *m)
{
    if (s->o.real) {
        uint8_t *buf;
        size_t len;
        fl_error err = {0};
        assert_int_equal(raft_msg_encode(m, &buf, &len, &err), FL_OK);
        sim_link *l = &s->link[m->from][m->to];
        bool held = l->broken || s->cut[m->from][m->to];
        uint64_t at = s->tick + 1 + s->o.delay + below(s, s->o.jitter + 1);
        if (at < s->last_at[m->from][m->to])
            at = s->last_at[m->from][m->to]; /* TCP keeps order */
        if (!held)
            s->last_at[m->from][m->to] = at;
        ensure((void **)&s->msgs, &s->cap_msgs, s->n_msgs, sizeof *s->msgs);
        s->msgs[s->n_msgs++] = (sim_msg){
            .at = held ? UINT64_MAX : at, .to = m->to, .buf = buf,
            .len = len, .sent = s->tick, .from = m->from, .seq = ++s->seq,
            .held = held};
        return;
    }
    if (s->cut[m->from][m->to] || chance(s, s->loss))
        return;
    int copies = chance(s, s->dup) ? 2 : 1;
    for (int c = 0; c < copies; c++) {
        uint8_t *buf;
        size_t len;
        fl_error err = {0};
        assert_int_equal(raft_msg_encode(m, &buf, &len, &err), FL_OK);
        ensure((void **)&s->msgs, &s->cap_msgs, s->n_msgs, sizeof *s->msgs);
        s->msgs[s->n_msgs++] = (sim_msg){
            .at = s->tick + 1 + below(s, s->max_delay + 1), .to = m->to,
            .buf = buf, .len = len, .sent = s->tick};
    }
}

static void deliver(sim *s, const sim_msg *sm)
{
    sim_node *nd = &s->nodes[sm->to];
    if (!nd->r)
        return;
    if (s->o.real && !s->o.survive && sm->sent < s->started_at[sm->to] &&
        !sm->held)
        return; /* its TCP connection died with the old process */
    raft_msg m;
    fl_error err = {0};
    assert_int_equal(raft_msg_decode(sm->buf, sm->len, &m, &err), FL_OK);
    if (s->o.real || !s->cut[m.from][m.to]) {
        if (tracing() && m.type <= RAFT_MSG_VOTE_RESP) {
            raft_status b;
            raft_get_status(nd->r, &b);
            TR(s, "deliver %s %u->%u term %llu%s (recv term %llu) sent@%llu",
               raft_msg_type_name(m.type), m.from, m.to,
               (unsigned long long)m.term, m.reject ? " REJECT" : "",
               (unsigned long long)b.term, (unsigned long long)sm->sent);
        }
        int rc = raft_step(nd->r, &m, &err);
        if (rc != FL_OK)
            violate(s, "node %u rejected a message: %s", sm->to, err.msg);
    }
    raft_msg_free(&m);
}

/* Deliver every message due, in a random order among those due. */
static void net_deliver_due_fifo(sim *s)
{
    for (;;) {
        size_t best = SIZE_MAX;
        for (size_t k = 0; k < s->n_msgs; k++)
            if (s->msgs[k].at <= s->tick &&
                (best == SIZE_MAX || s->msgs[k].seq < s->msgs[best].seq))
                best = k;
        if (best == SIZE_MAX)
            return;
        sim_msg sm = s->msgs[best];
        s->msgs[best] = s->msgs[--s->n_msgs];
        deliver(s, &sm);
        free(sm.buf);
    }
}

static void drop_msgs_if(sim *s, raft_id from, raft_id to, bool held_only)
{
    for (size_t k = 0; k < s->n_msgs;) {
        sim_msg *m = &s->msgs[k];
        if ((!from || m->from == from) && (!to || m->to == to) &&
            (!held_only || m->held)) {
            free(m->buf);
            *m = s->msgs[--s->n_msgs];
        } else {
            k++;
        }
    }
}

/* Release held messages on a link: they go out in order, now. */
static void release(sim *s, raft_id from, raft_id to, uint64_t extra)
{
    uint64_t at = s->tick + 1 + s->o.delay + extra;
    if (at < s->last_at[from][to])
        at = s->last_at[from][to];
    for (size_t k = 0; k < s->n_msgs; k++) {
        sim_msg *m = &s->msgs[k];
        if (m->held && m->from == from && m->to == to) {
            if (s->started_at[to] > m->sent) {
                raft_msg dm;
                fl_error err = {0};
                if (raft_msg_decode(m->buf, m->len, &dm, &err) == FL_OK) {
                    if (dm.type == RAFT_MSG_VOTE) {
                        s->n_vote_requeued++; /* across a restart */
                        TR(s, "REQUEUED vote %u->%u term %llu sent@%llu", from,
                           to, (unsigned long long)dm.term,
                           (unsigned long long)m->sent);
                    }
                    raft_msg_free(&dm);
                }
            }
            m->held = false;
            m->at = at;
            m->sent = s->tick; /* on the new connection */
        }
    }
    s->last_at[from][to] = at;
}

/* The transport's reconnect loop (transport.c): a broken link keeps queuing;
 * each retry either finds the peer up (queue flushed to it) or not (queue
 * dropped, backoff doubled 5..100 ticks = 50 ms..1 s). */
static void links_tick(sim *s)
{
    for (raft_id f = 1; f <= s->o.n; f++)
        for (raft_id t = 1; t <= s->o.n; t++) {
            sim_link *l = &s->link[f][t];
            if (f == t || !l->broken || s->tick < l->retry_at)
                continue;
            if (s->cut[f][t])
                continue; /* connect stalls; simplification: wait */
            if (s->nodes[t].r) {
                l->broken = false;
                l->backoff = 0;
                release(s, f, t, 0);
            } else {
                drop_msgs_if(s, f, t, true);
                l->backoff = l->backoff ? l->backoff * 2 : 5;
                if (l->backoff > 100)
                    l->backoff = 100;
                l->retry_at = s->tick + l->backoff;
            }
        }
}

static void net_deliver_due(sim *s)
{
    if (s->o.real) {
        net_deliver_due_fifo(s);
        return;
    }
    size_t i = 0;
    while (i < s->n_msgs) {
        size_t j = i + below(s, (uint32_t)(s->n_msgs - i));
        if (s->msgs[j].at > s->tick) {
            /* Scan for any due message instead of giving up. */
            j = s->n_msgs;
            for (size_t k = i; k < s->n_msgs; k++)
                if (s->msgs[k].at <= s->tick) {
                    j = k;
                    break;
                }
            if (j == s->n_msgs)
                break;
        }
        sim_msg sm = s->msgs[j];
        s->msgs[j] = s->msgs[i];
        s->msgs[i] = s->msgs[--s->n_msgs];
        deliver(s, &sm);
        free(sm.buf);
    }
}

static void net_clear(sim *s)
{
    for (size_t i = 0; i < s->n_msgs; i++)
        free(s->msgs[i].buf);
    s->n_msgs = 0;
}

/* ---- the oracle --------------------------------------------------------------------------- */

static void note_leader(sim *s, raft_id id, uint64_t term)
{
    ensure((void **)&s->leader_of, &s->cap_terms, (size_t)term,
           sizeof *s->leader_of);
    raft_id *l = &s->leader_of[term];
    if (*l != id)
        TR(s, "LEADER node %u term %llu", id, (unsigned long long)term);
    if (*l == RAFT_NONE) {
        *l = id;
        s->n_leaders++;
    } else if (*l != id && s->o.count_double) {
        *l = id;
        if (term == s->last_double_term)
            return; /* count each term once */
        s->last_double_term = term;
        s->n_double++;
        TR(s, "DOUBLE term %llu", (unsigned long long)term);
        for (raft_id o = 1; o <= s->o.n; o++) {
            raft_status b;
            if (o == id || !s->nodes[o].r)
                continue;
            raft_get_status(s->nodes[o].r, &b);
            if (b.role == RAFT_LEADER && b.term == term) {
                s->n_double_simul++;
                break;
            }
        }
    } else if (*l != id) {
        violate(s, "election safety: nodes %u and %u both leader in term %llu",
                *l, id, (unsigned long long)term);
    }
}

static void apply_entry(sim *s, raft_id id, const raft_entry *e)
{
    sim_node *nd = &s->nodes[id];
    raft_status st;
    raft_get_status(nd->r, &st);
    if (e->index != nd->app_index + 1) {
        violate(s, "node %u applied index %llu after %llu", id,
                (unsigned long long)e->index,
                (unsigned long long)nd->app_index);
        return;
    }
    uint64_t v = entry_value(e);
    nd->app_hash = mix(mix(nd->app_hash, e->term), v);
    nd->app_index = e->index;
    ensure((void **)&s->commits, &s->cap_commits, (size_t)e->index,
           sizeof *s->commits);
    sim_commit *c = &s->commits[e->index];
    if (v && v == s->want_value)
        s->want_seen = true;
    if (c->term == 0) {
        *c = (sim_commit){.term = e->term, .value = v, .chain = nd->app_hash,
                          .seen_term = st.term};
        s->n_applied++;
    } else if (c->term != e->term || c->value != v ||
               c->chain != nd->app_hash) {
        violate(s, "state-machine safety: index %llu applied as term %llu "
                "value %llu on node %u, but as term %llu value %llu before",
                (unsigned long long)e->index, (unsigned long long)e->term,
                (unsigned long long)v, id, (unsigned long long)c->term,
                (unsigned long long)c->value);
    }
}

static void encode_app(const sim_node *nd, uint8_t out[16])
{
    memcpy(out, &nd->app_index, 8);
    memcpy(out + 8, &nd->app_hash, 8);
}

static void load_snapshot(sim *s, raft_id id, const raft_snapshot *snap)
{
    sim_node *nd = &s->nodes[id];
    if (snap->len != 16) {
        violate(s, "node %u: snapshot of %u bytes", id, snap->len);
        return;
    }
    memcpy(&nd->app_index, snap->data, 8);
    memcpy(&nd->app_hash, snap->data + 8, 8);
    if (nd->app_index != snap->index)
        violate(s, "node %u: snapshot at %llu holds state of %llu", id,
                (unsigned long long)snap->index,
                (unsigned long long)nd->app_index);
    if (snap->index < s->cap_commits && s->commits[snap->index].term &&
        s->commits[snap->index].chain != nd->app_hash)
        violate(s, "state-machine safety: snapshot at %llu differs from the "
                "applied state",
                (unsigned long long)snap->index);
}

static void check_reads(sim *s, raft_id id, const raft_ready *rd)
{
    for (size_t i = 0; i < rd->n_reads; i++) {
        const raft_read_state *r = &rd->reads[i];
        for (size_t j = 0; j < s->n_reads; j++) {
            if (s->reads[j].ctx != r->ctx)
                continue;
            if (s->reads[j].node != id)
                violate(s, "read %llu answered by node %u, asked of %u",
                        (unsigned long long)r->ctx, id, s->reads[j].node);
            if (r->ok && r->index < s->reads[j].min_index)
                violate(s, "read linearizability: node %u gave read index "
                        "%llu but %llu was committed before the read",
                        id, (unsigned long long)r->index,
                        (unsigned long long)s->reads[j].min_index);
            s->n_reads_ok += r->ok;
            s->reads[j] = s->reads[--s->n_reads];
            break;
        }
    }
}

/* Leader completeness: an entry committed in term t is in the log of every
 * leader of a term > t (and of t itself). */
static void check_leader_complete(sim *s, raft_id id)
{
    raft_node *r = s->nodes[id].r;
    raft_status st;
    raft_get_status(r, &st);
    for (uint64_t i = st.snapshot_index + 1;
         i < s->cap_commits && s->commits[i].term; i++) {
        if (s->commits[i].seen_term > st.term)
            continue;
        if (raft_term_at(r, i) != s->commits[i].term)
            violate(s, "leader completeness: leader %u of term %llu lacks "
                    "committed index %llu (term %llu)",
                    id, (unsigned long long)st.term, (unsigned long long)i,
                    (unsigned long long)s->commits[i].term);
    }
}

/* Log matching: if two logs hold an entry with the same index and term, they
 * are identical up to it. */
static void check_log_matching(sim *s, raft_id a, raft_id b)
{
    raft_node *ra = s->nodes[a].r, *rb = s->nodes[b].r;
    raft_status sa, sb;
    raft_get_status(ra, &sa);
    raft_get_status(rb, &sb);
    uint64_t lo = sa.first_index > sb.first_index ? sa.first_index
                                                  : sb.first_index;
    uint64_t hi = sa.last_index < sb.last_index ? sa.last_index
                                                : sb.last_index;
    bool matched = false;
    for (uint64_t i = hi; i >= lo && i > 0; i--) {
        bool same = raft_term_at(ra, i) == raft_term_at(rb, i);
        if (matched && !same) {
            violate(s, "log matching: nodes %u and %u agree above %llu but "
                    "differ at it", a, b, (unsigned long long)i);
            return;
        }
        matched = matched || same;
    }
}

static void check_world(sim *s)
{
    for (raft_id i = 1; i <= s->o.n; i++) {
        if (!s->nodes[i].r)
            continue;
        raft_status st;
        raft_get_status(s->nodes[i].r, &st);
        if (st.commit > s->max_commit)
            s->max_commit = st.commit;
        if (st.role == RAFT_LEADER) {
            note_leader(s, i, st.term);
            check_leader_complete(s, i);
        }
        if (s->tick % 8 == 0)
            for (raft_id j = i + 1; j <= s->o.n; j++)
                if (s->nodes[j].r)
                    check_log_matching(s, i, j);
    }
}

/* ---- driving nodes ----------------------------------------------------------------------- */

static void crash(sim *s, raft_id id)
{
    if (tracing()) {
        raft_status b;
        raft_get_status(s->nodes[id].r, &b);
        TR(s, "CRASH node %u (term %llu role %d) disk term %llu vote %u", id,
           (unsigned long long)b.term, b.role,
           (unsigned long long)s->nodes[id].disk.hs.term,
           s->nodes[id].disk.hs.vote);
    }
    raft_free(s->nodes[id].r);
    s->nodes[id].r = NULL;
    s->n_crashes++;
    s->crashed_at[id] = s->tick;
    if (s->o.real) {
        /* its own outgoing queues die with it; peers see EOF now (unless
         * cut, when they only notice on the next stall: simplified) */
        drop_msgs_if(s, id, 0, false);
        for (raft_id p = 1; p <= s->o.n; p++) {
            memset(&s->link[id][p], 0, sizeof s->link[id][p]);
            if (p == id || s->link[p][id].broken)
                continue;
            s->link[p][id] = (sim_link){.broken = true,
                                        .retry_at = s->tick + 5,
                                        .backoff = 5};
        }
        drop_msgs_if(s, 0, id, true); /* held in dead TCP buffers */
    }
}

/* The files must hold exactly what the model disk holds. */
static void compare_restore(sim *s, raft_id id, const raft_restore *a,
                            const raft_restore *b)
{
    bool same = a->hard_state.term == b->hard_state.term &&
                a->hard_state.vote == b->hard_state.vote &&
                a->snapshot.index == b->snapshot.index &&
                a->snapshot.term == b->snapshot.term &&
                a->snapshot.len == b->snapshot.len &&
                a->n_entries == b->n_entries;
    for (size_t i = 0; same && i < a->n_entries; i++)
        same = a->entries[i].index == b->entries[i].index &&
               a->entries[i].term == b->entries[i].term &&
               a->entries[i].len == b->entries[i].len &&
               (!a->entries[i].len ||
                !memcmp(a->entries[i].data, b->entries[i].data,
                        a->entries[i].len));
    if (!same)
        violate(s, "node %u: storage recovered term %llu, snapshot %llu, %zu "
                "entries; the model disk has term %llu, snapshot %llu, %zu",
                id, (unsigned long long)b->hard_state.term,
                (unsigned long long)b->snapshot.index, b->n_entries,
                (unsigned long long)a->hard_state.term,
                (unsigned long long)a->snapshot.index, a->n_entries);
}

static void reopen_storage(sim *s, raft_id id, raft_restore *rs)
{
    sim_node *nd = &s->nodes[id];
    if (!nd->dir) {
        /* tmpfs when there is one: this tests logic, not the disk's fsync
         * latency (TMPDIR overrides). */
        const char *base = getenv("TMPDIR");
        if (!base || !*base)
            base = access("/dev/shm", W_OK) == 0 ? "/dev/shm" : "/tmp";
        char tmpl[512];
        snprintf(tmpl, sizeof tmpl, "%s/raft_sim_XXXXXX", base);
        assert_non_null(mkdtemp(tmpl));
        nd->dir = strdup(tmpl);
    }
    raft_storage_close(nd->st);
    nd->st = NULL;
    fl_error err = {0};
    if (raft_storage_open(nd->dir, NULL, &nd->st, &err) != FL_OK)
        fail_msg("seed %llu: node %u storage: %s",
                 (unsigned long long)s->seed, id, err.msg);
    raft_restore fs;
    raft_storage_restore(nd->st, &fs);
    compare_restore(s, id, rs, &fs);
    *rs = fs;
}

static void start(sim *s, raft_id id)
{
    sim_node *nd = &s->nodes[id];
    raft_config cfg;
    raft_config_init(&cfg);
    cfg.id = id;
    cfg.n_nodes = s->o.n;
    cfg.seed = s->seed * 31 + s->tick;
    cfg.bug_volatile_vote = s->o.volatile_vote;
    cfg.bug_stale_read = s->o.stale_read;
    cfg.max_entries_per_msg = s->max_entries;
    cfg.election_ticks = s->election_ticks;
    cfg.heartbeat_ticks = s->heartbeat_ticks;
    cfg.pre_vote = s->pre_vote;
    cfg.check_quorum = s->check_quorum;
    raft_restore rs = {.hard_state = nd->disk.hs, .snapshot = nd->disk.snap,
                       .entries = nd->disk.ents, .n_entries = nd->disk.n};
    if (s->o.storage)
        reopen_storage(s, id, &rs);
    fl_error err = {0};
    int rc = raft_new(&cfg, &rs, &nd->r, &err);
    if (rc != FL_OK)
        fail_msg("seed %llu: restart of node %u failed: %s",
                 (unsigned long long)s->seed, id, err.msg);
    s->started_at[id] = s->tick;
    TR(s, "START node %u term %llu vote %u last %llu", id,
       (unsigned long long)nd->disk.hs.term, nd->disk.hs.vote,
       (unsigned long long)disk_last(&nd->disk));
    nd->app_index = 0;
    nd->app_hash = 0;
    if (nd->disk.snap.index)
        load_snapshot(s, id, &nd->disk.snap);
}

/* The application's side of compaction: snapshot what it applied. */
static void maybe_compact(sim *s, raft_id id)
{
    sim_node *nd = &s->nodes[id];
    raft_status st;
    raft_get_status(nd->r, &st);
    if (nd->app_index < st.snapshot_index + 8 || !chance(s, 0.3))
        return;
    uint8_t bytes[16];
    encode_app(nd, bytes);
    fl_error err = {0};
    assert_int_equal(raft_compact(nd->r, nd->app_index, bytes, 16, &err),
                     FL_OK);
    raft_get_status(nd->r, &st);
    raft_snapshot snap = {.index = st.snapshot_index,
                          .term = st.snapshot_term, .len = 16, .data = bytes};
    disk_compact(&nd->disk, snap.index);
    disk_set_snapshot(&nd->disk, &snap);
    if (nd->st && raft_storage_save_snapshot(nd->st, snap.index, snap.term,
                                             bytes, 16, &err) != FL_OK)
        violate(s, "node %u: storage snapshot: %s", id, err.msg);
}

static void handle_ready(sim *s, raft_id id)
{
    sim_node *nd = &s->nodes[id];
    if (!nd->r || !raft_has_ready(nd->r))
        return;
    raft_ready rd;
    raft_ready_get(nd->r, &rd);
    if (!nd->st && chance(s, s->crash_mid_ready)) {
        persist(s, id, &rd, below(s, (uint32_t)persist_steps(&rd) + 1));
        crash(s, id);
        return;
    }
    persist(s, id, &rd, SIZE_MAX);
    persist_storage(s, id, &rd);
    if (chance(s, s->crash_mid_ready)) {
        crash(s, id);
        return;
    }
    for (size_t i = 0; i < rd.n_msgs; i++)
        net_send(s, &rd.msgs[i]);
    if (rd.snapshot)
        load_snapshot(s, id, rd.snapshot);
    for (size_t i = 0; i < rd.n_committed; i++)
        apply_entry(s, id, &rd.committed[i]);
    check_reads(s, id, &rd);
    if (rd.soft_state_changed && rd.soft_state.role == RAFT_LEADER)
        note_leader(s, id, rd.soft_state.term);
    raft_advance(nd->r);
    maybe_compact(s, id);
}

/* A client asks a node; a follower's leader hint redirects it once. */
static raft_id redirect(sim *s, raft_id id)
{
    raft_status st;
    raft_get_status(s->nodes[id].r, &st);
    if (st.role != RAFT_LEADER && st.leader && s->nodes[st.leader].r)
        return st.leader;
    return id;
}

static void propose(sim *s, raft_id id)
{
    uint64_t v = ++s->next_value;
    raft_proposal p;
    fl_error err = {0};
    int rc = raft_propose(s->nodes[id].r, &v, 8, &p, &err);
    if (rc != FL_OK && rc != RAFT_ENOTLEADER)
        violate(s, "propose on %u: %s", id, err.msg);
}

static void read_index(sim *s, raft_id id)
{
    uint64_t ctx = ++s->next_ctx;
    fl_error err = {0};
    int rc = raft_read_index(s->nodes[id].r, ctx, NULL, &err);
    if (rc == FL_OK) {
        ensure((void **)&s->reads, &s->cap_reads, s->n_reads,
               sizeof *s->reads);
        s->reads[s->n_reads++] =
            (sim_read){.node = id, .ctx = ctx, .min_index = s->max_commit};
    } else if (rc != RAFT_ENOTLEADER) {
        violate(s, "read_index on %u: %s", id, err.msg);
    }
}

/* Grudges: random halves, or one node isolated, or healed. */
static uint64_t g_cut_since;
static void release_uncut(sim *s, bool old[MAXN + 1][MAXN + 1])
{
    /* TCP retransmits what iptables dropped; RTO backs off 200 ms, 400 ms,
     * ... so the burst lands up to about the cut's length after the heal. */
    uint64_t dur = s->tick - g_cut_since;
    uint64_t rto = dur < 20 ? 20 : dur > 300 ? 300 : dur;
    for (raft_id f = 1; f <= s->o.n; f++)
        for (raft_id t = 1; t <= s->o.n; t++)
            if (old[f][t] && !s->cut[f][t] && !s->link[f][t].broken)
                release(s, f, t, below(s, (uint32_t)rto));
}

static void repartition(sim *s)
{
    bool old[MAXN + 1][MAXN + 1];
    memcpy(old, s->cut, sizeof old);
    g_cut_since = s->tick;
    memset(s->cut, 0, sizeof s->cut);
    if (s->o.real) {
        uint32_t kind = below(s, 3);
        if (kind != 0) {
            bool side[MAXN + 1] = {0};
            if (kind == 1)
                side[1 + below(s, s->o.n)] = true;
            else
                for (raft_id i = 1; i <= s->o.n; i++)
                    side[i] = chance(s, 0.5);
            for (raft_id i = 1; i <= s->o.n; i++)
                for (raft_id j = 1; j <= s->o.n; j++)
                    s->cut[i][j] = side[i] != side[j];
        }
        release_uncut(s, old);
        return;
    }
    uint32_t kind = below(s, 3);
    if (kind == 0)
        return;
    bool side[MAXN + 1] = {0};
    if (kind == 1) {
        side[1 + below(s, s->o.n)] = true;
    } else {
        for (raft_id i = 1; i <= s->o.n; i++)
            side[i] = chance(s, 0.5);
    }
    for (raft_id i = 1; i <= s->o.n; i++)
        for (raft_id j = 1; j <= s->o.n; j++)
            s->cut[i][j] = side[i] != side[j];
}

static raft_id random_node(sim *s, bool up)
{
    raft_id ids[MAXN];
    uint32_t k = 0;
    for (raft_id i = 1; i <= s->o.n; i++)
        if ((s->nodes[i].r != NULL) == up)
            ids[k++] = i;
    return k ? ids[below(s, k)] : RAFT_NONE;
}

static void tick_all(sim *s)
{
    s->tick++;
    for (raft_id i = 1; i <= s->o.n; i++) {
        fl_error err = {0};
        if (s->nodes[i].r && raft_tick(s->nodes[i].r, &err) != FL_OK)
            violate(s, "tick on %u: %s", i, err.msg);
    }
    for (raft_id i = 1; i <= s->o.n; i++)
        handle_ready(s, i);
    if (s->o.real)
        links_tick(s);
    net_deliver_due(s);
    for (raft_id i = 1; i <= s->o.n; i++)
        handle_ready(s, i);
    check_world(s);
}

static raft_id current_leader(sim *s)
{
    raft_id best = RAFT_NONE;
    uint64_t bt = 0;
    for (raft_id i = 1; i <= s->o.n; i++) {
        raft_status st;
        if (!s->nodes[i].r)
            continue;
        raft_get_status(s->nodes[i].r, &st);
        if (st.role == RAFT_LEADER && st.term >= bt) {
            best = i;
            bt = st.term;
        }
    }
    return best;
}

static void sched_tick(sim *s)
{
    for (raft_id i = 1; i <= s->o.n; i++)
        if (!s->nodes[i].r && s->restart_at[i] && s->tick >= s->restart_at[i]) {
            s->restart_at[i] = 0;
            start(s, i);
        }
    raft_id id;
    if (s->tick % s->o.period == 0) {
        id = current_leader(s);
        if (!id)
            id = random_node(s, true);
        if (id) {
            crash(s, id);
            s->restart_at[id] = s->tick + s->o.down;
        }
        s->second_kill_at = s->o.win ? s->tick + 1 + below(s, s->o.win) : 0;
    }
    if (s->second_kill_at && s->tick == s->second_kill_at &&
        (id = random_node(s, true))) {
        crash(s, id);
        s->restart_at[id] = s->tick + s->o.down;
    }
}

static void chaos_tick(sim *s)
{
    raft_id id;
    if (s->o.period)
        sched_tick(s);
    if (chance(s, 0.3) && (id = random_node(s, true)))
        propose(s, redirect(s, id));
    if (chance(s, 0.15) && (id = random_node(s, true)))
        read_index(s, redirect(s, id));
    if (chance(s, s->o.crash) && (id = random_node(s, true)))
        crash(s, id);
    if (chance(s, s->o.restart) && (id = random_node(s, false)) &&
        s->tick - s->crashed_at[id] >= s->o.min_down)
        start(s, id);
    if (chance(s, s->o.partition))
        repartition(s);
    tick_all(s);
}

/* After healing: a leader must emerge and a new proposal commit. */
static bool heal_and_progress(sim *s)
{
    memset(s->cut, 0, sizeof s->cut);
    s->loss = s->dup = s->crash_mid_ready = 0;
    s->max_delay = 1;
    for (raft_id i = 1; i <= s->o.n; i++)
        if (!s->nodes[i].r)
            start(s, i);
    uint64_t deadline = s->tick + HEAL_TICKS;
    s->want_value = 0;
    while (s->tick < deadline && !s->violation[0]) {
        tick_all(s);
        if (s->want_seen)
            return true;
        /* Propose on a leader; again every 20 ticks in case it was lost. */
        for (raft_id i = 1; i <= s->o.n; i++) {
            raft_status st;
            raft_get_status(s->nodes[i].r, &st);
            if (st.role == RAFT_LEADER &&
                (s->tick % 20 == 0 || !s->want_value)) {
                propose(s, i);
                s->want_value = s->next_value;
            }
        }
    }
    return false;
}

static void sim_free(sim *s)
{
    for (raft_id i = 1; i <= MAXN; i++) {
        sim_node *nd = &s->nodes[i];
        raft_free(nd->r);
        disk_free(&nd->disk);
        raft_storage_close(nd->st);
        if (nd->dir) {
            const char *names[] = {"log", "log.tmp", "snapshot",
                                   "snapshot.tmp"};
            char p[600];
            for (size_t k = 0; k < 4; k++) {
                snprintf(p, sizeof p, "%s/%s", nd->dir, names[k]);
                unlink(p);
            }
            rmdir(nd->dir);
            free(nd->dir);
        }
    }
    net_clear(s);
    free(s->msgs);
    free(s->leader_of);
    free(s->commits);
    free(s->reads);
}

static uint64_t g_last_double, g_last_simul, g_last_crashes, g_last_leaders,
    g_last_requeued;

/* Run one seed. Returns true if it passed; *why gets the violation. */
static bool run_seed(const sim_opts *o, uint64_t seed, char *why, size_t wlen)
{
    sim *s = calloc(1, sizeof *s);
    assert_non_null(s);
    s->o = *o;
    s->seed = seed;
    s->rng = seed * 0x2545f4914f6cdd1dULL + o->n;
    s->loss = o->loss;
    s->dup = o->dup;
    s->crash_mid_ready = o->crash_mid_ready;
    s->max_delay = o->max_delay;
    s->election_ticks = 10;
    s->heartbeat_ticks = 2;
    s->max_entries = 8;
    s->pre_vote = s->check_quorum = true;
    if (o->vary) {
        /* Both are liveness aids: safety must not depend on them. */
        s->pre_vote = !chance(s, 0.1);
        s->check_quorum = !chance(s, 0.1);
        /* Half the seeds keep the defaults; the rest roam the space. */
        if (chance(s, 0.5)) {
            s->o.loss = s->loss = (double)below(s, 30) / 100.0;
            s->o.dup = s->dup = (double)below(s, 10) / 100.0;
            s->max_delay = below(s, 9);
            s->o.partition = (double)(1 + below(s, 50)) / 1000.0;
            s->o.crash = (double)below(s, 30) / 1000.0;
            s->election_ticks = 4 + below(s, 17);
            s->heartbeat_ticks = 1 + below(s, s->election_ticks / 3);
            s->max_entries = 1 + below(s, 8);
        }
    }
    if (o->election_ticks)
        s->election_ticks = o->election_ticks;
    if (o->heartbeat_ticks)
        s->heartbeat_ticks = o->heartbeat_ticks;
    uint64_t chaos_ticks = o->chaos_ticks ? o->chaos_ticks : CHAOS_TICKS;
    for (raft_id i = 1; i <= o->n; i++)
        start(s, i);
    while (s->tick < chaos_ticks && !s->violation[0])
        chaos_tick(s);
    bool progress = s->violation[0] || o->stop_on_violation_only ||
                    heal_and_progress(s);
    if (!progress)
        violate(s, "liveness: no new commit within %d ticks of healing",
                HEAL_TICKS);
    if (getenv("RAFT_SIM_VERBOSE"))
        fprintf(stderr,
                "seed %llu n=%u: %llu leaders, %llu applied, %llu reads, "
                "%llu crashes, %llu snapshots installed, %llu truncations, "
                "%llu double (%llu simultaneous)%s%s\n",
                (unsigned long long)seed, o->n,
                (unsigned long long)s->n_leaders,
                (unsigned long long)s->n_applied,
                (unsigned long long)s->n_reads_ok,
                (unsigned long long)s->n_crashes,
                (unsigned long long)s->n_snap_installs,
                (unsigned long long)s->n_truncations,
                (unsigned long long)s->n_double,
                (unsigned long long)s->n_double_simul,
                s->violation[0] ? ": " : "",
                s->violation);
    bool ok = !s->violation[0];
    snprintf(why, wlen, "%s", s->violation);
    g_last_double = s->n_double;
    g_last_simul = s->n_double_simul;
    g_last_crashes = s->n_crashes;
    g_last_leaders = s->n_leaders;
    g_last_requeued = s->n_vote_requeued;
    sim_free(s);
    free(s);
    return ok;
}

/* ---- the tests ------------------------------------------------------------------------------ */

static uint64_t env_u64(const char *name, uint64_t dflt)
{
    const char *v = getenv(name);
    return v && *v ? strtoull(v, NULL, 10) : dflt;
}

static const sim_opts CHAOS = {.loss = 0.05, .dup = 0.03, .max_delay = 3,
                               .crash = 0.01, .restart = 0.05,
                               .partition = 0.02, .crash_mid_ready = 0.002,
                               .vary = true};

static void run_many(uint32_t n)
{
    sim_opts o = CHAOS;
    o.n = n;
    char why[512];
    const char *one = getenv("RAFT_SIM_SEED");
    if (one && *one) {
        uint64_t seed = strtoull(one, NULL, 10);
        if (!run_seed(&o, seed, why, sizeof why))
            fail_msg("n=%u seed %llu: %s", n, (unsigned long long)seed, why);
        return;
    }
    uint64_t seeds = env_u64("RAFT_SIM_SEEDS", DEFAULT_SEEDS);
    struct timespec t0, t1;
    clock_gettime(CLOCK_MONOTONIC, &t0);
    for (uint64_t seed = 1; seed <= seeds; seed++)
        if (!run_seed(&o, seed, why, sizeof why))
            fail_msg("n=%u seed %llu (replay: RAFT_SIM_SEED=%llu): %s", n,
                     (unsigned long long)seed, (unsigned long long)seed, why);
    clock_gettime(CLOCK_MONOTONIC, &t1);
    double secs = (double)(t1.tv_sec - t0.tv_sec) +
                  (double)(t1.tv_nsec - t0.tv_nsec) / 1e9;
    printf("raft sim n=%u: %llu seeds in %.1fs (%.1fs per 1000)\n", n,
           (unsigned long long)seeds, secs, secs * 1000.0 / (double)seeds);
}

static void test_sim_3_nodes(void **state)
{
    (void)state;
    run_many(3);
}

static void test_sim_5_nodes(void **state)
{
    (void)state;
    run_many(5);
}

/* Fewer seeds, through real files: after every restart the storage must
 * recover exactly what the model disk holds. */
static void test_sim_with_storage(void **state)
{
    (void)state;
    sim_opts o = CHAOS;
    o.n = 3;
    o.storage = true;
    o.crash = 0.03;
    o.restart = 0.2;
    char why[512];
    const char *one = getenv("RAFT_SIM_SEED");
    uint64_t first = one && *one ? strtoull(one, NULL, 10) : 1;
    uint64_t last = one && *one ? first
                                : env_u64("RAFT_SIM_STORAGE_SEEDS",
                                          DEFAULT_STORAGE_SEEDS);
    for (uint64_t seed = first; seed <= last; seed++)
        if (!run_seed(&o, seed, why, sizeof why))
            fail_msg("storage seed %llu (replay: RAFT_SIM_SEED=%llu): %s",
                     (unsigned long long)seed, (unsigned long long)seed, why);
}

/* The checks must be able to fail: with votes forgotten across crashes, some
 * seed must catch two leaders in one term. */
static void test_sim_finds_volatile_vote(void **state)
{
    (void)state;
    if (getenv("RAFT_SIM_SEED"))
        skip();
    sim_opts o = CHAOS;
    o.n = 3;
    o.volatile_vote = true;
    o.crash = 0.05;
    o.restart = 0.3;
    o.crash_mid_ready = 0.05;
    o.stop_on_violation_only = true;
    o.vary = false;
    char why[512];
    for (uint64_t seed = 1; seed <= 2000; seed++) {
        if (!run_seed(&o, seed, why, sizeof why) &&
            strstr(why, "election safety")) {
            printf("volatile_vote caught at seed %llu: %s\n",
                   (unsigned long long)seed, why);
            return;
        }
    }
    fail_msg("no seed in 2000 found two leaders in one term");
}

/* Likewise, reads answered without confirming leadership must be caught. */
static void test_sim_finds_stale_read(void **state)
{
    (void)state;
    if (getenv("RAFT_SIM_SEED"))
        skip();
    sim_opts o = CHAOS;
    o.n = 3;
    o.stale_read = true;
    o.partition = 0.05;
    o.stop_on_violation_only = true;
    o.vary = false;
    char why[512];
    for (uint64_t seed = 1; seed <= 2000; seed++) {
        if (!run_seed(&o, seed, why, sizeof why) &&
            strstr(why, "read linearizability")) {
            printf("stale_read caught at seed %llu: %s\n",
                   (unsigned long long)seed, why);
            return;
        }
    }
    fail_msg("no seed in 2000 found a stale read");
}

static double env_d(const char *name, double dflt)
{
    const char *v = getenv(name);
    return v && *v ? strtod(v, NULL) : dflt;
}

/* Experiment, off unless RAFT_SIM_VV=seeds: how often does volatile-vote
 * give two leaders in one term under a given fault model? Knobs (ticks are
 * 10 ms): VV_REAL=1 (what a real nemesis can do, see sim_opts.real),
 * VV_ET/VV_HB election/heartbeat ticks, VV_TICKS chaos length, VV_CRASH and
 * VV_RESTART per-tick chances, VV_MINDOWN, VV_PART, VV_DELAY/VV_JITTER
 * (netem), VV_LOSS/VV_DUP/VV_MAXDELAY/VV_MIDREADY (unreal mode),
 * VV_BUG=0 (control: vote persisted). Continues past a double leader and
 * reports any later safety violation. */
static void test_vv_hunt(void **state)
{
    (void)state;
    uint64_t seeds = env_u64("RAFT_SIM_VV", 0);
    if (!seeds)
        skip();
    sim_opts o = CHAOS;
    o.n = (uint32_t)env_u64("VV_N", 3);
    o.volatile_vote = env_u64("VV_BUG", 1) != 0;
    o.vary = false;
    o.stop_on_violation_only = true;
    o.count_double = true;
    o.real = env_u64("VV_REAL", 0) != 0;
    o.period = (uint32_t)env_u64("VV_PERIOD", 0);
    o.win = (uint32_t)env_u64("VV_WIN", 0);
    o.down = (uint32_t)env_u64("VV_DOWN", 3);
    o.survive = env_u64("VV_SURVIVE", 0) != 0;
    o.crash = env_d("VV_CRASH", 0.05);
    o.restart = env_d("VV_RESTART", 0.3);
    o.partition = env_d("VV_PART", 0.02);
    o.min_down = (uint32_t)env_u64("VV_MINDOWN", 0);
    o.delay = (uint32_t)env_u64("VV_DELAY", 0);
    o.jitter = (uint32_t)env_u64("VV_JITTER", 0);
    o.election_ticks = (uint32_t)env_u64("VV_ET", 0);
    o.heartbeat_ticks = (uint32_t)env_u64("VV_HB", 0);
    o.chaos_ticks = env_u64("VV_TICKS", CHAOS_TICKS);
    o.loss = env_d("VV_LOSS", o.real ? 0 : 0.05);
    o.dup = env_d("VV_DUP", o.real ? 0 : 0.03);
    o.max_delay = (uint32_t)env_u64("VV_MAXDELAY", 3);
    o.crash_mid_ready = env_d("VV_MIDREADY", o.real ? 0 : 0.05);
    uint64_t first = env_u64("RAFT_SIM_SEED", 1);
    if (getenv("RAFT_SIM_SEED"))
        seeds = 1;
    uint64_t hit = 0, doubles = 0, simul = 0, crashes = 0, leaders = 0,
             other = 0, requeued = 0;
    char why[512];
    for (uint64_t seed = first; seed < first + seeds; seed++) {
        bool ok = run_seed(&o, seed, why, sizeof why);
        hit += g_last_double > 0;
        doubles += g_last_double;
        simul += g_last_simul;
        crashes += g_last_crashes;
        leaders += g_last_leaders;
        requeued += g_last_requeued;
        if (getenv("VV_LIST") && g_last_double)
            printf("double leader at seed %llu\n", (unsigned long long)seed);
        if (!ok) {
            other++;
            if (other <= 5)
                printf("seed %llu: %s\n", (unsigned long long)seed, why);
        }
    }
    double minutes = (double)seeds * (double)o.chaos_ticks / 6000.0;
    printf("vv: %llu seeds x %llu ticks (%.1f sim-min): %llu seeds with a "
           "double leader, %llu double-leader terms (%llu with both leaders "
           "alive at once), %.3f per sim-minute; %llu leaders, %llu crashes "
           "(%.1f/min); %llu vote requests delivered across a restart; "
           "%llu other violations\n",
           (unsigned long long)seeds, (unsigned long long)o.chaos_ticks,
           minutes, (unsigned long long)hit, (unsigned long long)doubles,
           (unsigned long long)simul, (double)doubles / minutes,
           (unsigned long long)leaders, (unsigned long long)crashes,
           (double)crashes / minutes, (unsigned long long)requeued,
           (unsigned long long)other);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_sim_3_nodes),
        cmocka_unit_test(test_sim_5_nodes),
        cmocka_unit_test(test_sim_with_storage),
        cmocka_unit_test(test_sim_finds_volatile_vote),
        cmocka_unit_test(test_sim_finds_stale_read),
        cmocka_unit_test(test_vv_hunt),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
