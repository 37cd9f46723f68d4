/*
 * sc_search.c — the search described in sc_search.h.
 *
 * Data layout: the walk keeps one trail of moves (an op placed, or an
 * optional op skipped) that is undone on backtracking, and one frame per
 * configuration on the current path with its candidate moves, so the
 * depth of the search is heap memory, never the C stack. The hash of the
 * configuration is kept incrementally (one word per (process, position)
 * and per (object, state), XORed in and out); the memo table keeps each
 * configuration's position vector and state vector in full, so equality
 * is exact.
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
    bool skip;            /* an optional op left out, not placed */
} move;

/*
 * Dead ends, counted incrementally for models that say what each op writes
 * and observes (the registers): a (key, value) pair is dead when some
 * required op left still needs the key to hold the value (a read of it, a
 * cas from it), the key does not hold it now, and no op left writes it.
 * Such an op can never be placed, so neither can the whole order.
 */
typedef struct pairs {
    uint32_t *obj;
    uint64_t *val;
    uint32_t *need, *writers;
    bool *dead;
    size_t n, ndead;
    uint32_t *table;      /* open addressing over (obj, val): pair + 1 */
    size_t tsize;
    uint32_t *wpair;      /* per op: the pair it writes, UINT32_MAX: none */
    uint32_t *opair;      /* per op, 2 each: the pairs it needs */
    uint32_t *hpair;      /* per op, 2 each: the pairs it observes */
    uint32_t *head_obs;   /* per pair: chains whose next op observes it */
    uint64_t *stamp;      /* per pair: the last frame that tried a free
                             write of it */
    uint64_t frames;
} pairs;

#define NO_PAIR UINT32_MAX

typedef struct frame {
    size_t base;          /* trail length before the move that led here */
    size_t cand_off;      /* its candidates in the cand stack */
    uint32_t ncand, next;
} frame;

typedef struct sc {
    const sc_problem *p;
    const wgl_limits *limits;
    size_t *pos;          /* per process: how far along its chain */
    uint64_t *st;         /* per object */
    bool *skippable;      /* per op: optional, with a required op after it */
    size_t remaining;     /* required ops not yet placed */
    size_t placed;
    uint64_t hash;
    move *trail;
    size_t ntrail;
    frame *frames;
    size_t nframes, frames_cap;
    uint32_t *cand;       /* proc * 2 + skip */
    size_t ncand, cand_cap;
    unsigned char *key;   /* the current configuration, memo-shaped */
    size_t pos_bytes;     /* bytes per position in a key */
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

static uint64_t pos_word(size_t proc, size_t at)
{
    return fl_rng_mix(((uint64_t)proc << 32 | at) + 0x51ed2701f3a5c7b9u);
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
    return pr->need[id] > 0 && pr->writers[id] == 0 &&
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
    for (int k = 0; k < 2 && !skip; k++)
        if (pr->opair[2 * opi + k] != NO_PAIR)
            pr->need[pr->opair[2 * opi + k]] += (uint32_t)dir;
}

/* op becomes (+1) or stops being (-1) its chain's next op. */
static void head_count(sc *s, uint32_t opi, int dir)
{
    pairs *pr = &s->pr;
    for (int k = 0; k < 2; k++)
        if (pr->hpair[2 * opi + k] != NO_PAIR)
            pr->head_obs[pr->hpair[2 * opi + k]] += (uint32_t)dir;
}

/* After proc moved forward (dir +1) past op opi, or back (-1): opi and
 * the op after it in its chain, if any, swap being the chain's head. */
static void heads_move(sc *s, uint32_t proc, uint32_t opi, int dir)
{
    const sc_problem *p = s->p;
    if (s->pr.table == NULL)
        return;
    head_count(s, opi, -dir);
    if (opi + 1 < p->first[proc] + p->len[proc])
        head_count(s, opi + 1, dir);
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
    pr->need = fl_calloc(cap, sizeof *pr->need);
    pr->writers = fl_calloc(cap, sizeof *pr->writers);
    pr->dead = fl_calloc(cap, sizeof *pr->dead);
    pr->wpair = fl_malloc(cap * sizeof *pr->wpair);
    pr->opair = fl_malloc(2 * cap * sizeof *pr->opair);
    pr->hpair = fl_malloc(2 * cap * sizeof *pr->hpair);
    pr->head_obs = fl_calloc(cap, sizeof *pr->head_obs);
    pr->stamp = fl_calloc(cap, sizeof *pr->stamp);
    if (!pr->table || !pr->obj || !pr->val || !pr->need || !pr->writers ||
        !pr->dead || !pr->wpair || !pr->opair || !pr->hpair ||
        !pr->head_obs || !pr->stamp)
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
        pairs_count(s, i, false, +1);
    }
    for (size_t q = 0; q < p->nprocs; q++)
        if (p->len[q] > 0)
            head_count(s, (uint32_t)p->first[q], +1);
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
                                   skip};
    s->hash ^= pos_word(proc, s->pos[proc]) ^ pos_word(proc, s->pos[proc] + 1);
    s->pos[proc]++;
    if (!skip) {
        s->hash ^= state_word(o->obj, prev) ^ state_word(o->obj, next);
        s->st[o->obj] = next;
        s->placed++;
        s->remaining -= o->required;
    }
    pairs_count(s, opi, skip, -1);
    heads_move(s, proc, opi, +1);
    if (s->pr.table != NULL)
        pairs_rejudge(s, opi, prev, next);
    return true;
}

