/*
 * sc_search.c — the search described in sc_search.h.
 *
 * Data layout: the walk keeps one trail of moves (an op placed, or an
 * optional op skipped) that is undone on backtracking, and one frame per
 * configuration on the current path, which finds its moves lazily, so
 * the depth of the search is heap memory, never the C stack. Nothing a
 * configuration costs grows with the number of chains (sc_search.h): the
 * heads that are moves sit in a bitset by rank, the heads that are reads
 * in lists by the value they wait for, and (many chains) the chains'
 * classes in a hash-consed tree whose root number is the memo key's part
 * for them (with the state vector, stored in full, so equality is exact). The
 * state part of the hash is kept incrementally (one word per (object,
 * state), XORed in and out).
 */
#include "checkers/sc_search.h"
#include "base/alloc.h"

#include <stdlib.h>
#include <string.h>

#include "base/clock.h"
#include "base/rng.h"

/* ---- Memo table -------------------------------------------------------------- */

typedef struct memo_slot {
    uint64_t hash;
    size_t idx;        /* key number + 1; 0: empty */
} memo_slot;

typedef struct memo {
    memo_slot *slots;
    size_t nslots, count;
    unsigned char *keys;   /* count keys of key_size bytes each */
    size_t keys_cap, key_size;
} memo;

static int memo_grow(memo *m)
{
    size_t n = m->nslots ? 2 * m->nslots : 1024;
    memo_slot *s = fl_calloc(n, sizeof *s);
    if (s == NULL)
        return -1;
    for (size_t i = 0; i < m->nslots; i++) {
        if (m->slots[i].idx == 0)
            continue;
        size_t j = m->slots[i].hash & (n - 1);
        while (s[j].idx != 0)
            j = (j + 1) & (n - 1);
        s[j] = m->slots[i];
    }
    fl_free(m->slots);
    m->slots = s;
    m->nslots = n;
    return 0;
}

/* 1: key was new and is now stored; 0: seen before; -1: out of memory. */
static int memo_insert(memo *m, uint64_t hash, const unsigned char *key)
{
    if (2 * (m->count + 1) > m->nslots && memo_grow(m) != 0)
        return -1;
    size_t j = hash & (m->nslots - 1);
    for (; m->slots[j].idx != 0; j = (j + 1) & (m->nslots - 1))
        if (m->slots[j].hash == hash &&
            memcmp(m->keys + (m->slots[j].idx - 1) * m->key_size, key,
                   m->key_size) == 0)
            return 0;
    if (m->count == m->keys_cap) {
        size_t cap = m->keys_cap ? 2 * m->keys_cap : 256;
        unsigned char *k = fl_realloc(m->keys, cap * m->key_size);
        if (k == NULL)
            return -1;
        m->keys = k;
        m->keys_cap = cap;
    }
    memcpy(m->keys + m->count * m->key_size, key, m->key_size);
    m->slots[j] = (memo_slot){hash, ++m->count};
    return 1;
}

/* ---- The walk's state ----------------------------------------------------------- */

typedef struct move {
    uint32_t proc, op;
    uint64_t prev, next;  /* the object's state before and after */
    uint32_t rem_at;      /* where the op stood in its object's window */
    uint32_t root;        /* the class tree's root before */
    bool skip;            /* an optional op left out, not placed */
} move;

/* ---- Sets of ops by rank: a bitset with a summary level per 64 ----------------- */

#define NO_BIT SIZE_MAX
#define BITS_LEVELS 6     /* 64^6 bits */

typedef struct bits {
    uint64_t *w[BITS_LEVELS];
    size_t nw[BITS_LEVELS];
    unsigned levels;
} bits;

static int bits_init(bits *b, size_t n)
{
    size_t len = n + 1;
    b->levels = 0;
    do {
        len = (len + 63) / 64;
        b->nw[b->levels] = len;
        b->w[b->levels] = fl_calloc(len, sizeof(uint64_t));
        if (b->w[b->levels++] == NULL)
            return -1;
    } while (len > 1 && b->levels < BITS_LEVELS);
    return 0;
}

static void bits_free(bits *b)
{
    for (unsigned l = 0; l < b->levels; l++)
        fl_free(b->w[l]);
}

static void bits_set(bits *b, size_t i)
{
    for (unsigned l = 0; l < b->levels; l++, i >>= 6) {
        uint64_t was = b->w[l][i >> 6];
        b->w[l][i >> 6] = was | 1ull << (i & 63);
        if (was != 0)
            return;
    }
}

static void bits_clear(bits *b, size_t i)
{
    for (unsigned l = 0; l < b->levels; l++, i >>= 6) {
        b->w[l][i >> 6] &= ~(1ull << (i & 63));
        if (b->w[l][i >> 6] != 0)
            return;
    }
}

/* The smallest set index >= i, or NO_BIT. */
static size_t bits_next(const bits *b, size_t i)
{
    unsigned l = 0;
    for (;;) {
        size_t w = i >> 6;
        if (w < b->nw[l]) {
            uint64_t m = b->w[l][w] & (~0ull << (i & 63));
            if (m != 0) {
                i = w * 64 + (size_t)__builtin_ctzll(m);
                for (; l > 0; l--)
                    i = i * 64 + (size_t)__builtin_ctzll(b->w[l - 1][i]);
                return i;
            }
        }
        if (++l == b->levels)
            return NO_BIT;
        i = w + 1;
    }
}

/* ---- The multiset of the chains' classes, hash-consed ----------------------------- */

/*
 * Many chains: the memo key holds, instead of every chain's class, one
 * number naming the multiset of the unfinished chains' classes — the root
 * of a segment tree over class ids whose leaves are counts, every node
 * hash-consed (a node is its pair of children), so two trees with the
 * same counts are the same node and equal numbers mean equal multisets
 * (exact: the table compares the pairs in full). Node 0 is the all-zero
 * tree at every level. A chain's move changes two counts: O(log classes)
 * nodes, whatever the number of chains; finished chains (class 0) are not
 * counted at all (their number is the rest).
 */
typedef struct mtree {
    uint32_t *a, *b;      /* node -> children (level 1: two counts) */
    size_t n, cap;
    uint32_t *tab;        /* open addressing: node + 1 */
    size_t tsize;
    unsigned depth;       /* levels of nodes above the counts */
    uint32_t root;
    uint32_t path[40];
} mtree;

