/*
 * raft.c: the Raft core (see raft.h). Sections follow the paper: log,
 * outbox and Ready, role changes (Figure 2 "Rules for Servers"), election,
 * replication (AppendEntries, Figure 2), commit (the Figure 8 rule), reads
 * (thesis §6.4), snapshots (Figure 13).
 */
#include "targets/raftkv/raft.h"
#include "base/alloc.h"
#include "base/rng.h"

#include <stdlib.h>
#include <string.h>

typedef struct raft_progress {
    uint64_t next;      /* next index to send */
    uint64_t match;     /* highest index known replicated */
    uint64_t ack_round; /* highest heartbeat round acknowledged this term */
    bool active;        /* heard from in the current check-quorum window */
} raft_progress;

typedef struct raft_pending_read {
    uint64_t ctx;
    uint64_t index;
    uint64_t round; /* 0: waiting for the first commit of this term */
} raft_pending_read;

struct raft_node {
    raft_config cfg;
    fl_rng rng;     /* election jitter */

    uint64_t term;
    raft_id vote;
    raft_role role;
    raft_id leader;

    /* The log holds entries snap.index+1 .. snap.index+n_ents. */
    raft_snapshot snap;
    raft_entry *ents;
    size_t n_ents, cap_ents;

    uint64_t commit;
    uint64_t applied;

    uint32_t elapsed;   /* ticks since the leader/vote/campaign timer reset */
    uint32_t timeout;   /* randomized election timeout */
    uint32_t hb_elapsed;

    uint8_t votes[RAFT_MAX_NODES + 1]; /* 0 none, 1 granted, 2 rejected */
    raft_progress pr[RAFT_MAX_NODES + 1];
    uint64_t round; /* heartbeat rounds sent in this term */

    /* The seeded lease-read bug: the clock the shell last gave
     * (raft_lease_clock), when each recent round was sent by it, and
     * until when the latest quorum-acknowledged round holds the lease. */
    uint64_t lease_now_ms, lease_until_ms;
    uint64_t round_ms[RAFT_LEASE_ROUNDS];

    raft_pending_read *reads;
    size_t n_reads, cap_reads;

    /* Ready bookkeeping: what has been handed out to the shell. */
    uint64_t unstable;      /* first index not yet handed out to persist */
    uint64_t truncate_from; /* 0: none pending */
    bool snap_pending;      /* snap was received and must be persisted */
    raft_hard_state hs_out;
    raft_soft_state ss_out;
    raft_msg *msgs;
    size_t n_msgs, cap_msgs;
    raft_read_state *rs;
    size_t n_rs, cap_rs;
};

/* ---- small helpers ---------------------------------------------------------- */

static uint32_t quorum(const raft_node *n) { return n->cfg.n_nodes / 2 + 1; }

static uint64_t last_index(const raft_node *n)
{
    return n->snap.index + n->n_ents;
}

/* Grow *buf (element size sz) to hold at least want elements. */
static int grow(void **buf, size_t *cap, size_t want, size_t sz)
{
    if (want <= *cap)
        return 0;
    size_t nc = *cap ? *cap * 2 : 8;
    while (nc < want)
        nc *= 2;
    void *p = fl_realloc(*buf, nc * sz);
    if (!p)
        return -1;
    *buf = p;
    *cap = nc;
    return 0;
}

static int oom(fl_error *err, const char *what)
{
    return fl_error_set(err, FL_ENOMEM, "raft: out of memory (%s)", what);
}

static int copy_bytes(uint8_t **dst, const uint8_t *src, size_t len)
{
    *dst = NULL;
    if (len == 0)
        return 0;
    *dst = fl_malloc(len);
    if (!*dst)
        return -1;
    memcpy(*dst, src, len);
    return 0;
}

static int copy_entry(raft_entry *dst, const raft_entry *src)
{
    *dst = *src;
    return copy_bytes(&dst->data, src->data, src->len);
}

static void free_entries(raft_entry *e, size_t count)
{
    for (size_t i = 0; i < count; i++)
        fl_free(e[i].data);
}

/* ---- log ---------------------------------------------------------------------- */

uint64_t raft_term_at(const raft_node *n, uint64_t index)
{
    if (index == n->snap.index)
        return n->snap.term;
    if (index < n->snap.index || index > last_index(n))
        return 0;
    return n->ents[index - n->snap.index - 1].term;
}

const raft_entry *raft_entry_at(const raft_node *n, uint64_t index)
{
    if (index <= n->snap.index || index > last_index(n))
        return NULL;
    return &n->ents[index - n->snap.index - 1];
}

static uint64_t last_term(const raft_node *n)
{
    return raft_term_at(n, last_index(n));
}

/* Append a copy of e (which must be at last_index + 1). */
static int log_append(raft_node *n, const raft_entry *e)
{
    if (grow((void **)&n->ents, &n->cap_ents, n->n_ents + 1, sizeof *n->ents))
        return -1;
    if (copy_entry(&n->ents[n->n_ents], e))
        return -1;
    n->n_ents++;
    return 0;
}

