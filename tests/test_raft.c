/*
 * Unit tests of the Raft core, each a short timeline on the simulation
 * fixture (tests/fixtures/raft_fixture.h), whose safety invariants are
 * asserted after every step: election, pre-vote against a disruptive
 * rejoin, check-quorum, conflicting logs and fast backtracking, the Figure 8 commit rule, ReadIndex
 * (and the stale_read bug), snapshots, the volatile_vote bug's hard state,
 * and the wire codec against valid and hostile input.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "targets/raftkv/raft.h"
#include "tests/fixtures/raft_fixture.h"

/* ---- the fixture, asserting its invariants after every step ---------------- */

static void base_config(raft_config *cfg, uint32_t n, raft_id id)
{
    raft_config_init(cfg);
    cfg->id = id;
    cfg->n_nodes = n;
    cfg->seed = 42;
}

static void assert_safe(raft_fixture *c)
{
    const char *why = raft_fixture_violation(c);
    if (why)
        fail_msg("%s", why);
}

static raft_fixture *cluster_new(uint32_t n, const raft_config *tmpl,
                                 const raft_restore *restores)
{
    raft_config cfg;
    if (tmpl)
        cfg = *tmpl;
    else
        base_config(&cfg, n, 1);
    raft_fixture *c = raft_fixture_new(n, &cfg, restores);
    assert_non_null(c);
    assert_safe(c);
    return c;
}

static raft_node *node(raft_fixture *c, raft_id id)
{
    raft_node *r = raft_fixture_node(c, id);
    assert_non_null(r);
    return r;
}

static void drain(raft_fixture *c)
{
    raft_fixture_drain(c);
    assert_safe(c);
}

static void tick(raft_fixture *c, raft_id id)
{
    raft_fixture_tick(c, id);
    assert_safe(c);
}

static void tick_all(raft_fixture *c, int times)
{
    for (int t = 0; t < times; t++) {
        raft_fixture_step(c);
        assert_safe(c);
    }
}

static raft_status status(raft_fixture *c, raft_id id)
{
    raft_status s;
    raft_get_status(node(c, id), &s);
    return s;
}

static raft_id tick_until_leader(raft_fixture *c, int max)
{
    raft_id l = raft_fixture_step_until_leader(c, max);
    assert_safe(c);
    if (!l)
        fail_msg("no leader after %d ticks", max);
    return l;
}

/* Tick only node id until it is leader (others stay passive). */
static void campaign_until_leader(raft_fixture *c, raft_id id, int max)
{
    for (int t = 0; t < max; t++) {
        tick(c, id);
        drain(c);
        if (status(c, id).role == RAFT_LEADER)
            return;
    }
    fail_msg("node %u did not become leader", id);
}

static uint64_t propose_ok(raft_fixture *c, raft_id id, const char *data)
{
    raft_proposal p;
    fl_error err = {0};
    assert_int_equal(raft_propose(node(c, id), data, strlen(data), &p, &err),
                     FL_OK);
    return p.index;
}

static size_t n_reads(raft_fixture *c)
{
    size_t n;
    raft_fixture_reads(c, &n);
    return n;
}

static raft_read_state read_at(raft_fixture *c, size_t i)
{
    size_t n;
    const raft_read_state *r = raft_fixture_reads(c, &n);
    assert_true(i < n);
    return r[i];
}

/* ---- election ---------------------------------------------------------------- */

static void test_election(void **state)
{
    (void)state;
    raft_fixture *c = cluster_new(3, NULL, NULL);
    raft_id l = tick_until_leader(c, 100);
    raft_status ls = status(c, l);
    assert_true(ls.term >= 1);
    /* Everyone follows it, and its no-op commits everywhere. */
    tick_all(c, 5);
    for (raft_id i = 1; i <= 3; i++) {
        raft_status s = status(c, i);
        assert_int_equal(s.leader, l);
        assert_int_equal(s.term, ls.term);
        assert_int_equal(s.role, i == l ? RAFT_LEADER : RAFT_FOLLOWER);
        assert_true(raft_fixture_applied(c, i) >= 1);
    }
    /* A follower refuses proposals and names the leader. */
    raft_id f = l % 3 + 1;
    raft_proposal p;
    fl_error err = {0};
    assert_int_equal(raft_propose(node(c, f), "x", 1, &p, &err),
                     RAFT_ENOTLEADER);
    assert_int_equal(p.leader, l);
    uint64_t idx = propose_ok(c, l, "hello");
    tick_all(c, 3);
    for (raft_id i = 1; i <= 3; i++)
        assert_int_equal(raft_fixture_applied(c, i), idx);
    raft_fixture_free(c);
}