/*
 * Dead ends, counted incrementally for models that say what each op writes
 * and observes (the registers): a (key, value) pair is dead when some
 * required op left still needs the key to hold the value (a read of it, a
 * cas from it), the key does not hold it now, and every op left that
 * writes it comes after the needing op in its chain (the op itself
 * included: a cas v -> v cannot make v for itself). Such an op can never be
 * placed: the value must be written between now and it, by an op that can
 * precede it. So neither can the whole order.
 *
 * Counted per pair: writers, every op left that writes it; and for each c,
 * need[need_off + c], the required ops left that need it with c writers of
 * it at or after them in their chain (their `later`). Since writers >= c
 * for each such op, the pair is dead when need[need_off + writers] > 0.
 */
typedef struct pairs {
    uint32_t *obj;
    uint64_t *val;
    uint32_t *need, *writers;
    size_t *need_off;     /* per pair: where its counts by `later` start */
    uint32_t *need_top;   /* per pair: the largest `later` of its needers */
    uint32_t *later;      /* per op, 2 each: see above */
    bool *dead;
    size_t n, ndead;
    uint32_t *table;      /* open addressing over (obj, val): pair + 1 */
    size_t tsize;
    uint32_t *wpair;      /* per op: the pair it writes, UINT32_MAX: none */
    uint32_t *opair;      /* per op, 2 each: the pairs it needs */
    uint32_t *hpair;      /* per op, 2 each: the pairs it observes */
    uint32_t *head_obs;   /* per pair: chains whose next op observes it */
    uint64_t *stamp;      /* per pair: the last frame (serial) that tried
                             a free write of it */
} pairs;

#define NO_PAIR UINT32_MAX
/* More chains than this: the memo key's part for them is the class tree's
 * root; up to it, the chains' classes sorted, which costs less than the
 * tree's O(log classes) a move when there are few (half the time at 10
 * chains and 20k ops). */
#define TREE_CHAINS 32

/* A configuration on the path. Its moves are found lazily, in rank order
 * from next_r on, among the heads then (which are the same whenever the
 * walk comes back to it: everything deeper is undone). */
typedef struct frame {
    size_t base;          /* trail length before the move that led here */
    size_t next_r;        /* the next rank index to look at */
    uint64_t serial;      /* this frame's number, for the stamps */
    uint32_t skip_q;      /* a chain whose skip is to be tried next, or
                             UINT32_MAX */
} frame;

typedef struct sc {
    const sc_problem *p;
    const wgl_limits *limits;
    size_t *pos;          /* per process: how far along its chain */
    uint64_t *st;         /* per object */
    bool *skippable;      /* per op: optional, with a required op after it */
    size_t remaining;     /* required ops not yet placed */
    size_t placed;
    uint64_t hash;        /* of the states, XORed */
    move *trail;
    size_t ntrail;
    frame *frames;
    size_t nframes, frames_cap;
    uint64_t serial;      /* frames made so far */
    /* ops in rank order (rank, then chain): by_rank[r], ridx[op] = r */
    uint32_t *by_rank, *ridx, *proc_of;
    bits cand_bits;       /* heads (by rank) that are moves to try */
    bits read_bits;       /* heads that are reads the read reduction places
                             without a single pair to file them under */
    /* heads that are reads of one (object, value) pair, filed under it:
     * the pair's list of chains (pairs models) */
    uint32_t *rl_first, *rl_next, *rl_prev, *rl_pair;
    uint32_t *scratch;    /* chains, for place_reads */
    bool use_tree;        /* more than TREE_CHAINS chains */
    uint32_t *sorted;     /* scratch: the chains' classes (few chains) */
    size_t class_bytes;   /* bytes per class in such a key */
    mtree tree;
    unsigned char *key;   /* the current configuration, memo-shaped */
    /* per op: the class of the chain's rest from it on (identical rests,
     * one class); a finished chain is class 0 */
    uint32_t *cls;
    uint64_t *cls_stamp;  /* per class: the last frame (serial) that took it */
    size_t nclasses;
    memo memo;
    pairs pr;             /* NULL arrays: the model cannot say */
    /* each object's ops not yet placed or skipped, for the model's
     * viable() lookahead: rem[rem_first[o] .. + rem_n[o]) */
    const lin_op **rem;
    size_t *rem_first, *rem_n;
    uint32_t *rem_at;     /* per op: its index in rem */
    bool *free_write;     /* per op: optional, last of its process, blind */
    /* the deepest order built: trail[0..low) is unchanged since copied */
    move *best;
    size_t best_len, best_placed, low;
    bool oom;
} sc;

static uint32_t class_at(const sc *s, size_t proc, size_t at)
{
    return at < s->p->len[proc] ? s->cls[s->p->first[proc] + at] : 0;
}

static uint64_t state_word(uint32_t obj, uint64_t state)
{
    return fl_rng_mix(fl_rng_mix(state) ^ ((uint64_t)obj * 0x9e3779b97f4a7c15u));
}

static const sc_op *next_op(const sc *s, size_t proc)
{
    const sc_problem *p = s->p;
    return s->pos[proc] < p->len[proc] ? &p->ops[p->first[proc] + s->pos[proc]]
                                       : NULL;
}

/* ---- The class tree (many chains) ------------------------------------------------- */

static int tree_grow(sc *s)
{
    mtree *t = &s->tree;
    size_t cap = t->cap ? 2 * t->cap : 4096, tsize = 2 * cap;
    uint32_t *a = fl_realloc(t->a, cap * sizeof *a);
    if (a != NULL)
        t->a = a;
    uint32_t *b = a ? fl_realloc(t->b, cap * sizeof *b) : NULL;
    if (b != NULL)
        t->b = b;
    uint32_t *tab = b ? fl_calloc(tsize, sizeof *tab) : NULL;
    if (tab == NULL)
        return -1;
    for (size_t i = 1; i < t->n; i++) {
        size_t j = fl_rng_mix((uint64_t)t->a[i] << 32 | t->b[i]) & (tsize - 1);
        while (tab[j] != 0)
            j = (j + 1) & (tsize - 1);
        tab[j] = (uint32_t)i + 1;
    }
    fl_free(t->tab);
    t->tab = tab;
    t->tsize = tsize;
    t->cap = cap;
    return 0;
}