/* Drop entries >= index (index > commit). Records what the shell must delete
 * from its persisted log if any of them were already handed out. */
static void log_truncate(raft_node *n, uint64_t index)
{
    size_t keep = (size_t)(index - n->snap.index - 1);
    free_entries(n->ents + keep, n->n_ents - keep);
    n->n_ents = keep;
    if (index < n->unstable) {
        if (n->truncate_from == 0 || index < n->truncate_from)
            n->truncate_from = index;
        n->unstable = index;
    }
}

/* Discard entries <= index (index within the log). */
static void log_drop_prefix(raft_node *n, uint64_t index)
{
    size_t drop = (size_t)(index - n->snap.index);
    free_entries(n->ents, drop);
    memmove(n->ents, n->ents + drop, (n->n_ents - drop) * sizeof *n->ents);
    n->n_ents -= drop;
}

/* Replace the snapshot with a copy of (index, term, data, len). */
static int set_snapshot(raft_node *n, uint64_t index, uint64_t term,
                        const void *data, size_t len)
{
    uint8_t *copy;
    if (copy_bytes(&copy, data, len))
        return -1;
    fl_free(n->snap.data);
    n->snap = (raft_snapshot){.index = index, .term = term,
                              .len = (uint32_t)len, .data = copy};
    return 0;
}

/* ---- outbox ---------------------------------------------------------------------- */

/* Queue a message; on failure the message is dropped, which Raft tolerates
 * like any network loss, so callers need not unwind. The message's entries
 * and snapshot bytes are deep-copied so later log changes cannot touch it. */
static int send(raft_node *n, raft_msg m, const raft_entry *ents, size_t count,
                bool with_snapshot)
{
    m.from = n->cfg.id;
    m.entries = NULL;
    m.n_entries = 0;
    if (!with_snapshot)
        m.snapshot = (raft_snapshot){0};
    if (grow((void **)&n->msgs, &n->cap_msgs, n->n_msgs + 1, sizeof *n->msgs))
        return -1;
    if (count) {
        m.entries = fl_calloc(count, sizeof *m.entries);
        if (!m.entries)
            return -1;
        for (size_t i = 0; i < count; i++, m.n_entries++)
            if (copy_entry(&m.entries[i], &ents[i]))
                goto fail;
    }
    if (with_snapshot &&
        copy_bytes(&m.snapshot.data, n->snap.data, n->snap.len))
        goto fail;
    n->msgs[n->n_msgs++] = m;
    return 0;
fail:
    free_entries(m.entries, m.n_entries);
    fl_free(m.entries);
    return -1;
}

static void free_outbox(raft_node *n)
{
    for (size_t i = 0; i < n->n_msgs; i++) {
        free_entries(n->msgs[i].entries, n->msgs[i].n_entries);
        fl_free(n->msgs[i].entries);
        fl_free(n->msgs[i].snapshot.data);
    }
    n->n_msgs = 0;
}

static int push_read_state(raft_node *n, uint64_t ctx, uint64_t index,
                           bool ok)
{
    if (grow((void **)&n->rs, &n->cap_rs, n->n_rs + 1, sizeof *n->rs))
        return -1;
    n->rs[n->n_rs++] = (raft_read_state){.ctx = ctx, .index = index, .ok = ok};
    return 0;
}

/* ---- role changes ------------------------------------------------------------------- */

static void reset_timer(raft_node *n)
{
    n->elapsed = 0;
    n->timeout = n->cfg.election_ticks +
                 (uint32_t)fl_rng_below(&n->rng, n->cfg.election_ticks);
}

/* Pending reads cannot complete without leadership: report them failed so
 * the server can answer its clients now rather than time out. */
static void fail_reads(raft_node *n)
{
    for (size_t i = 0; i < n->n_reads; i++)
        push_read_state(n, n->reads[i].ctx, 0, false);
    n->n_reads = 0;
}

static void become_follower(raft_node *n, uint64_t term, raft_id leader)
{
    if (term > n->term) {
        n->term = term;
        n->vote = RAFT_NONE;
    }
    if (n->role == RAFT_LEADER)
        fail_reads(n);
    n->role = RAFT_FOLLOWER;
    n->leader = leader;
    n->lease_until_ms = 0;
    reset_timer(n);
}

static bool committed_in_term(const raft_node *n)
{
    return raft_term_at(n, n->commit) == n->term;
}

static int broadcast_append(raft_node *n);
static int maybe_commit(raft_node *n);
static int check_reads(raft_node *n);

static int become_leader(raft_node *n)
{
    n->role = RAFT_LEADER;
    n->leader = n->cfg.id;
    n->elapsed = 0;
    n->hb_elapsed = 0;
    n->round = 0;
    n->lease_until_ms = 0;
    for (raft_id i = 1; i <= n->cfg.n_nodes; i++)
        n->pr[i] = (raft_progress){.next = last_index(n) + 1, .match = 0,
                                   .active = i == n->cfg.id};
    /* A no-op of the new term lets the leader commit (and so serve reads)
     * without waiting for a client write (thesis §6.4). */
    raft_entry noop = {.term = n->term, .index = last_index(n) + 1,
                       .type = RAFT_ENTRY_NOOP};
    if (log_append(n, &noop))
        return -1;
    n->pr[n->cfg.id].match = last_index(n);
    n->pr[n->cfg.id].next = last_index(n) + 1;
    if (maybe_commit(n))
        return -1;
    return broadcast_append(n);
}

