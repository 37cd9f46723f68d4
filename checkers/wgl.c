/*
 * wgl.c — the search described in wgl.h.
 *
 * Data layout, chosen for the inner loop:
 *  - the event list is index-linked arrays (next/prev) over 2n entries plus
 *    a head sentinel, so lifting and restoring an operation is four stores
 *    each (Knuth's dancing links);
 *  - the linearized set is a bitset whose hash is kept incrementally
 *    (Zobrist: one random word per operation, XORed in and out);
 *  - the memo table stores each configuration exactly, but compactly, in
 *    two parts. The operations that completed are a bitset in invocation
 *    order whose words that are all ones at the front and all zeros at the
 *    back are implied, so only the "window" of operations in flight is
 *    kept: its width is the history's concurrency, not its length. The
 *    unknown ones (info) are kept apart, as an hcset (checkers/hcset.h),
 *    whose 32-bit name stands for the whole set: in one window with the
 *    others, an info operation never placed would pin the window open from
 *    it to the frontier (or, numbered last, the first one placed would
 *    open it to the end of the history), and a configuration would cost
 *    the history's length. Both parts encode the same set as one bitset
 *    did, and the hashes are the same, so the search is unchanged;
 *  - the longest linearization so far (the evidence) is updated in place:
 *    only the part of the stack that changed since it was last recorded is
 *    copied, so recording costs at most one copy per push, not one copy of
 *    the whole stack per new depth.
 */
#include "checkers/wgl.h"
#include "base/alloc.h"

#include <stdlib.h>
#include <string.h>

#include "base/clock.h"
#include "base/rng.h"
#include "checkers/hcset.h"

/* ---- Memo table ------------------------------------------------------------ */

/* A window of one bitset: words [lo, lo + len) are stored, from off. */
typedef struct memo_span {
    uint32_t lo, len;
} memo_span;

/* When the search has unknown operations, words[off] is their hcs_name
 * and the window follows; otherwise the window is at off. */
typedef struct memo_slot {
    uint64_t state;
    uint32_t tag;      /* high half of the hash; its low bits pick the slot */
    uint32_t off;      /* into words */
    memo_span done;    /* the window of completed operations */
} memo_slot;            /* 24 bytes: the table is most of the memory */

#define MEMO_EMPTY UINT32_MAX /* in done.len */

typedef struct memo {
    memo_slot *slots;
    size_t nslots, count;
    uint64_t *words;
    size_t nwords, words_cap;
    bool with_info;    /* a name word before each window */
} memo;

typedef struct bits {
    uint64_t *w;
    size_t nw;
    size_t lo;     /* words before lo are full */
    size_t hi;     /* words from hi on are zero */
    size_t nbits;
    uint64_t hash; /* Zobrist hash of the set */
    const uint64_t *zobrist;
} bits;

static uint64_t full_mask(const bits *b, size_t word)
{
    size_t rem = b->nbits - word * 64;
    return rem >= 64 ? UINT64_MAX : (UINT64_C(1) << rem) - 1;
}

static void bits_set(bits *b, size_t i)
{
    size_t w = i / 64;
    b->w[w] |= UINT64_C(1) << (i % 64);
    b->hash ^= b->zobrist[i];
    if (w >= b->hi)
        b->hi = w + 1;
    while (b->lo < b->nw && b->w[b->lo] == full_mask(b, b->lo))
        b->lo++;
}

static void bits_clear(bits *b, size_t i)
{
    size_t w = i / 64;
    b->w[w] &= ~(UINT64_C(1) << (i % 64));
    b->hash ^= b->zobrist[i];
    if (w < b->lo)
        b->lo = w;
    while (b->hi > 0 && b->w[b->hi - 1] == 0)
        b->hi--;
}

static memo_span bits_span(const bits *b)
{
    return (memo_span){(uint32_t)b->lo,
                       (uint32_t)(b->hi > b->lo ? b->hi - b->lo : 0)};
}

static bool span_matches(const uint64_t *stored, memo_span s, const bits *b,
                         memo_span want)
{
    return s.lo == want.lo && s.len == want.len &&
           (want.len == 0 ||
            memcmp(stored, b->w + want.lo, want.len * sizeof *b->w) == 0);
}