/* The node with children (a, b): made on first use. */
static uint32_t tree_cons(sc *s, uint32_t a, uint32_t b)
{
    mtree *t = &s->tree;
    if (a == 0 && b == 0)
        return 0;
    if (t->n == t->cap && tree_grow(s) != 0) {
        s->oom = true;
        return 0;
    }
    size_t j = fl_rng_mix((uint64_t)a << 32 | b) & (t->tsize - 1);
    for (; t->tab[j] != 0; j = (j + 1) & (t->tsize - 1)) {
        uint32_t k = t->tab[j] - 1;
        if (t->a[k] == a && t->b[k] == b)
            return k;
    }
    t->a[t->n] = a;
    t->b[t->n] = b;
    t->tab[j] = (uint32_t)t->n + 1;
    return (uint32_t)t->n++;
}

/* Count class cls once more (dir +1) or once less (-1). */
static void tree_add(sc *s, uint32_t cls, int dir)
{
    mtree *t = &s->tree;
    if (cls == 0 || !s->use_tree)
        return;
    uint32_t node = t->root;
    for (unsigned l = t->depth; l >= 1; l--) {
        t->path[l] = node;
        node = (cls >> (l - 1)) & 1 ? t->b[node] : t->a[node];
    }
    uint32_t child = node + (uint32_t)dir; /* the count */
    for (unsigned l = 1; l <= t->depth; l++) {
        uint32_t up = t->path[l];
        child = (cls >> (l - 1)) & 1 ? tree_cons(s, t->a[up], child)
                                    : tree_cons(s, child, t->b[up]);
    }
    t->root = child;
}

static int tree_setup(sc *s)
{
    mtree *t = &s->tree;
    if (!s->use_tree)
        return 0;
    for (t->depth = 1; t->depth < 32 && (1ull << t->depth) <= s->nclasses;)
        t->depth++;
    if (tree_grow(s) != 0)
        return -1;
    t->a[0] = t->b[0] = 0; /* node 0: all zero */
    t->n = 1;
    for (size_t q = 0; q < s->p->nprocs && !s->oom; q++)
        tree_add(s, class_at(s, q, 0), +1);
    return s->oom ? -1 : 0;
}

/* ---- Dead ends and the window ---------------------------------------------------- */

static size_t pair_slot(const pairs *pr, uint32_t obj, uint64_t val)
{
    return fl_rng_mix(val ^ ((uint64_t)obj << 40 | obj)) & (pr->tsize - 1);
}

static uint32_t pair_find(const pairs *pr, uint32_t obj, uint64_t val)
{
    if (pr->table == NULL)
        return NO_PAIR;
    for (size_t j = pair_slot(pr, obj, val); pr->table[j] != 0;
         j = (j + 1) & (pr->tsize - 1)) {
        uint32_t id = pr->table[j] - 1;
        if (pr->obj[id] == obj && pr->val[id] == val)
            return id;
    }
    return NO_PAIR;
}

static uint32_t pair_get(pairs *pr, uint32_t obj, uint64_t val)
{
    uint32_t id = pair_find(pr, obj, val);
    if (id != NO_PAIR)
        return id;
    size_t j = pair_slot(pr, obj, val);
    while (pr->table[j] != 0)
        j = (j + 1) & (pr->tsize - 1);
    id = (uint32_t)pr->n++;
    pr->obj[id] = obj;
    pr->val[id] = val;
    pr->table[j] = id + 1;
    return id;
}

static bool pair_dead(const sc *s, uint32_t id)
{
    const pairs *pr = &s->pr;
    return pr->writers[id] <= pr->need_top[id] &&
           pr->need[pr->need_off[id] + pr->writers[id]] > 0 &&
           s->st[pr->obj[id]] != pr->val[id];
}

/* After a move (or its undo) changed op's counts and its object's state
 * from `from` to `to`: re-judge the only pairs that can have changed. */
static void pairs_rejudge(sc *s, uint32_t opi, uint64_t from, uint64_t to)
{
    pairs *pr = &s->pr;
    uint32_t obj = s->p->ops[opi].obj;
    uint32_t ids[5] = {pr->wpair[opi], pr->opair[2 * opi], pr->opair[2 * opi + 1],
                       pair_find(pr, obj, from), pair_find(pr, obj, to)};
    for (size_t i = 0; i < 5; i++) {
        bool repeat = ids[i] == NO_PAIR;
        for (size_t j = 0; j < i && !repeat; j++)
            repeat = ids[j] == ids[i];
        if (repeat)
            continue;
        pr->ndead -= pr->dead[ids[i]];
        pr->dead[ids[i]] = pair_dead(s, ids[i]);
        pr->ndead += pr->dead[ids[i]];
    }
}

/* Count op in (dir = +1) or out (-1) of what is left to place. */
static void pairs_count(sc *s, uint32_t opi, bool skip, int dir)
{
    pairs *pr = &s->pr;
    if (pr->table == NULL)
        return;
    if (pr->wpair[opi] != NO_PAIR)
        pr->writers[pr->wpair[opi]] += (uint32_t)dir;
    for (int k = 0; k < 2 && !skip; k++) {
        uint32_t id = pr->opair[2 * opi + k];
        if (id != NO_PAIR)
            pr->need[pr->need_off[id] + pr->later[2 * opi + k]] += (uint32_t)dir;
    }
}

/* An op the read reduction places itself: a read with a known output
 * that must be placed. */
static bool auto_read(const sc *s, const sc_op *o)
{
    return o->required && o->op.known && s->p->model->read_only(&o->op);
}

/* Chain q's next op becomes (+1) or stops being (-1) its head: the pairs'
 * counts of heads observing them, and the sets the walk looks in. */
static void head_mark(sc *s, uint32_t q, int dir)
{
    const sc_op *o = next_op(s, q);
    if (o == NULL)
        return;
    uint32_t i = (uint32_t)(o - s->p->ops);
    pairs *pr = &s->pr;
    if (pr->table != NULL)
        for (int k = 0; k < 2; k++)
            if (pr->hpair[2 * i + k] != NO_PAIR)
                pr->head_obs[pr->hpair[2 * i + k]] += (uint32_t)dir;
    if (!auto_read(s, o)) {
        if (dir > 0)
            bits_set(&s->cand_bits, s->ridx[i]);
        else
            bits_clear(&s->cand_bits, s->ridx[i]);
        return;
    }
    uint32_t id = pr->table != NULL && pr->hpair[2 * i + 1] == NO_PAIR
                      ? pr->hpair[2 * i] : NO_PAIR;
    if (id == NO_PAIR) {
        if (dir > 0)
            bits_set(&s->read_bits, s->ridx[i]);
        else
            bits_clear(&s->read_bits, s->ridx[i]);
    } else if (dir > 0) { /* filed under its pair */
        s->rl_pair[q] = id;
        s->rl_prev[q] = NO_PAIR;
        s->rl_next[q] = s->rl_first[id];
        if (s->rl_first[id] != NO_PAIR)
            s->rl_prev[s->rl_first[id]] = q;
        s->rl_first[id] = q;
    } else {
        if (s->rl_prev[q] != NO_PAIR)
            s->rl_next[s->rl_prev[q]] = s->rl_next[q];
        else
            s->rl_first[id] = s->rl_next[q];
        if (s->rl_next[q] != NO_PAIR)
            s->rl_prev[s->rl_next[q]] = s->rl_prev[q];
    }
}