/* ---- election --------------------------------------------------------------------- */

static uint32_t count_votes(const raft_node *n, uint8_t what)
{
    uint32_t c = 0;
    for (raft_id i = 1; i <= n->cfg.n_nodes; i++)
        c += n->votes[i] == what;
    return c;
}

/* Start a pre-vote (pre = true: term not incremented, nobody's vote spent)
 * or a real election. */
static int campaign(raft_node *n, bool pre)
{
    memset(n->votes, 0, sizeof n->votes);
    n->votes[n->cfg.id] = 1;
    n->leader = RAFT_NONE;
    reset_timer(n);
    if (pre) {
        n->role = RAFT_PRE_CANDIDATE;
    } else {
        n->role = RAFT_CANDIDATE;
        n->term++;
        n->vote = n->cfg.id;
    }
    if (count_votes(n, 1) >= quorum(n))
        return pre ? campaign(n, false) : become_leader(n);
    for (raft_id i = 1; i <= n->cfg.n_nodes; i++) {
        if (i == n->cfg.id)
            continue;
        raft_msg m = {.type = pre ? RAFT_MSG_PREVOTE : RAFT_MSG_VOTE, .to = i,
                      .term = pre ? n->term + 1 : n->term,
                      .log_index = last_index(n), .log_term = last_term(n)};
        send(n, m, NULL, 0, false);
    }
    return 0;
}

static bool log_up_to_date(const raft_node *n, const raft_msg *m)
{
    return m->log_term > last_term(n) ||
           (m->log_term == last_term(n) && m->log_index >= last_index(n));
}

/* A follower that heard from a live leader within the election timeout
 * refuses to help depose it (check-quorum's lease, thesis §4.2.3). */
static bool in_lease(const raft_node *n)
{
    if (!n->cfg.check_quorum)
        return false;
    if (n->role == RAFT_LEADER)
        return true; /* check-quorum keeps a leader honest about its lease */
    return n->role == RAFT_FOLLOWER && n->leader != RAFT_NONE &&
           n->elapsed < n->cfg.election_ticks;
}

static int recv_vote(raft_node *n, const raft_msg *m)
{
    bool pre = m->type == RAFT_MSG_PREVOTE;
    bool grant;
    if (pre)
        grant = m->term > n->term && log_up_to_date(n, m) && !in_lease(n);
    else
        grant = (n->vote == RAFT_NONE || n->vote == m->from) &&
                log_up_to_date(n, m);
    if (grant && !pre) {
        n->vote = m->from;
        reset_timer(n);
    }
    raft_msg r = {.type = pre ? RAFT_MSG_PREVOTE_RESP : RAFT_MSG_VOTE_RESP,
                  .to = m->from, .term = grant && pre ? m->term : n->term,
                  .reject = !grant};
    return send(n, r, NULL, 0, false);
}

static int recv_vote_resp(raft_node *n, const raft_msg *m)
{
    bool pre = m->type == RAFT_MSG_PREVOTE_RESP;
    if (n->role != (pre ? RAFT_PRE_CANDIDATE : RAFT_CANDIDATE))
        return 0;
    if (n->votes[m->from] == 0)
        n->votes[m->from] = m->reject ? 2 : 1;
    if (count_votes(n, 1) >= quorum(n))
        return pre ? campaign(n, false) : become_leader(n);
    if (count_votes(n, 2) >= quorum(n))
        become_follower(n, n->term, RAFT_NONE);
    return 0;
}

/* ---- replication: leader side ------------------------------------------------------ */

static int send_snapshot(raft_node *n, raft_id to)
{
    raft_msg m = {.type = RAFT_MSG_SNAPSHOT, .to = to, .term = n->term,
                  .commit = n->commit, .ctx = n->round, .snapshot = n->snap};
    n->pr[to].next = n->snap.index + 1;
    return send(n, m, NULL, 0, true);
}

/* AppendEntries to one follower from its next index (empty: a heartbeat).
 * Advances next optimistically so consecutive sends pipeline; a lost
 * message is repaired by the reject that the next heartbeat provokes. */
static int send_append(raft_node *n, raft_id to)
{
    raft_progress *p = &n->pr[to];
    if (p->next > last_index(n) + 1 || p->next == 0)
        p->next = last_index(n) + 1; /* a bogus reply must not push it out */
    uint64_t prev = p->next - 1;
    if (prev < n->snap.index)
        return send_snapshot(n, to);
    uint64_t count = last_index(n) - prev;
    if (n->cfg.max_entries_per_msg && count > n->cfg.max_entries_per_msg)
        count = n->cfg.max_entries_per_msg;
    raft_msg m = {.type = RAFT_MSG_APPEND, .to = to, .term = n->term,
                  .log_index = prev, .log_term = raft_term_at(n, prev),
                  .commit = n->commit, .ctx = n->round};
    const raft_entry *ents = count ? raft_entry_at(n, prev + 1) : NULL;
    if (send(n, m, ents, (size_t)count, false))
        return -1;
    p->next = prev + count + 1;
    return 0;
}