static void test_single_node(void **state)
{
    (void)state;
    raft_config cfg;
    base_config(&cfg, 1, 1);
    raft_fixture *c = cluster_new(1, &cfg, NULL);
    tick_until_leader(c, 50);
    uint64_t idx = propose_ok(c, 1, "solo");
    drain(c);
    assert_int_equal(raft_fixture_applied(c, 1), idx);
    assert_int_equal(raft_fixture_read_index(c, 1, 7, NULL), FL_OK);
    drain(c);
    assert_int_equal(n_reads(c), 1);
    assert_true(read_at(c, 0).ok);
    raft_fixture_free(c);
}

/* The vote is in the hard state handed out for persistence — unless the
 * volatile_vote bug is on. */
static void test_vote_in_hard_state(void **state)
{
    (void)state;
    for (int bug = 0; bug <= 1; bug++) {
        raft_config cfg;
        base_config(&cfg, 3, 1);
        cfg.pre_vote = false;
        cfg.bug_volatile_vote = bug;
        raft_node *n;
        fl_error err = {0};
        assert_int_equal(raft_new(&cfg, NULL, &n, &err), FL_OK);
        for (int i = 0; i < 20 && !raft_has_ready(n); i++)
            assert_int_equal(raft_tick(n, &err), FL_OK);
        raft_ready rd;
        raft_ready_get(n, &rd);
        assert_true(rd.hard_state_changed);
        assert_int_equal(rd.hard_state.term, 1);
        assert_int_equal(rd.hard_state.vote, bug ? RAFT_NONE : 1);
        assert_int_equal(rd.n_msgs, 2);
        assert_int_equal(rd.msgs[0].type, RAFT_MSG_VOTE);
        raft_advance(n);
        raft_free(n);
    }
}

/* Grant a vote request from `from` in `term`; return whether granted and
 * the hard state the node handed out to persist. */
static bool vote_for(raft_node *n, raft_id from, uint64_t term,
                     raft_hard_state *hs)
{
    raft_msg m = {.type = RAFT_MSG_VOTE, .from = from, .to = 1, .term = term};
    fl_error err = {0};
    assert_int_equal(raft_step(n, &m, &err), FL_OK);
    raft_ready rd;
    raft_ready_get(n, &rd);
    if (rd.hard_state_changed)
        *hs = rd.hard_state;
    assert_int_equal(rd.n_msgs, 1);
    bool granted = !rd.msgs[0].reject;
    raft_advance(n);
    return granted;
}

/* A restart restores whatever vote was persisted: with volatile_vote that is
 * none, so the node votes a second time in the same term. */
static void test_restart_keeps_vote(void **state)
{
    (void)state;
    for (int bug = 0; bug <= 1; bug++) {
        raft_config cfg;
        base_config(&cfg, 3, 1);
        cfg.pre_vote = cfg.check_quorum = false;
        cfg.bug_volatile_vote = bug;
        raft_node *n;
        fl_error err = {0};
        assert_int_equal(raft_new(&cfg, NULL, &n, &err), FL_OK);
        raft_hard_state disk = {0};
        assert_true(vote_for(n, 2, 5, &disk));
        assert_false(vote_for(n, 3, 5, &disk)); /* same incarnation: no */
        raft_free(n);
        raft_restore rs = {.hard_state = disk};
        assert_int_equal(raft_new(&cfg, &rs, &n, &err), FL_OK);
        assert_int_equal(vote_for(n, 3, 5, &disk), bug);
        raft_free(n);
    }
}

/* ---- pre-vote and check-quorum -------------------------------------------------- */

/* A follower cut off for many election timeouts must not, on rejoining,
 * depose a healthy leader: pre-vote keeps its term from running up. Without
 * pre-vote and check-quorum, it does depose it. */