/* A configuration as the memo sees it. */
typedef struct memo_key {
    const bits *done;
    memo_span done_span;
    uint32_t info;
    uint64_t state;
    uint32_t tag;
} memo_key;

static bool slot_matches(const memo *m, const memo_slot *s, const memo_key *k)
{
    const uint64_t *stored = m->words + s->off;
    if (s->tag != k->tag || s->state != k->state)
        return false;
    if (m->with_info && *stored++ != k->info)
        return false;
    return span_matches(stored, s->done, k->done, k->done_span);
}

static int memo_grow(memo *m)
{
    size_t n = m->nslots ? 2 * m->nslots : 4096;
    memo_slot *slots = fl_malloc(n * sizeof *slots);
    if (slots == NULL)
        return -1;
    for (size_t i = 0; i < n; i++)
        slots[i].done.len = MEMO_EMPTY;
    for (size_t i = 0; i < m->nslots; i++) {
        if (m->slots[i].done.len == MEMO_EMPTY)
            continue;
        size_t s = m->slots[i].tag & (n - 1);
        while (slots[s].done.len != MEMO_EMPTY)
            s = (s + 1) & (n - 1);
        slots[s] = m->slots[i];
    }
    fl_free(m->slots);
    m->slots = slots;
    m->nslots = n;
    return 0;
}

static int memo_reserve_words(memo *m, size_t len)
{
    if (m->nwords + len <= m->words_cap)
        return 0;
    size_t cap = m->words_cap ? m->words_cap + m->words_cap / 2 : 4096;
    while (cap < m->nwords + len)
        cap += cap / 2;
    if (cap > UINT32_MAX)
        return -1; /* offsets are 32-bit: 32 GB of windows is past any budget */
    uint64_t *words = fl_realloc(m->words, cap * sizeof *words);
    if (words == NULL)
        return -1;
    m->words = words;
    m->words_cap = cap;
    return 0;
}

/* 1 if (done ∪ info, state) was new and is now recorded, 0 if seen
 * before, -1 OOM. info_hash is the Zobrist hash of the unknown operations
 * placed, info their hcs_name. The table grows at 3/4 full: linear probing
 * stays short there and the table, the biggest allocation of a search,
 * stays small. */
static int memo_insert(memo *m, const bits *done, uint64_t info_hash,
                       uint32_t info, uint64_t state)
{
    if (4 * (m->count + 1) > 3 * m->nslots && memo_grow(m) != 0)
        return -1;
    uint64_t hash = done->hash ^ info_hash;
    memo_key k = {done, bits_span(done), info, state,
                  (uint32_t)((hash ^ fl_rng_mix(state)) >> 32)};
    size_t mask = m->nslots - 1, s = k.tag & mask;
    for (; m->slots[s].done.len != MEMO_EMPTY; s = (s + 1) & mask)
        if (slot_matches(m, &m->slots[s], &k))
            return 0;
    if (memo_reserve_words(m, m->with_info + (size_t)k.done_span.len) != 0)
        return -1;
    m->slots[s] = (memo_slot){state, k.tag, (uint32_t)m->nwords, k.done_span};
    if (m->with_info)
        m->words[m->nwords++] = info;
    if (k.done_span.len > 0)
        memcpy(m->words + m->nwords, done->w + k.done_span.lo,
               k.done_span.len * sizeof *done->w);
    m->nwords += k.done_span.len;
    m->count++;
    return 1;
}

/* ---- The event list ---------------------------------------------------------- */

typedef struct search {
    const lin_model *model;
    lin_ctx *ctx;
    const wgl_op *ops;
    size_t n;
    /* entries 1..2n in real-time order; 0 is the head sentinel */
    int32_t *next, *prev;
    uint32_t *entry_op;   /* the operation of each entry */
    int32_t *match;       /* call entry -> its return entry (0: none) */
    uint32_t *bit;        /* operation -> bit number in its bitset */
    uint64_t *zobrist;
    bits done;            /* the linearized completed operations */
    hcset info;           /* the linearized unknown ones (info) */
    uint64_t info_hash;   /* Zobrist hash of info */
    const uint64_t *info_zobrist;
    memo memo;
    uint32_t *stack_entry;
    uint64_t *stack_state;
    const lin_op **window; /* scratch for viable() */
    size_t sp;
    size_t agree; /* stack entries below this are the evidence's order */
    const wgl_limits *limits;
} search;

