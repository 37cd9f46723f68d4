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
    bool skip;            /* an optional op left out, not placed */
} move;

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
    memo memo;
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
    s->trail[s->ntrail++] = (move){proc, opi, prev, next, skip};
    s->hash ^= pos_word(proc, s->pos[proc]) ^ pos_word(proc, s->pos[proc] + 1);
    s->pos[proc]++;
    if (!skip) {
        s->hash ^= state_word(o->obj, prev) ^ state_word(o->obj, next);
        s->st[o->obj] = next;
        s->placed++;
        s->remaining -= o->required;
    }
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
    }
    if (s->ntrail < s->low)
        s->low = s->ntrail;
}

/* The exact read reduction (sc_search.h): place every next op that is a
 * read the current state accepts, until none is left. */
static void place_reads(sc *s)
{
    const lin_model *m = s->p->model;
    for (bool again = true; again && !s->oom;) {
        again = false;
        for (uint32_t q = 0; q < s->p->nprocs; q++) {
            const sc_op *o;
            while ((o = next_op(s, q)) != NULL && o->required && o->op.known &&
                   m->read_only(&o->op) && apply(s, q, false))
                again = true;
        }
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

/* 1 new, 0 seen, -1 out of memory. */
static int visit(sc *s)
{
    const sc_problem *p = s->p;
    uint32_t *pos = (uint32_t *)s->key;
    for (size_t i = 0; i < p->nprocs; i++)
        pos[i] = (uint32_t)s->pos[i];
    memcpy(s->key + p->nprocs * sizeof *pos, s->st, p->nobjs * sizeof *s->st);
    return memo_insert(&s->memo, s->hash, s->key);
}

static int cmp_cand(const void *a, const void *b, void *arg)
{
    const sc *s = arg;
    uint32_t x = *(const uint32_t *)a, y = *(const uint32_t *)b;
    int64_t cx = next_op(s, x / 2)->call, cy = next_op(s, y / 2)->call;
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
    for (uint32_t q = 0; q < s->p->nprocs; q++) {
        const sc_op *o = next_op(s, q);
        if (o == NULL)
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
    s->memo.key_size = p->nprocs * sizeof(uint32_t) + p->nobjs * sizeof(uint64_t);
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
    return 0;
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
