/*
 * raft_fixture: the simulated world, the oracle, the deterministic cluster
 * API and the seeded chaos run. See raft_fixture.h.
 *
 * One seed drives a chaos run: message loss, delay (and so reordering),
 * duplication, partitions, crashes that lose whatever a node had not
 * persisted through its Ready, restarts from that "disk", client proposals
 * and ReadIndex reads. Every random choice comes from the fixture's one
 * fl_rng in a fixed order, so a seed replays exactly.
 */
#include "targets/raftkv/raft_fixture.h"
#include "base/alloc.h"
#include "base/rng.h"
#include "targets/raftkv/raft_storage.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

/* ---- the simulated world ---------------------------------------------------------- */

#define MAXN RAFT_FIXTURE_MAXN

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

typedef raft_sim_opts sim_opts;

/* The chaos run's name for the fixture: one world, driven by two clocks. */
typedef struct raft_fixture sim;

struct raft_fixture {
    sim_opts o;
    raft_config tmpl;   /* every node's configuration but id and n_nodes */
    bool reseed;        /* a start's seed is tmpl.seed + the tick */
    double compact_chance; /* per Ready, once 8 entries are applied */
    uint64_t strip_from_term;
    int rejects;
    int snaps_installed[MAXN + 1];
    raft_read_state *read_log;
    size_t n_read_log, cap_read_log;
    uint64_t cut_since;
    uint32_t election_ticks, heartbeat_ticks, max_entries;
    bool pre_vote, check_quorum;
    uint64_t seed, tick;
    fl_rng rng;
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
};

static uint64_t rnd(sim *s) { return fl_rng_next(&s->rng); }

static bool chance(sim *s, double p)
{
    return (double)(rnd(s) >> 11) / 9007199254740992.0 < p;
}

static uint32_t below(sim *s, uint32_t n) { return (uint32_t)(rnd(s) % n); }

static void *xrealloc(void *p, size_t n)
{
    void *q = fl_realloc(p, n);
    if (!q) {
        fprintf(stderr, "raft_fixture: out of memory\n");
        abort();
    }
    return q;
}

#define TR(s, ...)                                                          \
    do {                                                                    \
        if ((s)->o.trace) {                                                 \
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
        fl_free(d->ents[i].data);
    fl_free(d->ents);
    fl_free(d->snap.data);
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
    fl_free(d->snap.data);
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
        fl_free(d->ents[i].data);
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
            fl_free(d->ents[i].data);
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
                fl_free(d->ents[--d->n].data);
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
        if (raft_msg_encode(m, &buf, &len, &err) != FL_OK) {
            violate(s, "encoding a message: %s", err.msg);
            return;
        }
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
        if (raft_msg_encode(m, &buf, &len, &err) != FL_OK) {
            violate(s, "encoding a message: %s", err.msg);
            return;
        }
        ensure((void **)&s->msgs, &s->cap_msgs, s->n_msgs, sizeof *s->msgs);
        s->msgs[s->n_msgs++] = (sim_msg){
            .at = s->tick + 1 + below(s, s->max_delay + 1), .to = m->to,
            .buf = buf, .len = len, .sent = s->tick};
    }
}