static int cmp_ret(const void *a, const void *b, void *arg)
{
    const wgl_op *ops = arg;
    int64_t x = ops[*(const uint32_t *)a].ret, y = ops[*(const uint32_t *)b].ret;
    if (x != y)
        return (x > y) - (x < y);
    /* unknown outcomes all sort last, in invocation order */
    return (*(const uint32_t *)a > *(const uint32_t *)b) -
           (*(const uint32_t *)a < *(const uint32_t *)b);
}

/* Merge invocations (already in order) and completions into one list. An
 * unknown outcome gets no completion entry at all. */
static int build_list(search *s)
{
    size_t n = s->n;
    uint32_t *by_ret = fl_malloc((n + 1) * sizeof *by_ret);
    int32_t *call_entry = fl_malloc((n + 1) * sizeof *call_entry);
    if (by_ret == NULL || call_entry == NULL) {
        fl_free(by_ret);
        fl_free(call_entry);
        return -1;
    }
    for (size_t i = 0; i < n; i++)
        by_ret[i] = (uint32_t)i;
    qsort_r(by_ret, n, sizeof *by_ret, cmp_ret, (void *)s->ops);
    size_t c = 0, r = 0;
    int32_t e = 0;
    while (c < n || (r < n && s->ops[by_ret[r]].ret != WGL_NEVER)) {
        bool take_call = c < n && (r >= n || s->ops[by_ret[r]].ret == WGL_NEVER ||
                                   s->ops[c].call < s->ops[by_ret[r]].ret);
        e++;
        if (take_call) {
            s->entry_op[e] = (uint32_t)c;
            s->match[e] = 0;
            call_entry[c++] = e;
        } else {
            uint32_t op = by_ret[r++];
            s->entry_op[e] = op;
            s->match[e] = -1;
            s->match[call_entry[op]] = e;
        }
    }
    for (int32_t i = 0; i <= e; i++) {
        s->next[i] = i + 1 <= e ? i + 1 : 0;
        s->prev[i] = i > 0 ? i - 1 : e;
    }
    /* The walk never reaches the head while an ok operation is left (its
     * completion comes first); should it, it backtracks rather than
     * mistake the sentinel for an invocation. */
    s->match[0] = -1;
    fl_free(by_ret);
    fl_free(call_entry);
    return 0;
}

static void unlink_entry(search *s, int32_t e)
{
    s->next[s->prev[e]] = s->next[e];
    s->prev[s->next[e]] = s->prev[e];
}

static void relink_entry(search *s, int32_t e)
{
    s->next[s->prev[e]] = e;
    s->prev[s->next[e]] = e;
}

static void lift(search *s, int32_t call)
{
    unlink_entry(s, call);
    if (s->match[call] > 0)
        unlink_entry(s, s->match[call]);
}

static void unlift(search *s, int32_t call)
{
    if (s->match[call] > 0)
        relink_entry(s, s->match[call]);
    relink_entry(s, call);
}

/* ---- Setup and teardown ---------------------------------------------------- */

static void *table(size_t bytes)
{
    return fl_calloc(1, bytes ? bytes : 1);
}