static void test_prevote_blocks_disruptive_rejoin(void **state)
{
    (void)state;
    for (int protect = 1; protect >= 0; protect--) {
        raft_config cfg;
        base_config(&cfg, 3, 1);
        cfg.pre_vote = cfg.check_quorum = protect;
        raft_fixture *c = cluster_new(3, &cfg, NULL);
        raft_id l = tick_until_leader(c, 100);
        uint64_t term = status(c, l).term;
        raft_id x = l % 3 + 1;
        raft_fixture_isolate(c, x, true);
        tick_all(c, 100);
        assert_int_equal(status(c, l).role, RAFT_LEADER);
        if (protect)
            assert_int_equal(status(c, x).term, term);
        else
            assert_true(status(c, x).term > term);
        raft_fixture_isolate(c, x, false);
        tick_all(c, 30);
        raft_id now = raft_fixture_leader(c);
        if (protect) {
            assert_int_equal(now, l);
            assert_int_equal(status(c, l).term, term);
        } else {
            assert_true(status(c, now).term > term);
        }
        raft_fixture_free(c);
    }
}

static void test_check_quorum_step_down(void **state)
{
    (void)state;
    for (int on = 1; on >= 0; on--) {
        raft_config cfg;
        base_config(&cfg, 3, 1);
        cfg.check_quorum = on;
        raft_fixture *c = cluster_new(3, &cfg, NULL);
        raft_id l = tick_until_leader(c, 100);
        raft_fixture_isolate(c, l, true);
        /* One election timeout may already be partly used: allow two. */
        for (raft_id i = 1; i <= 3; i++)
            if (i != l)
                raft_fixture_kill(c, i);
        for (int t = 0; t < 2 * (int)cfg.election_ticks; t++)
            tick(c, l), drain(c);
        assert_int_equal(status(c, l).role,
                         on ? RAFT_FOLLOWER : RAFT_LEADER);
        raft_fixture_free(c);
    }
}

/* ---- replication ---------------------------------------------------------------------- */

static raft_entry *make_log(const uint64_t *terms, size_t n)
{
    raft_entry *e = calloc(n, sizeof *e);
    assert_non_null(e);
    for (size_t i = 0; i < n; i++)
        e[i] = (raft_entry){.term = terms[i], .index = i + 1};
    return e;
}

/* Figure 7 style: a follower with a long divergent suffix is repaired, and
 * the conflict hints skip a whole term per round trip instead of one entry. */
static void test_log_conflict_fast_backtrack(void **state)
{
    (void)state;
    static const uint64_t lead[] = {1, 1, 1, 4, 4, 5, 5, 6, 6, 6};
    static const uint64_t div[] = {1, 1, 1, 2, 2, 2, 3, 3, 3, 3, 3};
    raft_entry *le = make_log(lead, 10), *de = make_log(div, 11);
    raft_restore rs[4] = {
        [1] = {.hard_state = {.term = 6}, .entries = le, .n_entries = 10},
        [2] = {.hard_state = {.term = 6}, .entries = de, .n_entries = 11},
        [3] = {.hard_state = {.term = 6}, .entries = le, .n_entries = 10},
    };
    raft_fixture *c = cluster_new(3, NULL, rs);
    campaign_until_leader(c, 1, 100);
    tick_all(c, 3);
    raft_status s1 = status(c, 1), s2 = status(c, 2);
    assert_int_equal(s2.last_index, s1.last_index);
    for (uint64_t i = 1; i <= s1.last_index; i++)
        assert_int_equal(raft_term_at(node(c, 2), i),
                         raft_term_at(node(c, 1), i));
    /* Naive backtracking needs 7 rejects (index 11 down to 4); hints need
     * one per conflicting term (3 and 2) at most, plus a pipelining one. */
    assert_true(raft_fixture_rejects(c) <= 3);
    assert_true(raft_fixture_rejects(c) >= 1);
    /* Everything committed is applied identically. */
    for (uint64_t i = 1; i <= raft_fixture_applied(c, 2); i++)
        assert_int_equal(raft_fixture_committed_term(c, i), raft_term_at(node(c, 1), i));
    raft_fixture_free(c);
    free(le);
    free(de);
}

/* Figure 8: S1 (term 4) gets its term-2 entry at index 2 onto a majority, but
 * must not commit it by counting replicas; S5 (with a term-3 entry there)
 * may then win and overwrite it. */