typedef struct seen2 {
    uint64_t v[2];
    size_t n;
} seen2;

static void see2(void *arg, uint64_t value)
{
    seen2 *s = arg;
    if (s->n < 2) /* a third is not counted: fewer dead ends, never wrong */
        s->v[s->n++] = value;
}

/* Each needing op's `later` (pairs), and the pairs' need counts laid out. */
static int needs_setup(sc *s)
{
    const sc_problem *p = s->p;
    pairs *pr = &s->pr;
    uint32_t *cnt = pr->writers; /* zero until pairs_count: scratch */
    for (size_t q = 0; q < p->nprocs; q++) {
        size_t lo = p->first[q], hi = lo + p->len[q];
        for (size_t i = hi; i-- > lo;) {
            if (pr->wpair[i] != NO_PAIR)
                cnt[pr->wpair[i]]++;
            for (size_t k = 0; k < 2; k++) {
                uint32_t id = pr->opair[2 * i + k];
                if (id == NO_PAIR)
                    continue;
                pr->later[2 * i + k] = cnt[id];
                if (cnt[id] > pr->need_top[id])
                    pr->need_top[id] = cnt[id];
            }
        }
        for (size_t i = lo; i < hi; i++)
            if (pr->wpair[i] != NO_PAIR)
                cnt[pr->wpair[i]] = 0;
    }
    size_t total = 0;
    for (uint32_t id = 0; id < pr->n; id++) {
        pr->need_off[id] = total;
        total += pr->need_top[id] + 1;
    }
    pr->need = fl_calloc(total + 1, sizeof *pr->need);
    return pr->need ? 0 : -1;
}

static int pairs_setup(sc *s)
{
    const sc_problem *p = s->p;
    pairs *pr = &s->pr;
    if (p->model->written == NULL || p->model->observed == NULL)
        return 0;
    size_t cap = 3 * p->nops + 1;
    for (pr->tsize = 16; pr->tsize < 2 * cap; pr->tsize *= 2)
        ;
    pr->table = fl_calloc(pr->tsize, sizeof *pr->table);
    pr->obj = fl_malloc(cap * sizeof *pr->obj);
    pr->val = fl_malloc(cap * sizeof *pr->val);
    pr->need_off = fl_calloc(cap, sizeof *pr->need_off);
    pr->need_top = fl_calloc(cap, sizeof *pr->need_top);
    pr->later = fl_calloc(2 * cap, sizeof *pr->later);
    pr->writers = fl_calloc(cap, sizeof *pr->writers);
    pr->dead = fl_calloc(cap, sizeof *pr->dead);
    pr->wpair = fl_malloc(cap * sizeof *pr->wpair);
    pr->opair = fl_malloc(2 * cap * sizeof *pr->opair);
    pr->hpair = fl_malloc(2 * cap * sizeof *pr->hpair);
    pr->head_obs = fl_calloc(cap, sizeof *pr->head_obs);
    pr->stamp = fl_calloc(cap, sizeof *pr->stamp);
    s->rl_first = fl_malloc(cap * sizeof *s->rl_first);
    if (s->rl_first != NULL)
        for (size_t i = 0; i < cap; i++)
            s->rl_first[i] = NO_PAIR;
    if (!pr->table || !pr->obj || !pr->val || !pr->need_off ||
        !pr->need_top || !pr->later || !pr->writers ||
        !pr->dead || !pr->wpair || !pr->opair || !pr->hpair ||
        !pr->head_obs || !pr->stamp || !s->rl_first)
        return -1;
    for (uint32_t i = 0; i < p->nops; i++) {
        const sc_op *o = &p->ops[i];
        uint64_t w = p->model->written(&o->op);
        pr->wpair[i] = w == LIN_NO_STATE ? NO_PAIR : pair_get(pr, o->obj, w);
        seen2 seen = {{0}, 0};
        p->model->observed(&o->op, see2, &seen);
        for (size_t k = 0; k < 2; k++) {
            pr->hpair[2 * i + k] = k < seen.n ? pair_get(pr, o->obj, seen.v[k])
                                              : NO_PAIR;
            pr->opair[2 * i + k] = o->required ? pr->hpair[2 * i + k] : NO_PAIR;
        }
    }
    if (needs_setup(s) != 0)
        return -1;
    for (uint32_t i = 0; i < p->nops; i++)
        pairs_count(s, i, false, +1);
    for (uint32_t id = 0; id < pr->n; id++) {
        pr->dead[id] = pair_dead(s, id);
        pr->ndead += pr->dead[id];
    }
    return 0;
}

static void pairs_free(pairs *pr)
{
    fl_free(pr->table);
    fl_free(pr->obj);
    fl_free(pr->val);
    fl_free(pr->need);
    fl_free(pr->need_off);
    fl_free(pr->need_top);
    fl_free(pr->later);
    fl_free(pr->writers);
    fl_free(pr->dead);
    fl_free(pr->wpair);
    fl_free(pr->opair);
    fl_free(pr->hpair);
    fl_free(pr->head_obs);
    fl_free(pr->stamp);
}