static int broadcast_append(raft_node *n)
{
    int rc = 0;
    for (raft_id i = 1; i <= n->cfg.n_nodes; i++)
        if (i != n->cfg.id && send_append(n, i))
            rc = -1;
    return rc;
}

/* The highest heartbeat round of this term a quorum (the leader among
 * them) acknowledged: the quorum-th largest ack_round. */
static uint64_t quorum_round(const raft_node *n)
{
    uint64_t best = 0;
    for (raft_id i = 1; i <= n->cfg.n_nodes; i++) {
        uint32_t acks = 0;
        for (raft_id j = 1; j <= n->cfg.n_nodes; j++)
            acks += n->pr[j].ack_round >= n->pr[i].ack_round;
        if (acks >= quorum(n) && n->pr[i].ack_round > best)
            best = n->pr[i].ack_round;
    }
    return best;
}

/* Seeded bug lease-read: a round a quorum acknowledged proves leadership
 * as of its sending, so the lease runs lease_ms from then — on the
 * shell's clock, whatever that clock does. */
static void lease_renew(raft_node *n)
{
    if (!n->cfg.bug_lease_read || n->role != RAFT_LEADER)
        return;
    uint64_t q = quorum_round(n);
    if (q == 0 || n->round - q >= RAFT_LEASE_ROUNDS)
        return;
    uint64_t until = n->round_ms[q % RAFT_LEASE_ROUNDS] + n->cfg.lease_ms;
    if (until > n->lease_until_ms)
        n->lease_until_ms = until;
}

static bool lease_held(const raft_node *n)
{
    return n->cfg.bug_lease_read && n->role == RAFT_LEADER &&
           n->lease_now_ms < n->lease_until_ms;
}

/* A new heartbeat round: its acknowledgements confirm leadership for the
 * reads waiting on it. */
static int heartbeat(raft_node *n)
{
    n->round++;
    n->round_ms[n->round % RAFT_LEASE_ROUNDS] = n->lease_now_ms;
    n->pr[n->cfg.id].ack_round = n->round;
    n->hb_elapsed = 0;
    lease_renew(n);   /* a single node is its own quorum */
    return broadcast_append(n);
}

/* Figure 8: only an entry of the current term is committed by counting
 * replicas; earlier entries commit with it by the Log Matching property. */
static int maybe_commit(raft_node *n)
{
    uint64_t m[RAFT_MAX_NODES];
    uint32_t k = 0;
    for (raft_id i = 1; i <= n->cfg.n_nodes; i++)
        m[k++] = n->pr[i].match;
    /* Sort descending; the quorum-th largest is replicated on a quorum. */
    for (uint32_t i = 1; i < k; i++)
        for (uint32_t j = i; j > 0 && m[j] > m[j - 1]; j--) {
            uint64_t t = m[j];
            m[j] = m[j - 1];
            m[j - 1] = t;
        }
    uint64_t q = m[quorum(n) - 1];
    if (q <= n->commit || raft_term_at(n, q) != n->term)
        return 0;
    bool first = !committed_in_term(n);
    n->commit = q;
    if (!first)
        return 0;
    /* Reads that waited for this term's first commit can start now. */
    bool waiting = false;
    for (size_t i = 0; i < n->n_reads; i++)
        if (n->reads[i].round == 0) {
            n->reads[i].index = n->commit;
            waiting = true;
        }
    if (!waiting)
        return 0;
    if (heartbeat(n))
        return -1;
    for (size_t i = 0; i < n->n_reads; i++)
        if (n->reads[i].round == 0)
            n->reads[i].round = n->round;
    return check_reads(n); /* a single node is its own quorum */
}

/* Hand out every read whose heartbeat round a quorum acknowledged. */
static int check_reads(raft_node *n)
{
    size_t kept = 0;
    int rc = 0;
    for (size_t i = 0; i < n->n_reads; i++) {
        raft_pending_read *r = &n->reads[i];
        uint32_t acks = 0;
        for (raft_id j = 1; j <= n->cfg.n_nodes; j++)
            acks += r->round && n->pr[j].ack_round >= r->round;
        if (r->round && acks >= quorum(n)) {
            if (push_read_state(n, r->ctx, r->index, true))
                rc = -1;
        } else {
            n->reads[kept++] = *r;
        }
    }
    n->n_reads = kept;
    return rc;
}

/* Where to retry after a reject (fast backtracking, §5.3's optimisation):
 * past the leader's last entry of the conflicting term if it has that term,
 * else at the first index the follower holds of it, or just past the
 * follower's log when that is too short. */
static uint64_t backtrack(const raft_node *n, const raft_msg *m)
{
    if (m->hint_term == 0)
        return m->hint_index + 1;
    uint64_t next = m->hint_index;
    for (uint64_t i = m->log_index; i > n->snap.index; i--) {
        uint64_t t = raft_term_at(n, i);
        if (t == m->hint_term) {
            next = i + 1;
            break;
        }
        if (t < m->hint_term)
            break;
    }
    return next;
}