static void test_figure8_no_commit_of_old_term(void **state)
{
    (void)state;
    static const uint64_t t12[] = {1, 2}, t1[] = {1}, t13[] = {1, 3};
    raft_entry *a = make_log(t12, 2), *b = make_log(t1, 1),
               *e = make_log(t13, 2);
    raft_restore rs[6] = {
        [1] = {.hard_state = {.term = 3}, .entries = a, .n_entries = 2},
        [2] = {.hard_state = {.term = 3}, .entries = a, .n_entries = 2},
        [3] = {.hard_state = {.term = 3}, .entries = b, .n_entries = 1},
        [4] = {.hard_state = {.term = 3}, .entries = b, .n_entries = 1},
        [5] = {.hard_state = {.term = 3}, .entries = e, .n_entries = 2},
    };
    raft_config cfg;
    base_config(&cfg, 5, 1);
    cfg.pre_vote = cfg.check_quorum = false; /* the paper's basic algorithm */
    raft_fixture *c = cluster_new(5, &cfg, rs);
    raft_fixture_isolate(c, 5, true);
    raft_fixture_strip_from_term(c, 4); /* S1's own-term entries never arrive */
    campaign_until_leader(c, 1, 100);
    assert_int_equal(status(c, 1).term, 4);
    for (int i = 0; i < 5; i++)
        tick(c, 1), drain(c);
    assert_int_equal(raft_term_at(node(c, 3), 2), 2); /* on a majority */
    assert_true(status(c, 1).commit < 2);                  /* yet not committed */
    for (raft_id i = 1; i <= 5; i++)
        assert_true(raft_fixture_applied(c, i) < 2);

    /* S1 crashes; S5 wins with its term-3 entry and overwrites index 2. */
    raft_fixture_kill(c, 1);
    raft_fixture_isolate(c, 5, false);
    raft_fixture_strip_from_term(c, 0);
    campaign_until_leader(c, 5, 200);
    tick_all(c, 3);
    for (raft_id i = 2; i <= 5; i++) {
        assert_int_equal(raft_term_at(node(c, i), 2), 3);
        assert_true(raft_fixture_applied(c, i) >= 2);
        assert_int_equal(raft_fixture_committed_term(c, 2), 3);
    }
    raft_fixture_free(c);
    free(a);
    free(b);
    free(e);
}

/* ---- reads ------------------------------------------------------------------------------ */

static void test_read_index_needs_quorum(void **state)
{
    (void)state;
    for (int bug = 0; bug <= 1; bug++) {
        raft_config cfg;
        base_config(&cfg, 3, 1);
        cfg.bug_stale_read = bug;
        raft_fixture *c = cluster_new(3, &cfg, NULL);
        raft_id l = tick_until_leader(c, 100);
        tick_all(c, 3);
        uint64_t commit = status(c, l).commit;
        raft_fixture_isolate(c, l, true);
        raft_id hint;
        assert_int_equal(raft_fixture_read_index(c, l, 1, &hint), FL_OK);
        drain(c);
        if (bug) {
            /* Answered at once, with no leadership check. */
            assert_int_equal(n_reads(c), 1);
            assert_true(read_at(c, 0).ok);
        } else {
            assert_int_equal(n_reads(c), 0);
            raft_fixture_isolate(c, l, false);
            tick_all(c, 1);
            tick_all(c, 2);
            assert_int_equal(n_reads(c), 1);
            assert_true(read_at(c, 0).ok);
            assert_int_equal(read_at(c, 0).ctx, 1);
            assert_true(read_at(c, 0).index >= commit);
        }
        /* A follower refuses and names the leader. */
        raft_id f = l % 3 + 1;
        assert_int_equal(raft_fixture_read_index(c, f, 2, &hint),
                         RAFT_ENOTLEADER);
        raft_fixture_free(c);
    }
}

/* A new leader answers reads only after its no-op commits; a leader that
 * loses leadership fails its pending reads. */