static int window_setup(sc *s)
{
    const sc_problem *p = s->p;
    s->rem = fl_malloc((p->nops + 1) * sizeof *s->rem);
    s->rem_first = fl_calloc(p->nobjs + 1, sizeof *s->rem_first);
    s->rem_n = fl_calloc(p->nobjs + 1, sizeof *s->rem_n);
    s->rem_at = fl_malloc((p->nops + 1) * sizeof *s->rem_at);
    if (!s->rem || !s->rem_first || !s->rem_n || !s->rem_at)
        return -1;
    for (size_t i = 0; i < p->nops; i++)
        s->rem_n[p->ops[i].obj]++;
    for (size_t o = 1; o < p->nobjs; o++)
        s->rem_first[o] = s->rem_first[o - 1] + s->rem_n[o - 1];
    memset(s->rem_n, 0, (p->nobjs + 1) * sizeof *s->rem_n);
    for (size_t i = 0; i < p->nops; i++) {
        uint32_t o = p->ops[i].obj;
        s->rem_at[i] = (uint32_t)(s->rem_first[o] + s->rem_n[o]++);
        s->rem[s->rem_at[i]] = &p->ops[i].op;
    }
    return 0;
}

/* Take op out of its object's window (swap with the last); returns where
 * it stood, for window_restore, which must undo in reverse order. */
static uint32_t window_take(sc *s, uint32_t opi)
{
    uint32_t o = s->p->ops[opi].obj, at = s->rem_at[opi];
    uint32_t last = (uint32_t)(s->rem_first[o] + --s->rem_n[o]);
    const lin_op *moved = s->rem[last];
    s->rem[last] = s->rem[at];
    s->rem[at] = moved;
    s->rem_at[(const sc_op *)(const void *)moved - s->p->ops] = at;
    s->rem_at[opi] = last;
    return at;
}

static void window_restore(sc *s, uint32_t opi, uint32_t at)
{
    uint32_t o = s->p->ops[opi].obj, last = s->rem_at[opi];
    s->rem_n[o]++;
    const lin_op *moved = s->rem[at];
    s->rem[at] = s->rem[last];
    s->rem[last] = moved;
    s->rem_at[(const sc_op *)(const void *)moved - s->p->ops] = last;
    s->rem_at[opi] = at;
}

#define VIABLE_MAX_WINDOW 4096

/* A dead end: some pair is dead, or (models with a lookahead instead) a
 * process waits on a read that nothing left on its key can satisfy. */
static bool dead_end(const sc *s)
{
    const lin_model *m = s->p->model;
    if (s->pr.table != NULL)
        return s->pr.ndead > 0;
    if (m->viable == NULL)
        return false;
    for (uint32_t q = 0; q < s->p->nprocs; q++) {
        const sc_op *o = next_op(s, q);
        /* a read the state accepted would have been placed already */
        if (o == NULL || !o->required || !o->op.known || !m->read_only(&o->op))
            continue;
        size_t n = s->rem_n[o->obj];
        if (n <= VIABLE_MAX_WINDOW &&
            !m->viable(s->p->ctx, s->st[o->obj], &o->op,
                       s->rem + s->rem_first[o->obj], n))
            return true;
    }
    return false;
}

/* Place (or skip) proc's next op. false when the model refuses it (or, with
 * s->oom set, when memory ran out). */
static bool apply(sc *s, uint32_t proc, bool skip)
{
    const sc_problem *p = s->p;
    uint32_t opi = (uint32_t)(p->first[proc] + s->pos[proc]);
    const sc_op *o = &p->ops[opi];
    uint64_t prev = s->st[o->obj], next = prev;
    if (!skip && !p->model->step(p->ctx, prev, &o->op, &next))
        return false;
    if (next == LIN_NO_STATE) {
        s->oom = true;
        return false;
    }
    s->trail[s->ntrail++] = (move){proc, opi, prev, next, window_take(s, opi),
                                   s->tree.root, skip};
    uint32_t was = class_at(s, proc, s->pos[proc]),
             now = class_at(s, proc, s->pos[proc] + 1);
    tree_add(s, was, -1);
    tree_add(s, now, +1);
    head_mark(s, proc, -1);
    s->pos[proc]++;
    head_mark(s, proc, +1);
    if (!skip) {
        s->hash ^= state_word(o->obj, prev) ^ state_word(o->obj, next);
        s->st[o->obj] = next;
        s->placed++;
        s->remaining -= o->required;
    }
    pairs_count(s, opi, skip, -1);
    if (s->pr.table != NULL)
        pairs_rejudge(s, opi, prev, next);
    return !s->oom;
}

static void undo_to(sc *s, size_t base)
{
    while (s->ntrail > base) {
        const move *m = &s->trail[--s->ntrail];
        const sc_op *o = &s->p->ops[m->op];
        head_mark(s, m->proc, -1);
        s->pos[m->proc]--;
        head_mark(s, m->proc, +1);
        s->tree.root = m->root;
        if (!m->skip) {
            s->hash ^= state_word(o->obj, m->next) ^ state_word(o->obj, m->prev);
            s->st[o->obj] = m->prev;
            s->placed--;
            s->remaining += o->required;
        }
        window_restore(s, m->op, m->rem_at);
        pairs_count(s, m->op, m->skip, +1);
        if (s->pr.table != NULL)
            pairs_rejudge(s, m->op, m->next, m->prev);
    }
    if (s->ntrail < s->low)
        s->low = s->ntrail;
}

/* Chain q's reads the current state accepts, placed one after another. */
static void reads_of_chain(sc *s, uint32_t q)
{
    const sc_op *o;
    while (!s->oom && (o = next_op(s, q)) != NULL && auto_read(s, o) &&
           apply(s, q, false))
        ;
}

/* The chains of the heads in a set of rank indices, into s->scratch. */
static size_t chains_in(sc *s, const bits *b)
{
    size_t n = 0;
    for (size_t r = bits_next(b, 0); r != NO_BIT; r = bits_next(b, r + 1))
        s->scratch[n++] = s->proc_of[s->by_rank[r]];
    return n;
}

/*
 * The exact read reduction (sc_search.h): place every next op that is a
 * read the current state accepts, until none is left. A read changes no
 * state, so it cannot make another chain's read acceptable; only its own
 * chain's next op is new, and that is looked at at once. So after a move
 * (`last`; NULL: the start, where every chain is looked at) only two kinds
 * of chain can have an acceptable read at their head: the moved chain,
 * and, when the move changed its object to v, the chains whose head reads
 * v there — filed under the pair (object, v), so that finding them costs
 * nothing for the chains that cannot. Heads no pair files (models that
 * cannot say what reads observe) are all looked at.
 */