/* raft_fixture_strip_from_term()'s fault. */
static void strip_entries(sim *s, raft_msg *m)
{
    if (m->type != RAFT_MSG_APPEND || !s->strip_from_term)
        return;
    size_t k = 0;
    while (k < m->n_entries && m->entries[k].term < s->strip_from_term)
        k++;
    for (size_t i = k; i < m->n_entries; i++)
        fl_free(m->entries[i].data);
    m->n_entries = k;
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
    if (raft_msg_decode(sm->buf, sm->len, &m, &err) != FL_OK) {
        violate(s, "decoding a message: %s", err.msg);
        return;
    }
    if (s->o.real || !s->cut[m.from][m.to]) {
        strip_entries(s, &m);
        s->rejects += m.type == RAFT_MSG_APPEND_RESP && m.reject;
        if (s->o.trace && m.type <= RAFT_MSG_VOTE_RESP) {
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
        fl_free(sm.buf);
    }
}

static void drop_msgs_if(sim *s, raft_id from, raft_id to, bool held_only)
{
    for (size_t k = 0; k < s->n_msgs;) {
        sim_msg *m = &s->msgs[k];
        if ((!from || m->from == from) && (!to || m->to == to) &&
            (!held_only || m->held)) {
            fl_free(m->buf);
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
        fl_free(sm.buf);
    }
}

static void net_clear(sim *s)
{
    for (size_t i = 0; i < s->n_msgs; i++)
        fl_free(s->msgs[i].buf);
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

static void log_reads(sim *s, const raft_ready *rd)
{
    for (size_t i = 0; i < rd->n_reads; i++) {
        ensure((void **)&s->read_log, &s->cap_read_log, s->n_read_log,
               sizeof *s->read_log);
        s->read_log[s->n_read_log++] = rd->reads[i];
    }
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

static void check_world(sim *s, bool all_pairs)
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
        if (all_pairs || s->tick % 8 == 0)
            for (raft_id j = i + 1; j <= s->o.n; j++)
                if (s->nodes[j].r)
                    check_log_matching(s, i, j);
    }
}

/* ---- driving nodes ----------------------------------------------------------------------- */

static void crash(sim *s, raft_id id)
{
    if (s->o.trace) {
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
        if (!mkdtemp(tmpl)) {
            violate(s, "node %u: cannot make a directory in %s", id, base);
            return;
        }
        nd->dir = fl_strdup(tmpl);
        if (!nd->dir)
            abort();
    }
    raft_storage_close(nd->st);
    nd->st = NULL;
    fl_error err = {0};
    if (raft_storage_open(nd->dir, NULL, &nd->st, &err) != FL_OK) {
        violate(s, "node %u storage: %s", id, err.msg);
        return;
    }
    raft_restore fs;
    raft_storage_restore(nd->st, &fs);
    compare_restore(s, id, rs, &fs);
    *rs = fs;
}

static void start(sim *s, raft_id id)
{
    sim_node *nd = &s->nodes[id];
    raft_config cfg = s->tmpl;
    cfg.id = id;
    cfg.n_nodes = s->o.n;
    cfg.seed = s->tmpl.seed + (s->reseed ? s->tick : 0);
    raft_restore rs = {.hard_state = nd->disk.hs, .snapshot = nd->disk.snap,
                       .entries = nd->disk.ents, .n_entries = nd->disk.n};
    if (s->o.storage)
        reopen_storage(s, id, &rs);
    if (s->violation[0] && s->o.storage)
        return;
    fl_error err = {0};
    int rc = raft_new(&cfg, &rs, &nd->r, &err);
    if (rc != FL_OK) {
        violate(s, "restart of node %u failed: %s", id, err.msg);
        return;
    }
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
/* The application's side of compaction: snapshot what node id applied, on
 * its model disk (and files) too. Returns raft_compact's code. */
static int compact(sim *s, raft_id id, fl_error *err)
{
    sim_node *nd = &s->nodes[id];
    uint8_t bytes[16];
    encode_app(nd, bytes);
    int rc = raft_compact(nd->r, nd->app_index, bytes, 16, err);
    if (rc != FL_OK)
        return rc;
    raft_status st;
    raft_get_status(nd->r, &st);
    raft_snapshot snap = {.index = st.snapshot_index,
                          .term = st.snapshot_term, .len = 16, .data = bytes};
    disk_compact(&nd->disk, snap.index);
    disk_set_snapshot(&nd->disk, &snap);
    if (nd->st && raft_storage_save_snapshot(nd->st, snap.index, snap.term,
                                             bytes, 16, err) != FL_OK)
        violate(s, "node %u: storage snapshot: %s", id, err->msg);
    return FL_OK;
}

static void maybe_compact(sim *s, raft_id id)
{
    sim_node *nd = &s->nodes[id];
    raft_status st;
    raft_get_status(nd->r, &st);
    if (nd->app_index < st.snapshot_index + 8 ||
        !chance(s, s->compact_chance))
        return;
    fl_error err = {0};
    if (compact(s, id, &err) != FL_OK)
        violate(s, "node %u: compact: %s", id, err.msg);
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
    if (rd.snapshot) {
        s->snaps_installed[id]++;
        load_snapshot(s, id, rd.snapshot);
    }
    for (size_t i = 0; i < rd.n_committed; i++)
        apply_entry(s, id, &rd.committed[i]);
    log_reads(s, &rd);
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

/* The oracle's record of a read asked: its answer must not be below what
 * was committed now. */
static void note_read(sim *s, raft_id id, uint64_t ctx)
{
    ensure((void **)&s->reads, &s->cap_reads, s->n_reads, sizeof *s->reads);
    s->reads[s->n_reads++] =
        (sim_read){.node = id, .ctx = ctx, .min_index = s->max_commit};
}

static void read_index(sim *s, raft_id id)
{
    uint64_t ctx = ++s->next_ctx;
    fl_error err = {0};
    int rc = raft_read_index(s->nodes[id].r, ctx, NULL, &err);
    if (rc == FL_OK)
        note_read(s, id, ctx);
    else if (rc != RAFT_ENOTLEADER) {
        violate(s, "read_index on %u: %s", id, err.msg);
    }
}

/* Grudges: random halves, or one node isolated, or healed. */
static void release_uncut(sim *s, bool old[MAXN + 1][MAXN + 1])
{
    /* TCP retransmits what iptables dropped; RTO backs off 200 ms, 400 ms,
     * ... so the burst lands up to about the cut's length after the heal. */
    uint64_t dur = s->tick - s->cut_since;
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
    s->cut_since = s->tick;
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
    check_world(s, false);
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
    uint64_t deadline = s->tick + RAFT_SIM_HEAL_TICKS;
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
            fl_free(nd->dir);
        }
    }
    net_clear(s);
    fl_free(s->msgs);
    fl_free(s->leader_of);
    fl_free(s->commits);
    fl_free(s->reads);
    fl_free(s->read_log);
    fl_free(s);
}

/* The draws of a seed's configuration, in the order they always were, so a
 * seed replays as it did. */
static void sim_configure(sim *s, const sim_opts *o, uint64_t seed)
{
    s->o = *o;
    s->seed = seed;
    fl_rng_seed(&s->rng, seed * 0x2545f4914f6cdd1dULL + o->n);
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
    raft_config_init(&s->tmpl);
    s->tmpl.seed = seed * 31;
    s->tmpl.bug_volatile_vote = o->volatile_vote;
    s->tmpl.bug_stale_read = o->stale_read;
    s->tmpl.max_entries_per_msg = s->max_entries;
    s->tmpl.election_ticks = s->election_ticks;
    s->tmpl.heartbeat_ticks = s->heartbeat_ticks;
    s->tmpl.pre_vote = s->pre_vote;
    s->tmpl.check_quorum = s->check_quorum;
    s->reseed = true;
    s->compact_chance = 0.3;
}

bool raft_fixture_sim_run(const raft_sim_opts *o, uint64_t seed,
                          raft_sim_result *res)
{
    sim *s = xrealloc(NULL, sizeof *s);
    memset(s, 0, sizeof *s);
    sim_configure(s, o, seed);
    uint64_t chaos_ticks = o->chaos_ticks ? o->chaos_ticks
                                          : RAFT_SIM_CHAOS_TICKS;
    for (raft_id i = 1; i <= o->n; i++)
        start(s, i);
    while (s->tick < chaos_ticks && !s->violation[0])
        chaos_tick(s);
    bool progress = s->violation[0] || o->stop_on_violation_only ||
                    heal_and_progress(s);
    if (!progress)
        violate(s, "liveness: no new commit within %d ticks of healing",
                RAFT_SIM_HEAL_TICKS);
    *res = (raft_sim_result){
        .n_leaders = s->n_leaders, .n_applied = s->n_applied,
        .n_reads_ok = s->n_reads_ok, .n_crashes = s->n_crashes,
        .n_snap_installs = s->n_snap_installs,
        .n_truncations = s->n_truncations, .n_double = s->n_double,
        .n_double_simul = s->n_double_simul,
        .n_vote_requeued = s->n_vote_requeued};
    snprintf(res->violation, sizeof res->violation, "%s", s->violation);
    bool ok = !s->violation[0];
    sim_free(s);
    return ok;
}

/* ---- the deterministic cluster ------------------------------------------------------------ */

static void disk_restore(sim_disk *d, const raft_restore *r)
{
    d->hs = r->hard_state;
    if (r->snapshot.index)
        disk_set_snapshot(d, &r->snapshot);
    for (size_t i = 0; i < r->n_entries; i++) {
        ensure((void **)&d->ents, &d->cap, d->n, sizeof *d->ents);
        copy_into(&d->ents[d->n++], &r->entries[i]);
    }
}

raft_fixture *raft_fixture_new(uint32_t n, const raft_config *tmpl,
                               const raft_restore *restores)
{
    if (n < 1 || n > MAXN)
        return NULL;
    sim *s = xrealloc(NULL, sizeof *s);
    memset(s, 0, sizeof *s);
    s->o.n = n;
    s->tmpl = *tmpl;
    for (raft_id i = 1; i <= n; i++) {
        if (restores)
            disk_restore(&s->nodes[i].disk, &restores[i]);
        start(s, i);
    }
    return s;
}

void raft_fixture_free(raft_fixture *f)
{
    if (f)
        sim_free(f);
}

raft_node *raft_fixture_node(raft_fixture *f, raft_id id)
{
    return id >= 1 && id <= f->o.n ? f->nodes[id].r : NULL;
}

void raft_fixture_tick(raft_fixture *f, raft_id id)
{
    fl_error err = {0};
    if (f->nodes[id].r && raft_tick(f->nodes[id].r, &err) != FL_OK)
        violate(f, "tick on %u: %s", id, err.msg);
}

void raft_fixture_process(raft_fixture *f, raft_id id)
{
    handle_ready(f, id);
}

void raft_fixture_deliver(raft_fixture *f)
{
    sim_msg *q = f->msgs;
    size_t nq = f->n_msgs;
    f->msgs = NULL;
    f->n_msgs = f->cap_msgs = 0;
    for (size_t i = 0; i < nq; i++) {
        deliver(f, &q[i]);
        fl_free(q[i].buf);
    }
    fl_free(q);
}

void raft_fixture_drain(raft_fixture *f)
{
    for (int round = 0; round < 1000; round++) {
        for (raft_id i = 1; i <= f->o.n; i++)
            handle_ready(f, i);
        if (!f->n_msgs) {
            check_world(f, true);
            return;
        }
        raft_fixture_deliver(f);
    }
    violate(f, "the cluster did not quiesce in 1000 rounds");
}

void raft_fixture_step(raft_fixture *f)
{
    f->tick++;
    for (raft_id i = 1; i <= f->o.n; i++)
        raft_fixture_tick(f, i);
    raft_fixture_drain(f);
}

raft_id raft_fixture_step_until_leader(raft_fixture *f, int max)
{
    for (int t = 0; t < max; t++) {
        raft_fixture_step(f);
        raft_id l = current_leader(f);
        if (l)
            return l;
    }
    return RAFT_NONE;
}

raft_id raft_fixture_leader(raft_fixture *f)
{
    return current_leader(f);
}

void raft_fixture_cut(raft_fixture *f, raft_id from, raft_id to, bool cut)
{
    f->cut[from][to] = cut && from != to;
}

void raft_fixture_isolate(raft_fixture *f, raft_id id, bool cut)
{
    for (raft_id j = 1; j <= f->o.n; j++) {
        raft_fixture_cut(f, id, j, cut);
        raft_fixture_cut(f, j, id, cut);
    }
}

void raft_fixture_heal(raft_fixture *f)
{
    memset(f->cut, 0, sizeof f->cut);
}

void raft_fixture_kill(raft_fixture *f, raft_id id)
{
    if (f->nodes[id].r)
        crash(f, id);
}

void raft_fixture_revive(raft_fixture *f, raft_id id)
{
    if (!f->nodes[id].r)
        start(f, id);
}

int raft_fixture_compact(raft_fixture *f, raft_id id, fl_error *err)
{
    return compact(f, id, err);
}

void raft_fixture_strip_from_term(raft_fixture *f, uint64_t term)
{
    f->strip_from_term = term;
}

int raft_fixture_read_index(raft_fixture *f, raft_id id, uint64_t ctx,
                            raft_id *leader_hint)
{
    fl_error err = {0};
    int rc = raft_read_index(f->nodes[id].r, ctx, leader_hint, &err);
    if (rc == FL_OK)
        note_read(f, id, ctx);
    return rc;
}

const raft_read_state *raft_fixture_reads(const raft_fixture *f, size_t *n)
{
    *n = f->n_read_log;
    return f->read_log;
}

uint64_t raft_fixture_applied(const raft_fixture *f, raft_id id)
{
    return f->nodes[id].app_index;
}

uint64_t raft_fixture_committed_term(const raft_fixture *f, uint64_t index)
{
    return index < f->cap_commits ? f->commits[index].term : 0;
}

int raft_fixture_snapshots_installed(const raft_fixture *f, raft_id id)
{
    return f->snaps_installed[id];
}

int raft_fixture_rejects(const raft_fixture *f)
{
    return f->rejects;
}

const char *raft_fixture_violation(const raft_fixture *f)
{
    return f->violation[0] ? f->violation : NULL;
}