static int search_init(search *s, const wgl_op *ops, size_t n)
{
    size_t entries = 2 * n + 1, nw = (n + 63) / 64 + 1;
    s->ops = ops;
    s->n = n;
    s->next = table(entries * sizeof *s->next);
    s->prev = table(entries * sizeof *s->prev);
    s->entry_op = table(entries * sizeof *s->entry_op);
    s->match = table(entries * sizeof *s->match);
    s->bit = table((n + 1) * sizeof *s->bit);
    s->zobrist = table((n + 1) * sizeof *s->zobrist);
    s->done.w = table(nw * sizeof *s->done.w);
    s->stack_entry = table((n + 1) * sizeof *s->stack_entry);
    s->stack_state = table((n + 1) * sizeof *s->stack_state);
    s->window = table((n + 1) * sizeof *s->window);
    if (!s->next || !s->prev || !s->entry_op || !s->match || !s->bit ||
        !s->zobrist || !s->done.w || !s->stack_entry || !s->stack_state ||
        !s->window)
        return -1;
    /* each set in invocation order; the hashes are drawn as if the bits
     * were one set, completed operations first, as they were before the
     * split, so that the memo probes (and the search) are unchanged */
    uint32_t ndone = 0, ninfo = 0;
    for (size_t i = 0; i < n; i++)
        s->bit[i] = ops[i].ret != WGL_NEVER ? ndone++ : ninfo++;
    fl_rng rng; /* fixed seed: the same hashes every run */
    fl_rng_seed(&rng, 0x5eed);
    for (size_t i = 0; i < n; i++)
        s->zobrist[i] = fl_rng_next(&rng);
    s->done = (bits){.w = s->done.w, .nw = nw, .nbits = ndone,
                     .zobrist = s->zobrist};
    s->info_zobrist = s->zobrist + ndone;
    s->memo.with_info = ninfo > 0;
    if (hcs_init(&s->info, ninfo) != 0)
        return -1;
    return build_list(s);
}

static void search_free(search *s)
{
    fl_free(s->next);
    fl_free(s->prev);
    fl_free(s->entry_op);
    fl_free(s->match);
    fl_free(s->bit);
    fl_free(s->zobrist);
    fl_free(s->done.w);
    hcs_free(&s->info);
    fl_free(s->stack_entry);
    fl_free(s->stack_state);
    fl_free(s->window);
    fl_free(s->memo.slots);
    fl_free(s->memo.words);
}

/* Add op to the linearized set: 0, or -1 out of memory (nothing changed). */
static int place(search *s, uint32_t op)
{
    if (s->ops[op].ret != WGL_NEVER) {
        bits_set(&s->done, s->bit[op]);
        return 0;
    }
    if (hcs_flip(&s->info, s->bit[op]) != 0)
        return -1;
    s->info_hash ^= s->info_zobrist[s->bit[op]];
    return 0;
}

/* Take op, just placed, out again; this cannot fail (hcset.h). */
static void unplace(search *s, uint32_t op)
{
    if (s->ops[op].ret != WGL_NEVER) {
        bits_clear(&s->done, s->bit[op]);
        return;
    }
    (void)hcs_flip(&s->info, s->bit[op]);
    s->info_hash ^= s->info_zobrist[s->bit[op]];
}

/* Marks a stack entry pushed by force_read(). */
#define FORCED 0x80000000u

/* ---- Evidence --------------------------------------------------------------- */

/* Pop the top of the stack (the caller restores what it held). */
static void shrink_stack(search *s)
{
    s->sp--;
    if (s->agree > s->sp)
        s->agree = s->sp;
}

static int record_best(search *s, wgl_result *r, int32_t stuck_entry,
                       uint64_t state)
{
    size_t op = s->entry_op[stuck_entry];
    if (r->order != NULL && s->sp < r->depth)
        return 0;
    if (r->order != NULL && s->sp == r->depth && op == r->stuck) {
        for (size_t i = 0; i < r->nstuck_states; i++)
            if (r->stuck_states[i] == state)
                return 0;
        if (r->nstuck_states < WGL_MAX_STUCK_STATES)
            r->stuck_states[r->nstuck_states++] = state;
        return 0;
    }
    if (r->order != NULL && s->sp == r->depth)
        return 0; /* keep the first operation found stuck at this depth */
    if (r->order == NULL) {
        r->order = fl_malloc((s->n + 1) * sizeof *r->order);
        r->states = fl_malloc((s->n + 1) * sizeof *r->states);
        if (r->order == NULL || r->states == NULL)
            return -1;
    }
    r->depth = s->sp;
    /* below agree the order is already this stack's, and so are the states
     * after each operation (the model is a function), the last one too */
    for (size_t i = s->agree; i < s->sp; i++) {
        r->order[i] = s->entry_op[s->stack_entry[i] & ~FORCED];
        r->states[i] = i + 1 < s->sp ? s->stack_state[i + 1] : state;
    }
    s->agree = s->sp;
    r->stuck = op;
    r->stuck_states[0] = state;
    r->nstuck_states = 1;
    return 0;
}