static void place_reads(sc *s, const move *last)
{
    size_t n = chains_in(s, &s->read_bits);
    for (size_t k = 0; k < n; k++)
        reads_of_chain(s, s->scratch[k]);
    if (last == NULL) {
        for (uint32_t q = 0; q < s->p->nprocs; q++)
            reads_of_chain(s, q);
        return;
    }
    reads_of_chain(s, last->proc);
    uint32_t id = last->skip || last->prev == last->next
                      ? NO_PAIR
                      : pair_find(&s->pr, s->p->ops[last->op].obj, last->next);
    if (id == NO_PAIR)
        return;
    n = 0;
    for (uint32_t q = s->rl_first[id]; q != NO_PAIR; q = s->rl_next[q])
        s->scratch[n++] = q;
    for (size_t k = 0; k < n; k++)
        reads_of_chain(s, s->scratch[k]);
}

static void note_depth(sc *s)
{
    if (s->placed <= s->best_placed && s->best_len > 0)
        return;
    memcpy(s->best + s->low, s->trail + s->low,
           (s->ntrail - s->low) * sizeof *s->best);
    s->best_len = s->ntrail;
    s->low = s->ntrail;
    s->best_placed = s->placed;
}

/* ---- Configurations and candidates --------------------------------------------- */

static void sort_classes(uint32_t *c, size_t n)
{
    for (size_t i = 1; i < n; i++) {
        uint32_t v = c[i];
        size_t j = i;
        for (; j > 0 && c[j - 1] > v; j--)
            c[j] = c[j - 1];
        c[j] = v;
    }
}

/* 1 new, 0 seen, -1 out of memory. The key: the multiset of the chains'
 * classes (the symmetry reduction, sc_search.h) — the class tree's number
 * for many chains, else the classes sorted, each in the fewest bytes that
 * hold the number of classes — then the states. */
static int visit(sc *s)
{
    const sc_problem *p = s->p;
    unsigned char *k = s->key;
    uint64_t h = s->hash;
    if (s->use_tree) {
        memcpy(k, &s->tree.root, sizeof s->tree.root);
        k += sizeof s->tree.root;
        h ^= fl_rng_mix(s->tree.root + 1ull);
    } else {
        for (size_t i = 0; i < p->nprocs; i++)
            s->sorted[i] = class_at(s, i, s->pos[i]);
        sort_classes(s->sorted, p->nprocs);
        for (size_t i = 0; i < p->nprocs; i++) {
            uint32_t v = s->sorted[i];
            h = fl_rng_mix(h ^ v);
            for (size_t b = 0; b < s->class_bytes; b++, v >>= 8)
                *k++ = (unsigned char)v;
        }
    }
    memcpy(k, s->st, p->nobjs * sizeof *s->st);
    return memo_insert(&s->memo, h, s->key);
}

/*
 * Free writes: an optional blind write (a register write whose outcome is
 * unknown) that ends its process constrains no one, and if a legal order
 * places it at all, one places it immediately before an op that observes
 * its value: the ops between it and the first state-observing op after it
 * can only be blind writes, and if there is one, the free write can be
 * left out. So it is a candidate only while the key does not hold its
 * value and some process's next op observes that value; and of several
 * free writes of one value on one key, all next ops, one is tried: they
 * are interchangeable.
 */
/* O(1): the pairs' counts of chain heads observing each value. */
static bool free_write_useful(sc *s, const sc_op *o, uint64_t serial)
{
    pairs *pr = &s->pr;
    uint32_t id = pr->wpair[o - s->p->ops];
    if (id == NO_PAIR || s->st[o->obj] == pr->val[id] || pr->head_obs[id] == 0 ||
        pr->stamp[id] == serial)
        return false;
    pr->stamp[id] = serial;
    return true;
}

static int free_setup(sc *s)
{
    const sc_problem *p = s->p;
    if (p->model->written == NULL || p->model->observed == NULL)
        return 0;
    s->free_write = fl_calloc(p->nops + 1, sizeof *s->free_write);
    if (s->free_write == NULL)
        return -1;
    for (size_t q = 0; q < p->nprocs; q++) {
        if (p->len[q] == 0)
            continue;
        size_t i = p->first[q] + p->len[q] - 1;
        seen2 seen = {{0}, 0};
        p->model->observed(&p->ops[i].op, see2, &seen);
        s->free_write[i] = !p->ops[i].required && seen.n == 0 &&
                           p->model->written(&p->ops[i].op) != LIN_NO_STATE;
    }
    return 0;
}

/* Of the chains whose rests are identical, only the first is moved: the
 * configuration moving another leads to is the same up to a swap of the
 * two chains (sc_search.h). A deeper frame may overwrite the stamp before
 * this frame is done: then an alike chain is moved again, and the memo
 * finds the configuration it leads to seen — more work, never a
 * different verdict. */
static bool class_first(sc *s, uint32_t cls, uint64_t serial)
{
    if (s->cls_stamp[cls] == serial)
        return false;
    s->cls_stamp[cls] = serial;
    return true;
}

static int push_frame(sc *s, size_t base)
{
    if (s->nframes == s->frames_cap) {
        size_t cap = s->frames_cap ? 2 * s->frames_cap : 64;
        frame *f = fl_realloc(s->frames, cap * sizeof *f);
        if (f == NULL)
            return -1;
        s->frames = f;
        s->frames_cap = cap;
    }
    s->frames[s->nframes++] = (frame){.base = base, .serial = ++s->serial,
                                      .skip_q = UINT32_MAX};
    return 0;
}

/*
 * The frame's next move, 2 * chain + skip: the heads in the order of
 * their ranks (then chains), each placed, then skipped where it may be.
 * Reads the reduction places are no moves: one the state accepts is
 * placed already, one it does not would be refused. false: none left.
 */
static bool next_move(sc *s, frame *f, uint32_t *c)
{
    if (f->skip_q != UINT32_MAX) {
        *c = 2 * f->skip_q + 1;
        f->skip_q = UINT32_MAX;
        return true;
    }
    for (;;) {
        size_t r = bits_next(&s->cand_bits, f->next_r);
        if (r == NO_BIT)
            return false;
        f->next_r = r + 1;
        uint32_t i = s->by_rank[r];
        const sc_op *o = &s->p->ops[i];
        if (!class_first(s, s->cls[i], f->serial) ||
            (s->free_write && s->free_write[i] && !free_write_useful(s, o, f->serial)))
            continue;
        if (s->skippable[i])
            f->skip_q = s->proc_of[i];
        *c = 2 * s->proc_of[i];
        return true;
    }
}

/* ---- The walk --------------------------------------------------------------------- */