static int recv_append_resp(raft_node *n, const raft_msg *m)
{
    if (n->role != RAFT_LEADER)
        return 0;
    raft_progress *p = &n->pr[m->from];
    p->active = true;
    if (m->ctx > p->ack_round && m->ctx <= n->round) {
        p->ack_round = m->ctx;
        lease_renew(n);
    }
    int rc = 0;
    if (m->reject) {
        if (m->log_index > p->match && m->log_index <= last_index(n)) {
            uint64_t next = backtrack(n, m);
            if (next > m->log_index)
                next = m->log_index;
            if (next <= p->match)
                next = p->match + 1;
            p->next = next;
            rc = send_append(n, m->from);
        }
    } else if (m->log_index > p->match && m->log_index <= last_index(n)) {
        p->match = m->log_index;
        if (p->next <= p->match)
            p->next = p->match + 1;
        rc = maybe_commit(n);
        if (p->next <= last_index(n) && send_append(n, m->from))
            rc = -1;
    }
    if (check_reads(n))
        rc = -1;
    return rc;
}

/* ---- replication: follower side ----------------------------------------------------- */

static int reply_append(raft_node *n, const raft_msg *m, uint64_t index,
                        bool reject, uint64_t hint_index, uint64_t hint_term)
{
    raft_msg r = {.type = RAFT_MSG_APPEND_RESP, .to = m->from,
                  .term = n->term, .log_index = index, .reject = reject,
                  .hint_index = hint_index, .hint_term = hint_term,
                  .ctx = m->ctx};
    return send(n, r, NULL, 0, false);
}

static int reject_append(raft_node *n, const raft_msg *m)
{
    uint64_t pi = m->log_index;
    if (pi > last_index(n))
        return reply_append(n, m, pi, true, last_index(n), 0);
    uint64_t t = raft_term_at(n, pi);
    uint64_t first = pi;
    while (first - 1 > n->commit && raft_term_at(n, first - 1) == t)
        first--;
    return reply_append(n, m, pi, true, first, t);
}

static int recv_append(raft_node *n, const raft_msg *m)
{
    if (m->log_index < n->commit)
        return reply_append(n, m, n->commit, false, 0, 0);
    if (raft_term_at(n, m->log_index) != m->log_term)
        return reject_append(n, m);
    size_t i = 0;
    /* Skip entries already present; truncate at the first conflict. */
    for (; i < m->n_entries; i++) {
        const raft_entry *e = &m->entries[i];
        if (e->index > last_index(n))
            break;
        if (raft_term_at(n, e->index) != e->term) {
            log_truncate(n, e->index);
            break;
        }
    }
    for (; i < m->n_entries; i++)
        if (log_append(n, &m->entries[i]))
            return -1;
    uint64_t last_new = m->log_index + m->n_entries;
    uint64_t c = m->commit < last_new ? m->commit : last_new;
    if (c > n->commit)
        n->commit = c;
    return reply_append(n, m, last_new, false, 0, 0);
}

/* InstallSnapshot (Figure 13). A snapshot the log already covers only moves
 * the commit index; otherwise it replaces the whole log. */
static int recv_snapshot(raft_node *n, const raft_msg *m)
{
    const raft_snapshot *s = &m->snapshot;
    if (s->index <= n->commit)
        return reply_append(n, m, n->commit, false, 0, 0);
    if (raft_term_at(n, s->index) == s->term && s->index > n->snap.index) {
        n->commit = s->index;
        return reply_append(n, m, s->index, false, 0, 0);
    }
    if (set_snapshot(n, s->index, s->term, s->data, s->len))
        return -1;
    free_entries(n->ents, n->n_ents);
    n->n_ents = 0;
    n->snap_pending = true;
    n->truncate_from = 0; /* the snapshot drops the whole persisted log */
    n->unstable = s->index + 1;
    n->commit = s->index;
    return reply_append(n, m, s->index, false, 0, 0);
}

/* ---- step --------------------------------------------------------------------------- */

static bool valid_msg(const raft_node *n, const raft_msg *m)
{
    if (m->type < RAFT_MSG_PREVOTE || m->type > RAFT_MSG_SNAPSHOT)
        return false;
    if (m->from == RAFT_NONE || m->from > n->cfg.n_nodes ||
        m->from == n->cfg.id || m->to != n->cfg.id)
        return false;
    if (m->n_entries && (m->type != RAFT_MSG_APPEND || !m->entries))
        return false;
    for (size_t i = 0; i < m->n_entries; i++) {
        const raft_entry *e = &m->entries[i];
        if (e->index != m->log_index + 1 + i || e->term > m->term ||
            (e->len && !e->data) || e->type > RAFT_ENTRY_NOOP ||
            (i == 0 ? e->term < m->log_term : e->term < e[-1].term))
            return false;
    }
    if (m->type == RAFT_MSG_SNAPSHOT &&
        (m->snapshot.index == 0 || (m->snapshot.len && !m->snapshot.data)))
        return false;
    return true;
}