static void test_read_index_waits_for_term_commit(void **state)
{
    (void)state;
    raft_fixture *c = cluster_new(3, NULL, NULL);
    raft_id l = 0;
    for (int t = 0; t < 100 && !l; t++) {
        for (raft_id i = 1; i <= 3; i++)
            tick(c, i);
        /* Deliver until someone becomes leader, then stop before acks. */
        for (int r = 0; r < 50 && !l; r++) {
            for (raft_id i = 1; i <= 3; i++)
                raft_fixture_process(c, i);
            raft_fixture_deliver(c);
            assert_safe(c);
            l = raft_fixture_leader(c);
        }
    }
    assert_true(l != 0);
    raft_status s = status(c, l);
    assert_true(raft_term_at(node(c, l), s.commit) != s.term);
    assert_int_equal(raft_fixture_read_index(c, l, 9, NULL), FL_OK);
    raft_fixture_process(c, l);
    assert_int_equal(n_reads(c), 0);
    drain(c);
    tick_all(c, 3);
    assert_int_equal(n_reads(c), 1);
    assert_true(read_at(c, 0).index >= 1);
    assert_int_equal(raft_term_at(node(c, l), read_at(c, 0).index),
                     status(c, l).term);

    /* Pending read, then leadership lost (check-quorum): reported failed. */
    raft_fixture_isolate(c, l, true);
    assert_int_equal(raft_fixture_read_index(c, l, 10, NULL), FL_OK);
    for (int t = 0; t < 30; t++)
        tick(c, l), drain(c);
    assert_int_equal(n_reads(c), 2);
    assert_int_equal(read_at(c, 1).ctx, 10);
    assert_false(read_at(c, 1).ok);
    raft_fixture_free(c);
}

/* ---- snapshots ----------------------------------------------------------------------------- */

static void test_snapshot_send_install(void **state)
{
    (void)state;
    raft_fixture *c = cluster_new(3, NULL, NULL);
    raft_id l = tick_until_leader(c, 100);
    raft_id x = l % 3 + 1;
    raft_fixture_isolate(c, x, true);
    uint64_t last = 0;
    for (int i = 0; i < 20; i++)
        last = propose_ok(c, l, "value");
    tick_all(c, 3);
    assert_int_equal(raft_fixture_applied(c, l), last);
    fl_error err = {0};
    assert_int_equal(raft_fixture_compact(c, l, &err), FL_OK);
    assert_int_equal(raft_fixture_compact(c, l, &err), FL_EUSAGE);
    assert_int_equal(status(c, l).snapshot_index, last);
    assert_null(raft_entry_at(node(c, l), last));
    uint64_t more = propose_ok(c, l, "after");
    raft_fixture_isolate(c, x, false);
    tick_all(c, 5);
    raft_status sx = status(c, x);
    assert_int_equal(raft_fixture_snapshots_installed(c, x), 1);
    assert_int_equal(sx.snapshot_index, last);
    assert_int_equal(sx.last_index, more);
    assert_int_equal(raft_fixture_applied(c, x), more);
    raft_fixture_free(c);
}

/* ---- wire codec ------------------------------------------------------------------------------ */

static void test_msg_roundtrip(void **state)
{
    (void)state;
    raft_entry ents[2] = {
        {.term = 3, .index = 10, .type = RAFT_ENTRY_NORMAL, .len = 5,
         .data = (uint8_t *)"hello"},
        {.term = 4, .index = 11, .type = RAFT_ENTRY_NOOP},
    };
    raft_msg m = {.type = RAFT_MSG_APPEND, .from = 2, .to = 3, .term = 4,
                  .log_index = 9, .log_term = 3, .commit = 8, .reject = true,
                  .hint_index = 7, .hint_term = 2, .ctx = 99,
                  .n_entries = 2, .entries = ents,
                  .snapshot = {.index = 5, .term = 1, .len = 3,
                               .data = (uint8_t *)"abc"}};
    uint8_t *buf;
    size_t len;
    fl_error err = {0};
    assert_int_equal(raft_msg_encode(&m, &buf, &len, &err), FL_OK);
    assert_int_equal(raft_msg_frame_len(buf), len);
    raft_msg d;
    assert_int_equal(raft_msg_decode(buf, len, &d, &err), FL_OK);
    assert_int_equal(d.type, m.type);
    assert_int_equal(d.from, 2);
    assert_int_equal(d.to, 3);
    assert_int_equal(d.term, 4);
    assert_int_equal(d.log_index, 9);
    assert_int_equal(d.log_term, 3);
    assert_int_equal(d.commit, 8);
    assert_true(d.reject);
    assert_int_equal(d.hint_index, 7);
    assert_int_equal(d.hint_term, 2);
    assert_int_equal(d.ctx, 99);
    assert_int_equal(d.snapshot.index, 5);
    assert_int_equal(d.snapshot.len, 3);
    assert_memory_equal(d.snapshot.data, "abc", 3);
    assert_int_equal(d.n_entries, 2);
    assert_int_equal(d.entries[0].len, 5);
    assert_memory_equal(d.entries[0].data, "hello", 5);
    assert_int_equal(d.entries[1].type, RAFT_ENTRY_NOOP);
    assert_int_equal(d.entries[1].index, 11);
    raft_msg_free(&d);

    /* Every truncation is rejected, and so is one extra byte. */
    for (size_t cut = 0; cut < len; cut++) {
        assert_int_equal(raft_msg_decode(buf, cut, &d, &err), FL_EDATA);
        assert_int_equal(d.n_entries, 0);
    }
    uint8_t *longer = malloc(len + 1);
    memcpy(longer, buf, len);
    longer[len] = 0;
    assert_int_equal(raft_msg_decode(longer, len + 1, &d, &err), FL_EDATA);
    free(longer);
    free(buf);
}