static bool out_of_time(const sc *s)
{
    const wgl_limits *l = s->limits;
    if (l == NULL)
        return false;
    if (l->cancel != NULL && atomic_load_explicit(l->cancel, memory_order_relaxed))
        return true;
    return l->deadline_ns > 0 && fl_clock_mono_ns() > l->deadline_ns;
}

static wgl_stop stop_reason(const sc *s)
{
    const wgl_limits *l = s->limits;
    if (s->oom)
        return WGL_STOP_MEMORY;
    if (l && l->cancel && atomic_load_explicit(l->cancel, memory_order_relaxed))
        return WGL_STOP_CANCELLED;
    return WGL_STOP_TIME;
}

/* Arrive at a configuration: reads placed, then the goal, the memo and a
 * frame. 1: the goal; 0: carry on; -1: stop (out of memory). */
static int arrive(sc *s, size_t base)
{
    if (s->ntrail > base) {
        move last = s->trail[s->ntrail - 1];
        place_reads(s, &last);
    } else {
        place_reads(s, NULL);
    }
    if (s->oom)
        return -1;
    note_depth(s);
    if (s->remaining == 0)
        return 1;
    if (dead_end(s)) {
        undo_to(s, base);
        return 0;
    }
    int fresh = visit(s);
    if (fresh < 0)
        return -1;
    if (fresh == 0) {
        undo_to(s, base);
        return 0;
    }
    return push_frame(s, base) == 0 ? 0 : -1;
}

/* CHECKER_VALID, CHECKER_INVALID, or CHECKER_UNKNOWN (stopped). */
static checker_verdict walk(sc *s)
{
    int r = arrive(s, 0);
    for (uint64_t steps = 0; r == 0 && s->nframes > 0; steps++) {
        /* a step costs little, but one can place many reads: a big
         * problem looks at the clock every step */
        if ((steps & (s->p->nops > 2048 ? 0 : 63)) == 0 && out_of_time(s))
            return CHECKER_UNKNOWN;
        frame *f = &s->frames[s->nframes - 1];
        uint32_t c;
        if (!next_move(s, f, &c)) {
            undo_to(s, f->base);
            s->nframes--;
            continue;
        }
        size_t base = s->ntrail;
        if (apply(s, c / 2, c & 1))
            r = arrive(s, base);
        else if (s->oom)
            r = -1;
    }
    if (r < 0)
        s->oom = true;
    return r > 0 ? CHECKER_VALID : r < 0 ? CHECKER_UNKNOWN : CHECKER_INVALID;
}

/* ---- Setting up and reporting --------------------------------------------------- */

/* Two ops are alike when the search cannot tell them apart: same model op,
 * object and required-ness (the rank only orders the trying). */
static bool op_alike(const sc_op *a, const sc_op *b)
{
    return a->op.kind == b->op.kind && a->op.known == b->op.known &&
           a->op.key == b->op.key && a->op.arg == b->op.arg &&
           a->op.arg2 == b->op.arg2 && a->op.out == b->op.out &&
           a->obj == b->obj && a->required == b->required;
}

static uint64_t op_word(const sc_op *o, uint32_t rest)
{
    uint64_t h = fl_rng_mix(o->op.kind ^ (uint64_t)o->op.known << 32 ^
                            (uint64_t)o->required << 33 ^ (uint64_t)o->obj << 34);
    h = fl_rng_mix(h ^ o->op.key);
    h = fl_rng_mix(h ^ o->op.arg);
    h = fl_rng_mix(h ^ o->op.arg2);
    h = fl_rng_mix(h ^ o->op.out);
    return fl_rng_mix(h ^ rest);
}

/* The class of each op's chain rest, hash-consed from each chain's end:
 * a rest is its first op and the class of the rest after it. Class c is
 * kept as an op of it, rep[c - 1], and the class after, after[c - 1]. */
static int classes_setup(sc *s)
{
    const sc_problem *p = s->p;
    size_t tsize = 16;
    while (tsize < 2 * (p->nops + 1))
        tsize *= 2;
    uint32_t *table = fl_calloc(tsize, sizeof *table); /* class; 0: empty */
    uint32_t *rep = fl_malloc((p->nops + 1) * sizeof *rep);
    uint32_t *after = fl_malloc((p->nops + 1) * sizeof *after);
    s->cls = fl_malloc((p->nops + 1) * sizeof *s->cls);
    int rc = table && rep && after && s->cls ? 0 : -1;
    for (size_t q = 0; q < p->nprocs && rc == 0; q++) {
        uint32_t rest = 0;
        for (size_t i = p->first[q] + p->len[q]; i-- > p->first[q];) {
            const sc_op *o = &p->ops[i];
            size_t j = op_word(o, rest) & (tsize - 1);
            for (; table[j] != 0; j = (j + 1) & (tsize - 1))
                if (after[table[j] - 1] == rest &&
                    op_alike(&p->ops[rep[table[j] - 1]], o))
                    break;
            if (table[j] == 0) {
                rep[s->nclasses] = (uint32_t)i;
                after[s->nclasses] = rest;
                table[j] = (uint32_t)++s->nclasses;
            }
            rest = s->cls[i] = table[j];
        }
    }
    s->cls_stamp = rc == 0 ? fl_calloc(s->nclasses + 1, sizeof *s->cls_stamp) : NULL;
    fl_free(table);
    fl_free(rep);
    fl_free(after);
    return rc == 0 && s->cls_stamp ? 0 : -1;
}

static int cmp_by_rank(const void *a, const void *b, void *arg)
{
    const sc *s = arg;
    uint32_t x = *(const uint32_t *)a, y = *(const uint32_t *)b;
    int64_t rx = s->p->ops[x].rank, ry = s->p->ops[y].rank;
    if (rx != ry)
        return rx < ry ? -1 : 1;
    if (s->proc_of[x] != s->proc_of[y])
        return s->proc_of[x] < s->proc_of[y] ? -1 : 1;
    return (x > y) - (x < y);
}

/* The rank order, the sets the walk looks in, every chain's first op
 * made its head, the class tree. */