/* Figure 2: a higher term makes us a follower, except that pre-votes and
 * granted pre-vote responses carry a future term that nobody adopts, and a
 * vote request is ignored while a live leader's lease holds. Returns false
 * if the message must be dropped. */
static bool handle_term(raft_node *n, const raft_msg *m)
{
    if (m->term > n->term) {
        if (m->type == RAFT_MSG_PREVOTE ||
            (m->type == RAFT_MSG_PREVOTE_RESP && !m->reject))
            return true;
        if (m->type == RAFT_MSG_VOTE && in_lease(n))
            return false;
        bool from_leader =
            m->type == RAFT_MSG_APPEND || m->type == RAFT_MSG_SNAPSHOT;
        become_follower(n, m->term, from_leader ? m->from : RAFT_NONE);
        return true;
    }
    if (m->term < n->term) {
        /* Tell a stale leader (or pre-candidate) about the newer term so it
         * steps down instead of holding on behind a partition. */
        if (m->type == RAFT_MSG_APPEND || m->type == RAFT_MSG_SNAPSHOT) {
            raft_msg r = {.type = RAFT_MSG_APPEND_RESP, .to = m->from,
                          .term = n->term};
            send(n, r, NULL, 0, false);
        } else if (m->type == RAFT_MSG_PREVOTE) {
            raft_msg r = {.type = RAFT_MSG_PREVOTE_RESP, .to = m->from,
                          .term = n->term, .reject = true};
            send(n, r, NULL, 0, false);
        }
        return false;
    }
    return true;
}

static int dispatch(raft_node *n, const raft_msg *m)
{
    switch (m->type) {
    case RAFT_MSG_PREVOTE:
    case RAFT_MSG_VOTE:
        return recv_vote(n, m);
    case RAFT_MSG_PREVOTE_RESP:
    case RAFT_MSG_VOTE_RESP:
        return recv_vote_resp(n, m);
    case RAFT_MSG_APPEND_RESP:
        return recv_append_resp(n, m);
    case RAFT_MSG_APPEND:
    case RAFT_MSG_SNAPSHOT:
        if (n->role == RAFT_LEADER)
            return 0; /* same term, two leaders: impossible; ignore */
        if (n->role != RAFT_FOLLOWER || n->leader != m->from)
            become_follower(n, n->term, m->from);
        n->elapsed = 0;
        return m->type == RAFT_MSG_APPEND ? recv_append(n, m)
                                          : recv_snapshot(n, m);
    }
    return 0;
}

int raft_step(raft_node *n, const raft_msg *m, fl_error *err)
{
    if (!valid_msg(n, m))
        return fl_error_set(err, FL_EDATA,
                            "raft: node %u: dropped malformed %s message "
                            "from %u to %u",
                            n->cfg.id, raft_msg_type_name(m->type), m->from,
                            m->to);
    if (!handle_term(n, m))
        return FL_OK;
    if (dispatch(n, m))
        return oom(err, "handling a message");
    return FL_OK;
}

/* ---- tick ---------------------------------------------------------------------------- */

/* Check-quorum: a leader cut off from a quorum for an election timeout
 * steps down, so clients stop waiting on it and reads stop being served. */
static void check_quorum(raft_node *n)
{
    uint32_t active = 0;
    for (raft_id i = 1; i <= n->cfg.n_nodes; i++) {
        active += n->pr[i].active || i == n->cfg.id;
        n->pr[i].active = false;
    }
    if (active < quorum(n))
        become_follower(n, n->term, RAFT_NONE);
}

int raft_tick(raft_node *n, fl_error *err)
{
    n->elapsed++;
    int rc = 0;
    if (n->role == RAFT_LEADER) {
        if (n->cfg.check_quorum && n->elapsed >= n->cfg.election_ticks) {
            n->elapsed = 0;
            /* Seeded bug lease-read: a leader that holds its lease by its
             * own clock does not doubt its leadership. */
            if (!lease_held(n))
                check_quorum(n);
            if (n->role != RAFT_LEADER)
                return FL_OK;
        }
        if (++n->hb_elapsed >= n->cfg.heartbeat_ticks)
            rc = heartbeat(n);
    } else if (n->elapsed >= n->timeout) {
        rc = campaign(n, n->cfg.pre_vote);
    }
    return rc ? oom(err, "tick") : FL_OK;
}

/* ---- client requests --------------------------------------------------------------- */