static uint64_t xorshift(uint64_t *s)
{
    *s ^= *s << 13;
    *s ^= *s >> 7;
    *s ^= *s << 17;
    return *s;
}

/* Garbage never crashes the decoder (ASan watches) and never yields a
 * message with an unknown type; bit flips of a valid frame are either
 * rejected or decode to something self-consistent. */
static void test_msg_garbage(void **state)
{
    (void)state;
    raft_entry ents[3] = {{.term = 1, .index = 1, .len = 2,
                           .data = (uint8_t *)"ab"},
                          {.term = 1, .index = 2},
                          {.term = 2, .index = 3, .len = 1,
                           .data = (uint8_t *)"c"}};
    raft_msg m = {.type = RAFT_MSG_APPEND, .from = 1, .to = 2, .term = 2,
                  .n_entries = 3, .entries = ents};
    uint8_t *valid;
    size_t vlen;
    fl_error err = {0};
    assert_int_equal(raft_msg_encode(&m, &valid, &vlen, &err), FL_OK);
    uint64_t s = 0x1234567;
    uint8_t junk[256];
    for (int iter = 0; iter < 20000; iter++) {
        size_t len;
        const uint8_t *in;
        if (iter % 2) {
            len = xorshift(&s) % sizeof junk;
            for (size_t i = 0; i < len; i++)
                junk[i] = (uint8_t)xorshift(&s);
            if (len >= 4 && iter % 4 == 1) { /* plausible length prefix */
                uint32_t b = (uint32_t)(len - 4);
                junk[0] = (uint8_t)(b >> 24);
                junk[1] = (uint8_t)(b >> 16);
                junk[2] = (uint8_t)(b >> 8);
                junk[3] = (uint8_t)b;
                junk[4] = RAFT_WIRE_VERSION;
            }
            in = junk;
        } else {
            len = vlen;
            memcpy(junk, valid, vlen);
            junk[xorshift(&s) % vlen] ^= (uint8_t)(1u << (xorshift(&s) % 8));
            in = junk;
        }
        raft_msg d;
        int rc = raft_msg_decode(in, len, &d, &err);
        assert_true(rc == FL_OK || rc == FL_EDATA);
        if (rc == FL_OK) {
            assert_true(d.type >= RAFT_MSG_PREVOTE &&
                        d.type <= RAFT_MSG_SNAPSHOT);
            for (size_t i = 0; i < d.n_entries; i++)
                assert_true(d.entries[i].len == 0 || d.entries[i].data);
            raft_msg_free(&d);
        }
    }
    free(valid);
}

/* The core itself drops malformed messages rather than trusting them. */
static void test_step_rejects_malformed(void **state)
{
    (void)state;
    raft_config cfg;
    base_config(&cfg, 3, 1);
    raft_node *n;
    fl_error err = {0};
    assert_int_equal(raft_new(&cfg, NULL, &n, &err), FL_OK);
    raft_entry gap = {.term = 1, .index = 5};
    raft_msg bad[] = {
        {.type = 0, .from = 2, .to = 1},
        {.type = RAFT_MSG_APPEND, .from = 9, .to = 1, .term = 1},
        {.type = RAFT_MSG_APPEND, .from = 1, .to = 1, .term = 1},
        {.type = RAFT_MSG_APPEND, .from = 2, .to = 3, .term = 1},
        {.type = RAFT_MSG_APPEND, .from = 2, .to = 1, .term = 1,
         .log_index = 0, .n_entries = 1, .entries = &gap},
        {.type = RAFT_MSG_SNAPSHOT, .from = 2, .to = 1, .term = 1},
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++)
        assert_int_equal(raft_step(n, &bad[i], &err), FL_EDATA);
    raft_status s;
    raft_get_status(n, &s);
    assert_int_equal(s.term, 0);
    assert_int_equal(s.last_index, 0);
    raft_free(n);
}