static void undo_to(sc *s, size_t base)
{
    while (s->ntrail > base) {
        const move *m = &s->trail[--s->ntrail];
        const sc_op *o = &s->p->ops[m->op];
        s->pos[m->proc]--;
        s->hash ^= pos_word(m->proc, s->pos[m->proc]) ^
                   pos_word(m->proc, s->pos[m->proc] + 1);
        if (!m->skip) {
            s->hash ^= state_word(o->obj, m->next) ^ state_word(o->obj, m->prev);
            s->st[o->obj] = m->prev;
            s->placed--;
            s->remaining += o->required;
        }
        window_restore(s, m->op, m->rem_at);
        pairs_count(s, m->op, m->skip, +1);
        heads_move(s, m->proc, m->op, -1);
        if (s->pr.table != NULL)
            pairs_rejudge(s, m->op, m->next, m->prev);
    }
    if (s->ntrail < s->low)
        s->low = s->ntrail;
}

/* The exact read reduction (sc_search.h): place every next op that is a
 * read the current state accepts, until none is left. One pass is enough:
 * a read changes no state, so it cannot make another chain's read
 * acceptable; only its own chain's next op is new, and that is looked at
 * at once. */
static void place_reads(sc *s)
{
    const lin_model *m = s->p->model;
    for (uint32_t q = 0; q < s->p->nprocs && !s->oom; q++) {
        const sc_op *o;
        while ((o = next_op(s, q)) != NULL && o->required && o->op.known &&
               m->read_only(&o->op) && apply(s, q, false))
            ;
    }
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

/* 1 new, 0 seen, -1 out of memory. Positions take the fewest bytes that
 * hold the longest chain's length: chains are short (an info op ends
 * one), and the memo table is most of the memory. */
static int visit(sc *s)
{
    const sc_problem *p = s->p;
    unsigned char *k = s->key;
    for (size_t i = 0; i < p->nprocs; i++) {
        size_t v = s->pos[i];
        for (size_t b = 0; b < s->pos_bytes; b++, v >>= 8)
            *k++ = (unsigned char)v;
    }
    memcpy(k, s->st, p->nobjs * sizeof *s->st);
    return memo_insert(&s->memo, s->hash, s->key);
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
static bool free_write_useful(sc *s, const sc_op *o)
{
    pairs *pr = &s->pr;
    uint32_t id = pr->wpair[o - s->p->ops];
    if (id == NO_PAIR || s->st[o->obj] == pr->val[id] || pr->head_obs[id] == 0 ||
        pr->stamp[id] == pr->frames)
        return false;
    pr->stamp[id] = pr->frames;
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

static int cmp_cand(const void *a, const void *b, void *arg)
{
    const sc *s = arg;
    uint32_t x = *(const uint32_t *)a, y = *(const uint32_t *)b;
    int64_t cx = next_op(s, x / 2)->rank, cy = next_op(s, y / 2)->rank;
    if (cx != cy)
        return cx < cy ? -1 : 1;
    return (x > y) - (x < y);
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
    if (s->ncand + 2 * s->p->nprocs > s->cand_cap) {
        size_t cap = 2 * (s->ncand + 2 * s->p->nprocs);
        uint32_t *c = fl_realloc(s->cand, cap * sizeof *c);
        if (c == NULL)
            return -1;
        s->cand = c;
        s->cand_cap = cap;
    }
    frame *f = &s->frames[s->nframes++];
    *f = (frame){.base = base, .cand_off = s->ncand};
    uint32_t *c = s->cand + s->ncand;
    s->pr.frames++;
    for (uint32_t q = 0; q < s->p->nprocs; q++) {
        const sc_op *o = next_op(s, q);
        if (o == NULL || (s->free_write && s->free_write[o - s->p->ops] &&
                          !free_write_useful(s, o)))
            continue;
        c[f->ncand++] = 2 * q;
        if (s->skippable[o - s->p->ops])
            c[f->ncand++] = 2 * q + 1;
    }
    qsort_r(c, f->ncand, sizeof *c, cmp_cand, s);
    s->ncand += f->ncand;
    return 0;
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
    place_reads(s);
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
        if ((steps & 255) == 0 && out_of_time(s))
            return CHECKER_UNKNOWN;
        frame *f = &s->frames[s->nframes - 1];
        if (f->next == f->ncand) {
            undo_to(s, f->base);
            s->ncand = f->cand_off;
            s->nframes--;
            continue;
        }
        uint32_t c = s->cand[f->cand_off + f->next++];
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

static int setup(sc *s, const sc_problem *p)
{
    size_t n = p->nops + 1;
    s->pos = fl_calloc(p->nprocs + 1, sizeof *s->pos);
    s->st = fl_malloc((p->nobjs + 1) * sizeof *s->st);
    s->skippable = fl_calloc(n, sizeof *s->skippable);
    s->trail = fl_malloc(n * sizeof *s->trail);
    s->best = fl_malloc(n * sizeof *s->best);
    size_t longest = 0;
    for (size_t q = 0; q < p->nprocs; q++)
        longest = p->len[q] > longest ? p->len[q] : longest;
    s->pos_bytes = longest < 0xff ? 1 : longest < 0xffff ? 2 : 4;
    s->memo.key_size = p->nprocs * s->pos_bytes + p->nobjs * sizeof(uint64_t);
    s->key = fl_malloc(s->memo.key_size + 1);
    if (!s->pos || !s->st || !s->skippable || !s->trail || !s->best || !s->key)
        return -1;
    for (size_t o = 0; o < p->nobjs; o++) {
        s->st[o] = p->initial[o];
        s->hash ^= state_word((uint32_t)o, p->initial[o]);
    }
    for (size_t q = 0; q < p->nprocs; q++) {
        s->hash ^= pos_word(q, 0);
        bool later_required = false;
        for (size_t i = p->len[q]; i-- > 0;) {
            const sc_op *o = &p->ops[p->first[q] + i];
            s->skippable[p->first[q] + i] = !o->required && later_required;
            later_required |= o->required;
            s->remaining += o->required;
        }
    }
    return window_setup(s) == 0 && pairs_setup(s) == 0 && free_setup(s) == 0
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
    fl_free(s->frames);
    fl_free(s->cand);
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