int raft_propose(raft_node *n, const void *data, size_t len,
                 raft_proposal *out, fl_error *err)
{
    raft_proposal dummy;
    if (!out)
        out = &dummy;
    *out = (raft_proposal){.leader = n->leader};
    if (n->role != RAFT_LEADER)
        return RAFT_ENOTLEADER;
    if (len > RAFT_MSG_MAX_FRAME / 2 || (len && !data))
        return fl_error_set(err, FL_EUSAGE,
                            "raft: proposal of %zu bytes is over the limit "
                            "of %u (or has no data)",
                            len, RAFT_MSG_MAX_FRAME / 2);
    raft_entry e = {.term = n->term, .index = last_index(n) + 1,
                    .type = RAFT_ENTRY_NORMAL, .len = (uint32_t)len,
                    .data = (uint8_t *)data};
    if (log_append(n, &e))
        return oom(err, "appending a proposal");
    n->pr[n->cfg.id].match = e.index;
    n->pr[n->cfg.id].next = e.index + 1;
    out->index = e.index;
    out->term = e.term;
    if (maybe_commit(n) || broadcast_append(n))
        return oom(err, "replicating a proposal");
    return FL_OK;
}

void raft_lease_clock(raft_node *n, uint64_t now_ms)
{
    n->lease_now_ms = now_ms;
}

int raft_read_index(raft_node *n, uint64_t ctx, raft_id *leader,
                    fl_error *err)
{
    if (leader)
        *leader = n->leader;
    if (n->role != RAFT_LEADER)
        return RAFT_ENOTLEADER;
    if (n->cfg.bug_stale_read ||
        (lease_held(n) && committed_in_term(n)))
        return push_read_state(n, ctx, n->commit, true)
                   ? oom(err, "read index")
                   : FL_OK;
    if (grow((void **)&n->reads, &n->cap_reads, n->n_reads + 1,
             sizeof *n->reads))
        return oom(err, "read index");
    raft_pending_read *r = &n->reads[n->n_reads++];
    *r = (raft_pending_read){.ctx = ctx, .index = n->commit};
    if (!committed_in_term(n))
        return FL_OK; /* starts when this term's no-op commits */
    if (heartbeat(n))
        return oom(err, "read index heartbeat");
    r->round = n->round;
    return check_reads(n) ? oom(err, "read index") : FL_OK;
}

int raft_compact(raft_node *n, uint64_t index, const void *data, size_t len,
                 fl_error *err)
{
    if (index <= n->snap.index || index > n->applied)
        return fl_error_set(err, FL_EUSAGE,
                            "raft: cannot compact to %llu: it must be above "
                            "the snapshot (%llu) and at most applied (%llu)",
                            (unsigned long long)index,
                            (unsigned long long)n->snap.index,
                            (unsigned long long)n->applied);
    uint64_t term = raft_term_at(n, index);
    raft_snapshot old = n->snap;
    n->snap.data = NULL;
    if (set_snapshot(n, old.index, old.term, data, len)) {
        n->snap = old;
        return oom(err, "snapshot");
    }
    fl_free(old.data);
    log_drop_prefix(n, index);
    n->snap.index = index;
    n->snap.term = term;
    return FL_OK;
}

/* ---- Ready -------------------------------------------------------------------------- */

static raft_hard_state hard_state(const raft_node *n)
{
    return (raft_hard_state){
        .term = n->term,
        .vote = n->cfg.bug_volatile_vote ? RAFT_NONE : n->vote};
}

static raft_soft_state soft_state(const raft_node *n)
{
    return (raft_soft_state){.role = n->role, .term = n->term,
                             .leader = n->leader};
}

static uint64_t first_to_apply(const raft_node *n)
{
    uint64_t a = n->applied > n->snap.index ? n->applied : n->snap.index;
    return a + 1;
}

bool raft_has_ready(const raft_node *n)
{
    raft_hard_state hs = hard_state(n);
    raft_soft_state ss = soft_state(n);
    return n->snap_pending || n->truncate_from ||
           n->unstable <= last_index(n) || n->n_msgs || n->n_rs ||
           hs.term != n->hs_out.term || hs.vote != n->hs_out.vote ||
           ss.role != n->ss_out.role || ss.term != n->ss_out.term ||
           ss.leader != n->ss_out.leader || first_to_apply(n) <= n->commit;
}

void raft_ready_get(raft_node *n, raft_ready *rd)
{
    memset(rd, 0, sizeof *rd);
    if (n->snap_pending)
        rd->snapshot = &n->snap;
    rd->truncate_from = n->truncate_from;
    if (n->unstable <= last_index(n)) {
        rd->entries = raft_entry_at(n, n->unstable);
        rd->n_entries = (size_t)(last_index(n) - n->unstable + 1);
    }
    rd->hard_state = hard_state(n);
    rd->hard_state_changed = rd->hard_state.term != n->hs_out.term ||
                             rd->hard_state.vote != n->hs_out.vote;
    rd->msgs = n->msgs;
    rd->n_msgs = n->n_msgs;
    uint64_t first = first_to_apply(n);
    if (first <= n->commit) {
        rd->committed = raft_entry_at(n, first);
        rd->n_committed = (size_t)(n->commit - first + 1);
    }
    rd->reads = n->rs;
    rd->n_reads = n->n_rs;
    rd->soft_state = soft_state(n);
    rd->soft_state_changed = rd->soft_state.role != n->ss_out.role ||
                             rd->soft_state.term != n->ss_out.term ||
                             rd->soft_state.leader != n->ss_out.leader;
}