/* ---- The search ---------------------------------------------------------------- */

typedef enum step_outcome { STEP_ON, STEP_VALID, STEP_INVALID, STEP_STOP } step_outcome;

/*
 * Try to linearize the operation of call entry e now: 1 done, 0 not
 * possible (or already explored), -1 this whole configuration is known to
 * fail, -2 out of memory.
 *
 * A read-only operation that the current state accepts is special: if the
 * configuration with it linearized fails, so does the current one, and the
 * search need not try the alternatives here. Take any legal continuation
 * that places the read later; moving it to the front changes no other
 * operation's state (it changes nothing) and respects real time, because
 * every operation still open returns after the read was invoked (the read
 * is in the window before the first completion). Such a step is pushed
 * FORCED, and backtracking past it backtracks its parent too.
 */
/*
 * Lookahead: take the first completion in the list that is a read with a
 * known output. Only the invocations listed before it can take effect
 * before it. If the model says none of their orders can produce the value it
 * read, this configuration fails, however long the search would take to
 * find that out by enumerating those orders.
 *
 * It runs after every step, so it gives up (saying "viable") after passing
 * a few completions that are not reads: in a history of long runs of
 * writes the walk would otherwise cross the rest of the list each time.
 */
#define LOOKAHEAD_MAX_SKIPPED 16

static bool viable(search *s, uint64_t state, int32_t *must_entry)
{
    if (s->model->viable == NULL)
        return true;
    size_t n = 0, skipped = 0;
    for (int32_t e = s->next[0]; e != 0; e = s->next[e]) {
        const lin_op *o = &s->ops[s->entry_op[e]].op;
        if (s->match[e] >= 0) {
            s->window[n++] = o;
            continue;
        }
        if (!o->known || !s->model->read_only(o)) {
            if (++skipped > LOOKAHEAD_MAX_SKIPPED)
                return true;
            continue;
        }
        *must_entry = e;
        return s->model->viable(s->ctx, state, o, s->window, n);
    }
    return true;
}

static int try_linearize(search *s, int32_t e, uint64_t *state,
                         wgl_result *r)
{
    uint32_t op = s->entry_op[e];
    const lin_op *o = &s->ops[op].op;
    uint64_t next;
    if (!s->model->step(s->ctx, *state, o, &next))
        return 0;
    if (next == LIN_NO_STATE)
        return -2;
    bool forced = s->model->read_only(o);
    if (place(s, op) != 0)
        return -2;
    int fresh = memo_insert(&s->memo, &s->done, s->info_hash,
                            hcs_name(&s->info), next);
    if (fresh <= 0) {
        unplace(s, op);
        return fresh < 0 ? -2 : forced ? -1 : 0;
    }
    lift(s, e);
    s->stack_entry[s->sp] = (uint32_t)e | (forced ? FORCED : 0);
    s->stack_state[s->sp++] = *state;
    int32_t must = 0;
    if (!viable(s, next, &must)) { /* memoized all the same: it fails */
        int rc = record_best(s, r, must, next) != 0 ? -2 : forced ? -1 : 0;
        shrink_stack(s);
        unlift(s, e);
        unplace(s, op);
        return rc;
    }
    *state = next;
    return 1;
}

/* Undo the last linearization; returns its call entry. */
static int32_t pop(search *s, uint64_t *state, size_t *ok_left, bool *forced)
{
    shrink_stack(s);
    uint32_t top = s->stack_entry[s->sp];
    int32_t call = (int32_t)(top & ~FORCED);
    uint32_t op = s->entry_op[call];
    *forced = (top & FORCED) != 0;
    *state = s->stack_state[s->sp];
    unlift(s, call);
    unplace(s, op);
    if (s->ops[op].ret != WGL_NEVER)
        (*ok_left)++;
    return call;
}

static bool out_of_budget(search *s, wgl_result *r)
{
    if (s->limits->cancel != NULL && atomic_load(s->limits->cancel)) {
        r->stop = WGL_STOP_CANCELLED;
        return true;
    }
    if (s->limits->deadline_ns > 0 && fl_clock_mono_ns() > s->limits->deadline_ns) {
        r->stop = WGL_STOP_TIME;
        return true;
    }
    return false;
}