static int heads_setup(sc *s)
{
    const sc_problem *p = s->p;
    size_t n = p->nops + 1, np = p->nprocs + 1;
    s->by_rank = fl_malloc(n * sizeof *s->by_rank);
    s->ridx = fl_malloc(n * sizeof *s->ridx);
    s->proc_of = fl_malloc(n * sizeof *s->proc_of);
    s->rl_next = fl_malloc(np * sizeof *s->rl_next);
    s->rl_prev = fl_malloc(np * sizeof *s->rl_prev);
    s->rl_pair = fl_malloc(np * sizeof *s->rl_pair);
    s->scratch = fl_malloc(np * sizeof *s->scratch);
    if (!s->by_rank || !s->ridx || !s->proc_of || !s->rl_next || !s->rl_prev ||
        !s->rl_pair || !s->scratch || bits_init(&s->cand_bits, p->nops) != 0 ||
        bits_init(&s->read_bits, p->nops) != 0)
        return -1;
    for (size_t q = 0; q < p->nprocs; q++)
        for (size_t i = p->first[q]; i < p->first[q] + p->len[q]; i++)
            s->proc_of[i] = (uint32_t)q;
    for (uint32_t i = 0; i < p->nops; i++)
        s->by_rank[i] = i;
    qsort_r(s->by_rank, p->nops, sizeof *s->by_rank, cmp_by_rank, s);
    for (uint32_t r = 0; r < p->nops; r++)
        s->ridx[s->by_rank[r]] = r;
    for (uint32_t q = 0; q < p->nprocs; q++)
        head_mark(s, q, +1);
    s->use_tree = p->nprocs > TREE_CHAINS;
    return tree_setup(s);
}

static int setup(sc *s, const sc_problem *p)
{
    size_t n = p->nops + 1;
    s->pos = fl_calloc(p->nprocs + 1, sizeof *s->pos);
    s->st = fl_malloc((p->nobjs + 1) * sizeof *s->st);
    s->skippable = fl_calloc(n, sizeof *s->skippable);
    s->trail = fl_malloc(n * sizeof *s->trail);
    s->best = fl_malloc(n * sizeof *s->best);
    if (!s->pos || !s->st || !s->skippable || !s->trail || !s->best ||
        classes_setup(s) != 0)
        return -1;
    s->class_bytes = s->nclasses <= 0xff ? 1 : s->nclasses <= 0xffff ? 2 : 4;
    s->memo.key_size = (p->nprocs > TREE_CHAINS ? sizeof s->tree.root
                                                : p->nprocs * s->class_bytes) +
                       p->nobjs * sizeof(uint64_t);
    s->sorted = fl_malloc((p->nprocs + 1) * sizeof *s->sorted);
    if (s->sorted == NULL)
        return -1;
    s->key = fl_malloc(s->memo.key_size + 1);
    if (s->key == NULL)
        return -1;
    for (size_t o = 0; o < p->nobjs; o++) {
        s->st[o] = p->initial[o];
        s->hash ^= state_word((uint32_t)o, p->initial[o]);
    }
    for (size_t q = 0; q < p->nprocs; q++) {
        bool later_required = false;
        for (size_t i = p->len[q]; i-- > 0;) {
            const sc_op *o = &p->ops[p->first[q] + i];
            s->skippable[p->first[q] + i] = !o->required && later_required;
            later_required |= o->required;
            s->remaining += o->required;
        }
    }
    return window_setup(s) == 0 && pairs_setup(s) == 0 && free_setup(s) == 0 &&
                   heads_setup(s) == 0
               ? 0 : -1;
}

static int report(const sc *s, checker_verdict v, sc_result *out)
{
    const sc_problem *p = s->p;
    out->verdict = v;
    out->stop = v == CHECKER_UNKNOWN ? stop_reason(s) : WGL_STOP_NONE;
    out->explored = s->memo.count;
    const move *src = v == CHECKER_VALID ? s->trail : s->best;
    size_t len = v == CHECKER_VALID ? s->ntrail : s->best_len;
    out->order = fl_malloc((len + 1) * sizeof *out->order);
    out->stuck_pos = fl_calloc(p->nprocs + 1, sizeof *out->stuck_pos);
    out->stuck_states = fl_malloc((p->nobjs + 1) * sizeof *out->stuck_states);
    if (!out->order || !out->stuck_pos || !out->stuck_states)
        return -1;
    for (size_t o = 0; o < p->nobjs; o++)
        out->stuck_states[o] = p->initial[o];
    for (size_t i = 0; i < len; i++) {
        const move *m = &src[i];
        out->stuck_pos[m->proc]++;
        if (m->skip)
            continue;
        out->stuck_states[p->ops[m->op].obj] = m->next;
        out->order[out->depth++] = (sc_step){m->op, m->next};
    }
    return 0;
}

static void sc_free(sc *s)
{
    fl_free(s->pos);
    fl_free(s->st);
    fl_free(s->skippable);
    fl_free(s->trail);
    fl_free(s->best);
    fl_free(s->key);
    fl_free(s->cls);
    fl_free(s->cls_stamp);
    fl_free(s->frames);
    fl_free(s->by_rank);
    fl_free(s->ridx);
    fl_free(s->proc_of);
    fl_free(s->rl_first);
    fl_free(s->rl_next);
    fl_free(s->rl_prev);
    fl_free(s->rl_pair);
    fl_free(s->scratch);
    bits_free(&s->cand_bits);
    bits_free(&s->read_bits);
    fl_free(s->sorted);
    fl_free(s->tree.a);
    fl_free(s->tree.b);
    fl_free(s->tree.tab);
    fl_free(s->memo.slots);
    fl_free(s->memo.keys);
    fl_free(s->rem);
    fl_free(s->rem_first);
    fl_free(s->rem_n);
    fl_free(s->rem_at);
    pairs_free(&s->pr);
    fl_free(s->free_write);
}

int sc_search(const sc_problem *p, const wgl_limits *limits, sc_result *out,
              fl_error *err)
{
    (void)err; /* running out of memory is a verdict, never an error */
    memset(out, 0, sizeof *out);
    sc s = {.p = p, .limits = limits};
    checker_verdict v = CHECKER_UNKNOWN;
    if (setup(&s, p) == 0) {
        out->required = s.remaining;
        v = walk(&s);
    } else {
        s.oom = true;
    }
    if (report(&s, v, out) != 0) {
        sc_result_free(out);
        out->verdict = CHECKER_UNKNOWN;
        out->stop = WGL_STOP_MEMORY;
        out->explored = s.memo.count;
    }
    sc_free(&s);
    return FL_OK;
}

void sc_result_free(sc_result *r)
{
    fl_free(r->order);
    fl_free(r->stuck_pos);
    fl_free(r->stuck_states);
    r->order = NULL;
    r->stuck_pos = NULL;
    r->stuck_states = NULL;
    r->depth = 0;
}