void raft_advance(raft_node *n)
{
    n->snap_pending = false;
    n->truncate_from = 0;
    n->unstable = last_index(n) + 1;
    n->hs_out = hard_state(n);
    n->ss_out = soft_state(n);
    free_outbox(n);
    n->n_rs = 0;
    if (n->commit > n->applied)
        n->applied = n->commit;
}

/* ---- creation ------------------------------------------------------------------------ */

void raft_config_init(raft_config *cfg)
{
    *cfg = (raft_config){.election_ticks = 10, .heartbeat_ticks = 2,
                         .pre_vote = true, .check_quorum = true,
                         .max_entries_per_msg = 64};
}

static int check_config(const raft_config *c, fl_error *err)
{
    if (c->n_nodes < 1 || c->n_nodes > RAFT_MAX_NODES)
        return fl_error_set(err, FL_EUSAGE,
                            "raft: n_nodes is %u, must be 1..%d", c->n_nodes,
                            RAFT_MAX_NODES);
    if (c->id < 1 || c->id > c->n_nodes)
        return fl_error_set(err, FL_EUSAGE, "raft: id %u is not in 1..%u",
                            c->id, c->n_nodes);
    if (c->heartbeat_ticks < 1 || c->election_ticks <= c->heartbeat_ticks)
        return fl_error_set(err, FL_EUSAGE,
                            "raft: need 1 <= heartbeat_ticks (%u) < "
                            "election_ticks (%u)",
                            c->heartbeat_ticks, c->election_ticks);
    return FL_OK;
}

static int check_restore(const raft_config *c, const raft_restore *r,
                         fl_error *err)
{
    if (r->hard_state.vote > c->n_nodes ||
        r->snapshot.term > r->hard_state.term ||
        (r->snapshot.len && !r->snapshot.data))
        return fl_error_set(err, FL_EUSAGE,
                            "raft: restored hard state (term %llu, vote %u) "
                            "or snapshot (term %llu) is inconsistent",
                            (unsigned long long)r->hard_state.term,
                            r->hard_state.vote,
                            (unsigned long long)r->snapshot.term);
    uint64_t prev_term = r->snapshot.term;
    for (size_t i = 0; i < r->n_entries; i++) {
        const raft_entry *e = &r->entries[i];
        if (e->index != r->snapshot.index + 1 + i || e->term < prev_term ||
            e->term > r->hard_state.term || (e->len && !e->data))
            return fl_error_set(err, FL_EUSAGE,
                                "raft: restored entry %zu (index %llu term "
                                "%llu) does not follow the snapshot/log",
                                i, (unsigned long long)e->index,
                                (unsigned long long)e->term);
        prev_term = e->term;
    }
    return FL_OK;
}

static int restore(raft_node *n, const raft_restore *r, fl_error *err)
{
    int rc = check_restore(&n->cfg, r, err);
    if (rc)
        return rc;
    n->term = r->hard_state.term;
    n->vote = r->hard_state.vote;
    if (r->snapshot.index &&
        set_snapshot(n, r->snapshot.index, r->snapshot.term,
                     r->snapshot.data, r->snapshot.len))
        return oom(err, "restoring the snapshot");
    for (size_t i = 0; i < r->n_entries; i++)
        if (log_append(n, &r->entries[i]))
            return oom(err, "restoring the log");
    n->commit = n->applied = n->snap.index;
    return FL_OK;
}

int raft_new(const raft_config *cfg, const raft_restore *r, raft_node **out,
             fl_error *err)
{
    *out = NULL;
    int rc = check_config(cfg, err);
    if (rc)
        return rc;
    raft_node *n = fl_calloc(1, sizeof *n);
    if (!n)
        return oom(err, "node");
    n->cfg = *cfg;
    fl_rng_seed(&n->rng, cfg->seed ^ (0x6a09e667f3bcc909ULL * cfg->id));
    if (r && (rc = restore(n, r, err))) {
        raft_free(n);
        return rc;
    }
    n->role = RAFT_FOLLOWER;
    n->unstable = last_index(n) + 1;
    n->hs_out = hard_state(n);
    n->ss_out = soft_state(n);
    reset_timer(n);
    *out = n;
    return FL_OK;
}

void raft_free(raft_node *n)
{
    if (!n)
        return;
    free_entries(n->ents, n->n_ents);
    fl_free(n->ents);
    fl_free(n->snap.data);
    free_outbox(n);
    fl_free(n->msgs);
    fl_free(n->reads);
    fl_free(n->rs);
    fl_free(n);
}

void raft_get_status(const raft_node *n, raft_status *st)
{
    *st = (raft_status){
        .id = n->cfg.id, .role = n->role, .term = n->term, .vote = n->vote,
        .leader = n->leader, .commit = n->commit, .applied = n->applied,
        .first_index = n->snap.index + 1, .last_index = last_index(n),
        .last_term = last_term(n), .snapshot_index = n->snap.index,
        .snapshot_term = n->snap.term};
}

const char *raft_role_name(raft_role role)
{
    static const char *names[] = {"follower", "pre-candidate", "candidate",
                                  "leader"};
    return (unsigned)role < 4 ? names[role] : "unknown";
}