static step_outcome out_of_memory(wgl_result *r)
{
    r->stop = WGL_STOP_MEMORY;
    return STEP_STOP;
}

/* How often the budget is looked at: a step costs up to O(n) (the
 * lookahead walks the list), so a long history is looked at every step —
 * a clock read is far cheaper than such a step — and the budget is met
 * within one step, not 4096 of them (40k never-completing ops: 0.7 s
 * late). */
static uint64_t budget_mask(size_t n)
{
    return n > 4096 ? 0 : n > 256 ? 63 : 4095;
}

static step_outcome run(search *s, uint64_t state, size_t ok_left,
                        wgl_result *r)
{
    int32_t e = s->next[0];
    uint64_t mask = budget_mask(s->n);
    for (uint64_t iter = 1;; iter++) {
        if (ok_left == 0)
            return STEP_VALID;
        if ((iter & mask) == 0 && out_of_budget(s, r))
            return STEP_STOP;
        int got = 0;
        if (s->match[e] >= 0) { /* an invocation */
            got = try_linearize(s, e, &state, r);
            if (got == -2)
                return out_of_memory(r);
            if (got == 1) {
                uint32_t top = s->stack_entry[s->sp - 1] & ~FORCED;
                ok_left -= s->ops[s->entry_op[top]].ret != WGL_NEVER;
                e = s->next[0];
                continue;
            }
            if (got == 0) {
                e = s->next[e];
                continue;
            }
        } else if (record_best(s, r, e, state) != 0) {
            /* stuck: a completion reached before its op was linearized */
            return out_of_memory(r);
        }
        bool forced;
        int32_t call;
        do {
            if (s->sp == 0)
                return STEP_INVALID;
            call = pop(s, &state, &ok_left, &forced);
        } while (forced);
        e = s->next[call];
    }
}

/* A valid search's stack is the linearization it found: the result keeps
 * it in order/states (the sequential checker's heuristic follows it). */
static int keep_linearization(search *s, wgl_result *r)
{
    fl_free(r->order);
    fl_free(r->states);
    r->order = fl_malloc((s->sp + 1) * sizeof *r->order);
    r->states = fl_malloc((s->sp + 1) * sizeof *r->states);
    r->depth = 0;
    r->stuck = SIZE_MAX;
    if (r->order == NULL || r->states == NULL)
        return -1;
    for (size_t i = 0; i < s->sp; i++) {
        r->order[i] = s->entry_op[s->stack_entry[i] & ~FORCED];
        r->states[i] = i + 1 < s->sp ? s->stack_state[i + 1] : LIN_NO_STATE;
    }
    r->depth = s->sp;
    return 0;
}

int wgl_search(const lin_model *model, lin_ctx *ctx, const wgl_op *ops,
               size_t n, uint64_t initial, const wgl_limits *limits,
               wgl_result *out, fl_error *err)
{
    (void)err; /* kept for the interface: every failure is a verdict now */
    memset(out, 0, sizeof *out);
    out->stuck = SIZE_MAX;
    search s = {.model = model, .ctx = ctx, .limits = limits};
    if (search_init(&s, ops, n) != 0) { /* past the memory limit, at once */
        search_free(&s);
        out->verdict = CHECKER_UNKNOWN;
        out->stop = WGL_STOP_MEMORY;
        return FL_OK;
    }
    size_t ok_left = 0;
    for (size_t i = 0; i < n; i++)
        ok_left += ops[i].ret != WGL_NEVER;
    out->ok_ops = ok_left;
    step_outcome how = run(&s, initial, ok_left, out);
    if (how == STEP_VALID && keep_linearization(&s, out) != 0)
        how = out_of_memory(out);
    out->explored = s.memo.count;
    out->verdict = how == STEP_VALID     ? CHECKER_VALID
                   : how == STEP_INVALID ? CHECKER_INVALID
                                         : CHECKER_UNKNOWN;
    search_free(&s);
    return FL_OK;
}

void wgl_result_free(wgl_result *r)
{
    fl_free(r->order);
    fl_free(r->states);
    r->order = NULL;
    r->states = NULL;
}