/* Peers are trusted to follow the protocol, but a buggy or confused one
 * must not crash a node: random well-formed messages, including absurd
 * indices and terms, are absorbed (ASan and UBSan watch). */
static void test_step_random_messages(void **state)
{
    (void)state;
    raft_fixture *c = cluster_new(3, NULL, NULL);
    raft_id l = tick_until_leader(c, 100);
    for (int i = 0; i < 10; i++)
        propose_ok(c, l, "v");
    tick_all(c, 3);
    uint64_t x = 0x9e3779b97f4a7c15ULL;
    raft_entry ents[4];
    int accepted = 0;
    for (int iter = 0; iter < 20000; iter++) {
        uint64_t r[12];
        for (int k = 0; k < 12; k++) {
            x ^= x << 13, x ^= x >> 7, x ^= x << 17;
            r[k] = x;
        }
        raft_id to = (raft_id)(1 + r[0] % 3);
        raft_id from = (raft_id)(1 + (to + r[1] % 2) % 3);
        /* Mostly small numbers near the real ones, sometimes extremes. */
#define PICK(v) ((v) % 8 == 0 ? UINT64_MAX - (v) % 3 : (v) % 24)
        raft_msg m = {.type = (uint8_t)(1 + r[2] % 7), .from = from,
                      .to = to, .term = PICK(r[3]), .log_index = PICK(r[4]),
                      .log_term = PICK(r[5]), .commit = PICK(r[6]),
                      .reject = r[7] & 1, .hint_index = PICK(r[8]),
                      .hint_term = PICK(r[9]), .ctx = r[10] % 5};
        if (m.type == RAFT_MSG_APPEND) {
            m.n_entries = r[11] % 5;
            for (size_t k = 0; k < m.n_entries; k++)
                ents[k] = (raft_entry){.term = m.log_term + (k > 1),
                                       .index = m.log_index + 1 + k};
            m.entries = ents;
        }
        if (m.type == RAFT_MSG_SNAPSHOT)
            m.snapshot = (raft_snapshot){.index = 1 + r[11] % 30,
                                         .term = m.log_term, .len = 1,
                                         .data = (uint8_t *)"s"};
#undef PICK
        fl_error err = {0};
        int rc = raft_step(node(c, to), &m, &err);
        assert_true(rc == FL_OK || rc == FL_EDATA);
        accepted += rc == FL_OK;
        if (iter % 7 == 0)
            tick(c, to);
        for (raft_id i = 1; i <= 3; i++) {
            raft_ready rd;
            if (!raft_has_ready(node(c, i)))
                continue;
            raft_ready_get(node(c, i), &rd);
            raft_advance(node(c, i));
        }
    }
    printf("random messages: %d of 20000 accepted\n", accepted);
    assert_true(accepted > 10000);
    raft_fixture_free(c);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_election),
        cmocka_unit_test(test_single_node),
        cmocka_unit_test(test_vote_in_hard_state),
        cmocka_unit_test(test_restart_keeps_vote),
        cmocka_unit_test(test_prevote_blocks_disruptive_rejoin),
        cmocka_unit_test(test_check_quorum_step_down),
        cmocka_unit_test(test_log_conflict_fast_backtrack),
        cmocka_unit_test(test_figure8_no_commit_of_old_term),
        cmocka_unit_test(test_read_index_needs_quorum),
        cmocka_unit_test(test_read_index_waits_for_term_commit),
        cmocka_unit_test(test_snapshot_send_install),
        cmocka_unit_test(test_msg_roundtrip),
        cmocka_unit_test(test_msg_garbage),
        cmocka_unit_test(test_step_rejects_malformed),
        cmocka_unit_test(test_step_random_messages),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
