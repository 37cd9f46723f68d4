/*
 * sc_graph.c — the linear-time core described in sc_graph.h.
 *
 * Layout: ops are nodes 0..n-1 and cluster ends nodes n..n+nclusters-1;
 * edges are gathered as (from, to) pairs, then laid out by source (CSR)
 * for Kahn's topological sort, and by target for walking a cycle back.
 */
#include "checkers/sc_graph.h"
#include "base/alloc.h"
#include "base/clock.h"
#include "base/rng.h"

#include <stdlib.h>
#include <string.h>

#define NONE UINT32_MAX
/* Cluster values that are no value of the model: an op's own cluster (an
 * append's, or a write of a value that is not sure), what no order makes,
 * what may come about twice, a slot. */
#define APPEND_TAG (1ull << 62)
#define UNMADE (1ull << 61)
#define UNSURE (1ull << 60)    /* a state that may come about twice */
#define SLOT_TAG (1ull << 59)  /* a slot cluster, by its number */

enum { K_NONE, K_READ, K_WRITE, K_CAS };

typedef struct cluster {
    uint32_t obj;
    uint64_t value;
    uint32_t writer;      /* op, NONE for the initial value */
    uint32_t cas_reader;  /* the needed cas that reads it, NONE */
    uint32_t glued;       /* the cluster that cas writes, NONE */
    bool has_prev;        /* glued after another cluster */
    /* a slot (strings repeated on a key): a string made by one of a group
     * of alike appends, which one not known (writer NONE), onto the
     * string of cluster `after`; NONE for the others */
    uint32_t after, group;
    bool unsure;          /* a value written twice: its reads say nothing */
} cluster;

typedef struct edges {
    uint32_t *from, *to;
    uint32_t *jx, *jy;    /* a co edge's pair of one chain, else NONE */
    size_t n, cap;
} edges;

typedef struct graph {
    const sc_problem *p;
    size_t n;             /* ops */
    uint8_t *kind;        /* per op */
    uint32_t *obs, *own;  /* per op: the cluster it observes / writes */
    bool *needed;
    bool unwritten_obs;   /* scratch of classify */
    cluster *cl;
    size_t ncl, clcap;
    uint32_t *table;      /* (obj, value) -> cluster + 1 */
    size_t tsize;
    edges e;
    size_t base_edges;    /* the forced ones, before the guess */
    bool by_rank;         /* guess the writes in rank order, not sorted */
    /* CSR by source, and the sort */
    uint32_t *off, *adj, *indeg, *topo, *rank, *order_scratch;
    size_t ntopo;
    bool oom;
    /* string models: two required gets that show one append after two
     * different strings (no order has both), and the ops behind them */
    uint32_t clash[2];
    bool *clash_ops;
    bool *dup;            /* per op: another op of its role (put, append)
                             on its key has the same string */
    uint32_t *grp;        /* per op: the first of its alike ops (dup) */
    size_t dups;          /* ops with a string another put/append has */
    size_t ncl_cap;
    uint32_t *slot_tab;   /* (after, group) -> slot cluster + 1 */
    /* strings repeated on some key: only forced edges, from what is sure
     * (sc_graph.h); a cycle decides, else the search */
    bool partial;
} graph;

/* ---- Clusters by (object, value) ------------------------------------------ */

static size_t slot_of(const graph *g, uint32_t obj, uint64_t value)
{
    return fl_rng_mix(value ^ ((uint64_t)obj << 40 | obj)) & (g->tsize - 1);
}

static uint32_t find_cluster(const graph *g, uint32_t obj, uint64_t value)
{
    for (size_t j = slot_of(g, obj, value); g->table[j] != 0;
         j = (j + 1) & (g->tsize - 1)) {
        const cluster *c = &g->cl[g->table[j] - 1];
        if (c->obj == obj && c->value == value)
            return g->table[j] - 1;
    }
    return NONE;
}

/* A new cluster; NONE when (obj, value) has one already. */
static uint32_t add_cluster(graph *g, uint32_t obj, uint64_t value,
                            uint32_t writer)
{
    size_t j = slot_of(g, obj, value);
    for (; g->table[j] != 0; j = (j + 1) & (g->tsize - 1)) {
        const cluster *c = &g->cl[g->table[j] - 1];
        if (c->obj == obj && c->value == value)
            return NONE;
    }
    if (g->ncl == g->ncl_cap)
        return NONE;
    g->cl[g->ncl] = (cluster){obj, value, writer, NONE, NONE, false, NONE, NONE, false};
    g->table[j] = (uint32_t)++g->ncl;
    return (uint32_t)(g->ncl - 1);
}

/* ---- Classifying the ops --------------------------------------------------- */

typedef struct seen1 {
    uint64_t v;
    int count;
} seen1;

static void see1(void *arg, uint64_t v)
{
    seen1 *s = arg;
    s->v = v;
    s->count++;
}

/* Values written more than once on a key (or the initial value written):
 * marked in g->dup for each of their writes, counted in g->dups. */
static const char *repeated_writes(graph *g)
{
    const sc_problem *p = g->p;
    const lin_model *m = p->model;
    for (size_t o = 0; o < p->nobjs; o++)
        if (add_cluster(g, (uint32_t)o, p->initial[o], NONE) == NONE)
            return "an object listed twice";
    for (uint32_t i = 0; i < g->n; i++) {
        if (m->read_only(&p->ops[i].op))
            continue;
        uint64_t w = m->written(&p->ops[i].op);
        if (w == LIN_NO_STATE)
            return "an op changes the state without a written value";
        uint32_t c = find_cluster(g, p->ops[i].obj, w);
        if (c == NONE) {
            g->own[i] = add_cluster(g, p->ops[i].obj, w, i);
            continue;
        }
        g->dup[i] = true;
        g->dups++;
        if (g->cl[c].writer != NONE && !g->dup[g->cl[c].writer]) {
            g->dup[g->cl[c].writer] = true;
            g->dups++;
        }
        g->cl[c].unsure = true;
    }
    return NULL;
}

/* Each op's kind and the value it writes (its cluster); NULL or a reason
 * to decline. A value written more than once (or the initial value
 * written) is not sure: its reads constrain only program order, and each
 * of its writes stands as a one-op cluster of its own (sc_graph.h). */
static const char *classify(graph *g, uint64_t *observed)
{
    const sc_problem *p = g->p;
    const lin_model *m = p->model;
    g->dup = fl_calloc(g->n + 1, sizeof *g->dup);
    if (g->dup == NULL)
        return "memory";
    for (size_t i = 0; i < g->n; i++)
        g->own[i] = NONE;
    const char *why = repeated_writes(g);
    if (why != NULL)
        return why;
    g->partial = g->dups > 0;
    for (size_t i = 0; i < g->n; i++) {
        const sc_op *op = &p->ops[i];
        seen1 s = {0, 0};
        m->observed(&op->op, see1, &s);
        observed[i] = s.v;
        g->obs[i] = NONE;
        if (s.count > 1)
            return "an op observes more than one value";
        uint32_t c = s.count ? find_cluster(g, op->obj, s.v) : NONE;
        bool sure = c == NONE || !g->cl[c].unsure;
        if (m->read_only(&op->op)) {
            g->kind[i] = op->op.known && s.count == 1 && sure ? K_READ : K_NONE;
            continue;
        }
        g->kind[i] = s.count && sure ? K_CAS : K_WRITE;
        if (g->dup[i]) /* its own interval, the value not sure */
            g->own[i] = add_cluster(g, op->obj, APPEND_TAG | i, (uint32_t)i);
        if (g->own[i] == NONE)
            return "memory";
    }
    return NULL;
}

/* ---- Strings built by appends (kv-append) ----------------------------------------- */

/* Cluster values of the string path: a put's is its string's blob id, the
 * initial string's too; an append's cannot be (the string it makes depends
 * on what it follows), so it is tagged with the op. A get no order can
 * produce observes UNMADE, which no cluster has. */
#define MAX_STRING 65536

typedef struct piece_table {
    uint32_t *op;         /* slot -> op + 1; 0 empty */
    uint64_t *hash;
    size_t size;
} piece_table;

static uint64_t fnv_step(uint64_t h, unsigned char c)
{
    return (h ^ c) * 0x100000001b3ull;
}

#define FNV_START 0xcbf29ce484222325ull

static uint64_t piece_key(uint32_t obj, uint64_t h)
{
    return fl_rng_mix(h ^ ((uint64_t)obj * 0x9e3779b97f4a7c15u));
}

static const unsigned char *piece_bytes(const graph *g, uint32_t i, size_t *len)
{
    return lin_ctx_blob_bytes(g->p->ctx, g->p->ops[i].op.arg, len);
}

/* Adds op i's string; false when its key has the same string from another
 * put or append already. Of the same role, both are marked in dup and
 * grouped (grp: the first of them, which the table keeps): which of them
 * a get's string holds cannot be told. */
static bool piece_add(graph *g, piece_table *t, uint32_t i)
{
    size_t len;
    const unsigned char *b = piece_bytes(g, i, &len);
    const lin_model *m = g->p->model;
    int role = m->string_role(&g->p->ops[i].op);
    uint64_t h = FNV_START;
    for (size_t k = 0; k < len; k++)
        h = fnv_step(h, b[k]);
    bool unique = true;
    size_t j = piece_key(g->p->ops[i].obj, h) & (t->size - 1);
    for (; t->op[j] != 0; j = (j + 1) & (t->size - 1)) {
        uint32_t o = t->op[j] - 1;
        size_t n;
        const unsigned char *c = piece_bytes(g, o, &n);
        if (t->hash[j] != h || g->p->ops[o].obj != g->p->ops[i].obj ||
            n != len || memcmp(b, c, len) != 0)
            continue;
        unique = false;
        if (m->string_role(&g->p->ops[o].op) == role) {
            g->dup[o] = g->dup[i] = true;
            g->grp[i] = g->grp[o] = o;
            return false;
        }
    }
    t->op[j] = i + 1;
    t->hash[j] = h;
    return unique;
}

/* The put or append on obj whose string is s[0..len) with hash h (role
 * want), or NONE. */
static uint32_t piece_find(const graph *g, const piece_table *t, uint32_t obj,
                           uint64_t h, const unsigned char *s, size_t len,
                           int want)
{
    for (size_t j = piece_key(obj, h) & (t->size - 1); t->op[j] != 0;
         j = (j + 1) & (t->size - 1)) {
        uint32_t i = t->op[j] - 1;
        size_t n;
        const unsigned char *b;
        if (t->hash[j] != h || g->p->ops[i].obj != obj ||
            g->p->model->string_role(&g->p->ops[i].op) != want)
            continue;
        b = piece_bytes(g, i, &n);
        if (n == len && memcmp(b, s, len) == 0)
            return i;
    }
    return NONE;
}

/* The slot of alike appends (group: the first of them) onto the string
 * of value `after` on obj: the cluster's value, made on first use; UNSURE
 * when the room for clusters ran out (fewer edges: still sound). */
static uint64_t slot_get(graph *g, uint32_t obj, uint64_t after, uint32_t group)
{
    uint32_t a = find_cluster(g, obj, after);
    if (a == NONE || g->slot_tab == NULL)
        return UNSURE;
    size_t j = fl_rng_mix((uint64_t)a << 32 | group) & (g->tsize - 1);
    for (; g->slot_tab[j] != 0; j = (j + 1) & (g->tsize - 1)) {
        const cluster *c = &g->cl[g->slot_tab[j] - 1];
        if (c->after == a && c->group == group)
            return c->value;
    }
    uint64_t v = SLOT_TAG | g->ncl;
    uint32_t c = add_cluster(g, obj, v, NONE);
    if (c == NONE)
        return UNSURE;
    g->cl[c].after = a;
    g->cl[c].group = group;
    g->slot_tab[j] = c + 1;
    return v;
}

/* A get's string as a start (the initial string or a put's) and appends,
 * by dynamic programming over its positions: the one way, else declined
 * (two ways) or UNMADE (none). way[e]: ways to reach e (capped at 2);
 * via[e]: the piece ending there (NONE: the initial string); from[e]:
 * where it began. Records each append's predecessor. */
typedef struct parse {
    uint8_t *ways;
    uint32_t *via, *from;
    uint64_t *prefix;     /* FNV hash of the string's first e bytes */
    size_t longest_piece; /* no append is longer: O(len x it) a parse */
    uint32_t *piece;      /* the one way, last piece first */
    size_t *piece_at;     /* where each began */
} parse;

static const char *parse_get(graph *g, const piece_table *t, parse *ps,
                             uint32_t get, uint64_t init_blob,
                             uint64_t *observed, uint64_t *pred,
                             uint64_t *pred_hash, uint32_t *pred_get, bool *mark)
{
    const sc_problem *p = g->p;
    uint32_t obj = p->ops[get].obj;
    size_t len, ilen;
    const unsigned char *s = lin_ctx_blob_bytes(p->ctx, p->ops[get].op.out, &len);
    const unsigned char *init = lin_ctx_blob_bytes(p->ctx, init_blob, &ilen);
    if (len > MAX_STRING)
        return "a string too long to take apart";
    memset(ps->ways, 0, len + 1);
    ps->prefix[0] = FNV_START;
    for (size_t e = 1; e <= len; e++)
        ps->prefix[e] = fnv_step(ps->prefix[e - 1], s[e - 1]);
    if (ilen <= len && memcmp(s, init, ilen) == 0) {
        ps->ways[ilen] = 1;
        ps->via[ilen] = NONE;
    }
    uint64_t h = FNV_START;
    size_t puts_end = len < ps->longest_piece ? len : ps->longest_piece;
    for (size_t e = 1; e <= puts_end; e++) { /* puts: prefixes */
        h = fnv_step(h, s[e - 1]);
        uint32_t put = piece_find(g, t, obj, h, s, e, LIN_SETS);
        if (put != NONE && ps->ways[e] < 2) {
            ps->ways[e]++;
            ps->via[e] = put;
            ps->from[e] = 0;
        }
    }
    for (size_t at = 0; at < len; at++) {
        if (ps->ways[at] == 0)
            continue;
        h = FNV_START;
        size_t stop = len - at > ps->longest_piece ? at + ps->longest_piece : len;
        for (size_t e = at + 1; e <= stop; e++) {
            h = fnv_step(h, s[e - 1]);
            uint32_t a = piece_find(g, t, obj, h, s + at, e - at, LIN_APPENDS);
            if (a == NONE)
                continue;
            ps->ways[e] = ps->ways[e] + ps->ways[at] > 2 ? 2 : ps->ways[e] + ps->ways[at];
            ps->via[e] = a;
            ps->from[e] = (uint32_t)at;
        }
    }
    if (ps->ways[len] == 0) { /* no order makes it, whatever repeats */
        observed[get] = UNMADE;
        return NULL;
    }
    if (ps->ways[len] > 1) {
        if (g->dups == 0)
            return "a string that comes apart two ways";
        observed[get] = UNSURE; /* which state it shows: not sure */
        return NULL;
    }
    /* the pieces, first to last: base, then appends */
    size_t np = 0;
    for (size_t e = len;; e = ps->from[e]) {
        uint32_t a = ps->via[e];
        ps->piece[np] = a;
        ps->piece_at[np++] = a == NONE || p->model->string_role(&p->ops[a].op) ==
                                              LIN_SETS ? 0 : ps->from[e];
        if (a == NONE || p->model->string_role(&p->ops[a].op) != LIN_APPENDS)
            break;
    }
    if (mark != NULL) { /* only the pieces (all alike ones), for a clash */
        for (size_t k = 0; k < np; k++)
            for (uint32_t j = 0; ps->piece[k] != NONE && j < g->n; j++)
                if (j == ps->piece[k] ||
                    (g->dup[j] && g->grp[j] == g->grp[ps->piece[k]]))
                    mark[j] = true;
        return NULL;
    }
    uint32_t b = ps->piece[np - 1];
    uint64_t cur = b == NONE ? init_blob : g->dup[b] ? UNSURE : p->ops[b].op.arg;
    for (size_t k = np - 1; k-- > 0;) {
        uint32_t a = ps->piece[k];
        size_t at = ps->piece_at[k];
        if (g->dup[a]) { /* one of alike appends: a slot, when sure */
            cur = cur == UNSURE ? UNSURE : slot_get(g, obj, cur, g->grp[a]);
            continue;
        }
        /* the string before a (hashes that differ are different strings:
         * a clash for sure; one state before an op) */
        if (pred[a] != UNMADE &&
            (pred_hash[a] != ps->prefix[at] || (g->dups == 0 && pred[a] != cur))) {
            if (!p->ops[get].required || !p->ops[pred_get[a]].required)
                return "an append seen after two different strings";
            g->clash[0] = pred_get[a];
            g->clash[1] = get;
            return NULL;
        }
        pred[a] = cur;
        pred_hash[a] = ps->prefix[at];
        pred_get[a] = get;
        cur = APPEND_TAG | a;
    }
    observed[get] = cur;
    return NULL;
}

static const char *strings_setup(graph *g, piece_table *t, parse *ps,
                                 uint64_t *pred, uint64_t *init_of)
{
    const sc_problem *p = g->p;
    const lin_model *m = p->model;
    size_t longest = 0;
    for (size_t o = 0; o < p->nobjs; o++)
        init_of[o] = UNMADE;
    for (uint32_t i = 0; i < g->n; i++) {
        const sc_op *op = &p->ops[i];
        int role = m->string_role(&op->op);
        if (init_of[op->obj] == UNMADE)
            init_of[op->obj] = m->string_of(p->ctx, p->initial[op->obj], &op->op);
        pred[i] = UNMADE;
        if (role == LIN_SETS || role == LIN_APPENDS) {
            g->dups += !piece_add(g, t, i);
            size_t plen;
            piece_bytes(g, i, &plen);
            ps->longest_piece = plen > ps->longest_piece ? plen : ps->longest_piece;
        }
        size_t len = 0;
        if (role == LIN_GETS && op->op.known)
            lin_ctx_blob_bytes(p->ctx, op->op.out, &len);
        longest = len > longest ? len : longest;
    }
    if (longest > MAX_STRING)
        return "a string too long to take apart";
    ps->ways = fl_malloc(longest + 1);
    ps->via = fl_malloc((longest + 1) * sizeof *ps->via);
    ps->from = fl_malloc((longest + 1) * sizeof *ps->from);
    ps->prefix = fl_malloc((longest + 1) * sizeof *ps->prefix);
    ps->piece = fl_malloc((longest + 2) * sizeof *ps->piece);
    ps->piece_at = fl_malloc((longest + 2) * sizeof *ps->piece_at);
    return ps->ways && ps->via && ps->from && ps->prefix && ps->piece &&
                   ps->piece_at ? NULL : "memory";
}

/* classify for string models: puts write their string, appends write a
 * tagged cluster (and, once a get shows what they followed, observe it:
 * a cas from that string), gets observe what their string takes apart
 * to. */
static const char *classify_strings(graph *g, uint64_t *observed)
{
    const sc_problem *p = g->p;
    const lin_model *m = p->model;
    piece_table t = {0};
    parse ps = {0};
    t.size = 16;
    while (t.size < 2 * (g->n + 1))
        t.size *= 2;
    t.op = fl_calloc(t.size, sizeof *t.op);
    t.hash = fl_malloc(t.size * sizeof *t.hash);
    uint64_t *pred = fl_malloc((g->n + 1) * sizeof *pred);
    g->dup = fl_calloc(g->n + 1, sizeof *g->dup);
    g->grp = fl_malloc((g->n + 1) * sizeof *g->grp);
    g->slot_tab = fl_calloc(g->tsize, sizeof *g->slot_tab);
    for (uint32_t i = 0; g->grp != NULL && i < g->n; i++)
        g->grp[i] = NONE;
    uint64_t *init_of = fl_malloc((p->nobjs + 1) * sizeof *init_of);
    const char *why = t.op && t.hash && pred && init_of && g->dup && g->grp &&
                      g->slot_tab
                          ? strings_setup(g, &t, &ps, pred, init_of) : "memory";
    for (size_t o = 0; why == NULL && o < p->nobjs; o++)
        if (init_of[o] != UNMADE &&
            add_cluster(g, (uint32_t)o, init_of[o], NONE) == NONE)
            why = "an object listed twice";
    for (uint32_t i = 0; why == NULL && i < g->n; i++) {
        const sc_op *op = &p->ops[i];
        int role = m->string_role(&op->op);
        g->obs[i] = g->own[i] = NONE;
        g->kind[i] = K_NONE;
        if (role == LIN_SETS || role == LIN_APPENDS) {
            g->kind[i] = K_WRITE;
            /* alike puts: each its own interval, which one a get shows
             * is not sure */
            g->own[i] = add_cluster(g, op->obj,
                                    role == LIN_SETS && !g->dup[i]
                                        ? op->op.arg : APPEND_TAG | i, i);
            if (g->own[i] == NONE)
                why = "a string put twice on a key, or the initial one";
        } else if (role == LIN_GETS && op->op.known) {
            g->kind[i] = K_READ;
        } else if (role != LIN_GETS) {
            why = "an op that is not a get, put or append";
        }
    }
    uint32_t *pred_get = why == NULL ? fl_malloc((g->n + 1) * sizeof *pred_get) : NULL;
    uint64_t *pred_hash = why == NULL ? fl_malloc((g->n + 1) * sizeof *pred_hash) : NULL;
    if (why == NULL && (pred_get == NULL || pred_hash == NULL))
        why = "memory";
    for (uint32_t i = 0; why == NULL && g->clash[0] == NONE && i < g->n; i++)
        if (g->kind[i] == K_READ)
            why = parse_get(g, &t, &ps, i, init_of[p->ops[i].obj], observed,
                            pred, pred_hash, pred_get, NULL);
    if (why == NULL && g->clash[0] != NONE) {
        g->clash_ops = fl_calloc(g->n + 1, sizeof *g->clash_ops);
        for (int k = 0; k < 2 && g->clash_ops != NULL; k++) {
            uint32_t get = g->clash[k];
            g->clash_ops[get] = true;
            parse_get(g, &t, &ps, get, init_of[p->ops[get].obj], observed,
                      pred, pred_hash, pred_get, g->clash_ops);
        }
        why = g->clash_ops ? NULL : "memory";
    }
    fl_free(pred_get);
    fl_free(pred_hash);
    g->partial = g->dups > 0;
    for (uint32_t i = 0; why == NULL && i < g->n; i++)
        if (g->kind[i] == K_READ && observed[i] == UNSURE)
            g->kind[i] = K_NONE; /* says nothing sure: program order only */
    for (uint32_t i = 0; why == NULL && i < g->n; i++)
        if (m->string_role(&p->ops[i].op) == LIN_APPENDS && pred[i] != UNMADE &&
            pred[i] != UNSURE) {
            g->kind[i] = K_CAS;
            observed[i] = pred[i];
        }
    fl_free(t.op);
    fl_free(t.hash);
    fl_free(ps.ways);
    fl_free(ps.via);
    fl_free(ps.from);
    fl_free(ps.prefix);
    fl_free(ps.piece);
    fl_free(ps.piece_at);
    fl_free(pred);
    fl_free(init_of);
    return why;
}

/* Each observer's cluster (NONE: nothing writes it), then which ops are
 * needed: the required ones and, to a fixpoint, the writers of what a
 * needed op observes. */
static void link_and_close(graph *g, const uint64_t *observed, uint32_t *stack)
{
    const sc_problem *p = g->p;
    size_t top = 0;
    for (size_t i = 0; i < g->n; i++) {
        if (g->kind[i] == K_READ || g->kind[i] == K_CAS)
            g->obs[i] = find_cluster(g, p->ops[i].obj, observed[i]);
        g->needed[i] = p->ops[i].required && g->kind[i] != K_NONE;
        if (g->needed[i])
            stack[top++] = (uint32_t)i;
    }
    /* a required op that observes nothing still has to be placed */
    for (size_t i = 0; i < g->n; i++)
        if (p->ops[i].required)
            g->needed[i] = true;
    while (top > 0) {
        uint32_t i = stack[--top];
        uint32_t c = g->obs[i];
        if (c == NONE || (g->kind[i] != K_READ && g->kind[i] != K_CAS))
            continue;
        uint32_t w = g->cl[c].writer;
        if (w != NONE && !g->needed[w]) {
            g->needed[w] = true;
            stack[top++] = w;
        }
    }
}

/* ---- Edges ------------------------------------------------------------------ */

static bool grow(uint32_t **a, size_t cap)
{
    uint32_t *p = fl_realloc(*a, cap * sizeof *p);
    if (p != NULL)
        *a = p;
    return p != NULL;
}

/* An edge; (jx, jy) the two ops of one chain that force a co edge. */
static void edge_why(graph *g, uint32_t from, uint32_t to, uint32_t jx,
                     uint32_t jy)
{
    if (g->e.n == g->e.cap) {
        size_t cap = g->e.cap ? 2 * g->e.cap : 1024;
        if (!grow(&g->e.from, cap) || !grow(&g->e.to, cap) ||
            !grow(&g->e.jx, cap) || !grow(&g->e.jy, cap)) {
            g->oom = true;
            return;
        }
        g->e.cap = cap;
    }
    g->e.from[g->e.n] = from;
    g->e.jx[g->e.n] = jx;
    g->e.jy[g->e.n] = jy;
    g->e.to[g->e.n++] = to;
}

static void edge(graph *g, uint32_t from, uint32_t to)
{
    edge_why(g, from, to, NONE, NONE);
}

static uint32_t end_of(const graph *g, uint32_t c)
{
    return (uint32_t)(g->n + c);
}

/* rf, end and init edges of needed op i. */
static void op_edges(graph *g, uint32_t i)
{
    uint32_t a = g->obs[i], b = g->own[i];
    if (a != NONE && g->cl[a].writer != NONE)
        edge(g, g->cl[a].writer, i);
    else if (a != NONE && g->cl[a].after != NONE) /* a slot: after the string
                                                     it grew from */
        edge(g, end_of(g, g->cl[a].after), i);
    if (g->kind[i] == K_READ)
        edge(g, i, end_of(g, a));
    if (g->kind[i] == K_CAS)
        edge(g, end_of(g, a), i);
    if (b != NONE) {
        edge(g, i, end_of(g, b));
        edge(g, end_of(g, (uint32_t)g->p->ops[i].obj), i); /* init */
    }
}

/* The cluster op i stands in as the earlier (x) or later (y) of a pair. */
static uint32_t as_x(const graph *g, uint32_t i)
{
    return g->own[i] != NONE ? g->own[i] : g->obs[i];
}

static uint32_t as_y(const graph *g, uint32_t i)
{
    return g->obs[i] != NONE ? g->obs[i] : g->own[i];
}

/* po and co edges, chain by chain. last[obj] is the chain's last op on
 * obj, valid where stamp[obj] is the chain + 1. */
static void chain_edges(graph *g, uint32_t *last, size_t *stamp)
{
    const sc_problem *p = g->p;
    for (size_t q = 0; q < p->nprocs; q++) {
        uint32_t prev = NONE;
        for (size_t i = p->first[q]; i < p->first[q] + p->len[q]; i++) {
            if (!g->needed[i])
                continue;
            if (prev != NONE)
                edge(g, prev, (uint32_t)i);
            prev = (uint32_t)i;
            uint32_t o = p->ops[i].obj, y = as_y(g, (uint32_t)i);
            if (y == NONE)
                continue;
            if (stamp[o] == q + 1) {
                uint32_t x = as_x(g, last[o]);
                if (x != y && g->cl[y].writer != NONE)
                    edge_why(g, end_of(g, x), g->cl[y].writer, last[o],
                             (uint32_t)i);
                else if (x != y && g->cl[y].after != NONE) /* a slot: its
                                     writer unknown, so before i itself */
                    edge_why(g, end_of(g, x), (uint32_t)i, last[o], (uint32_t)i);
            }
            stamp[o] = q + 1;
            last[o] = (uint32_t)i;
        }
    }
}

/* ---- Sorting ------------------------------------------------------------------ */

/* Kahn's sort takes the ready node of smallest priority: where an op
 * began in the history (sc_op.at), so the writes' order
 * follows the history where nothing forces otherwise; a cluster's end at
 * once, to free the writes waiting on it. */
typedef struct heap {
    uint32_t *a;
    size_t n;
    const graph *g;
} heap;

static int64_t prio(const graph *g, uint32_t u)
{
    return u >= g->n ? INT64_MIN : g->p->ops[u].at;
}

static bool before(const heap *h, uint32_t x, uint32_t y)
{
    int64_t px = prio(h->g, x), py = prio(h->g, y);
    return px != py ? px < py : x < y;
}

static void heap_push(heap *h, uint32_t u)
{
    size_t i = h->n++;
    while (i > 0 && before(h, u, h->a[(i - 1) / 2])) {
        h->a[i] = h->a[(i - 1) / 2];
        i = (i - 1) / 2;
    }
    h->a[i] = u;
}

static uint32_t heap_pop(heap *h)
{
    uint32_t top = h->a[0], last = h->a[--h->n];
    size_t i = 0;
    for (;;) {
        size_t c = 2 * i + 1;
        if (c >= h->n)
            break;
        if (c + 1 < h->n && before(h, h->a[c + 1], h->a[c]))
            c++;
        if (!before(h, h->a[c], last))
            break;
        h->a[i] = h->a[c];
        i = c;
    }
    if (h->n > 0)
        h->a[i] = last;
    return top;
}

/* Kahn's sort of the first ne edges: g->topo[0..ntopo) and each node's
 * rank there. 0, or -1 out of memory. */
static int sort_nodes(graph *g, size_t ne)
{
    size_t v = g->n + g->ncl;
    memset(g->off, 0, (v + 1) * sizeof *g->off);
    memset(g->indeg, 0, v * sizeof *g->indeg);
    for (size_t k = 0; k < ne; k++) {
        g->off[g->e.from[k] + 1]++;
        g->indeg[g->e.to[k]]++;
    }
    for (size_t u = 0; u < v; u++)
        g->off[u + 1] += g->off[u];
    uint32_t *fill = g->rank; /* scratch: where each source's next goes */
    memcpy(fill, g->off, v * sizeof *fill);
    for (size_t k = 0; k < ne; k++)
        g->adj[fill[g->e.from[k]]++] = g->e.to[k];
    /* the ready nodes, smallest priority first: topo doubles as the heap's
     * storage past ntopo (each node enters it once) */
    heap hp = {g->topo + 0, 0, g};
    g->ntopo = 0;
    for (size_t u = 0; u < v; u++)
        if (g->indeg[u] == 0)
            heap_push(&hp, (uint32_t)u);
    while (hp.n > 0) {
        uint32_t u = heap_pop(&hp);
        g->order_scratch[g->ntopo++] = u;
        for (uint32_t k = g->off[u]; k < g->off[u + 1]; k++)
            if (--g->indeg[g->adj[k]] == 0)
                heap_push(&hp, g->adj[k]);
    }
    memcpy(g->topo, g->order_scratch, g->ntopo * sizeof *g->topo);
    for (size_t u = 0; u < v; u++)
        g->rank[u] = NONE;
    for (size_t k = 0; k < g->ntopo; k++)
        g->rank[g->topo[k]] = (uint32_t)k;
    return 0;
}

/* The ops of a cycle given as nodes in forward order, into out, with why
 * each precedes the next. */
static int emit_cycle(const graph *g, const uint32_t *c, size_t nodes,
                      sc_graph_result *out)
{
    out->cycle = fl_malloc((nodes + 1) * sizeof *out->cycle);
    out->why = fl_malloc((nodes + 1) * sizeof *out->why);
    if (!out->cycle || !out->why)
        return -1;
    for (size_t k = 0; k < nodes; k++) {
        uint32_t x = c[k];
        if (x >= g->n) { /* an end: the op before it observes, and must
                          * precede the write after it */
            if (out->ncycle > 0)
                out->why[out->ncycle - 1] = SC_GRAPH_OVERWRITE;
            continue;
        }
        uint32_t next = c[(k + 1) % nodes];
        bool rf = next < g->n && g->obs[next] != NONE &&
                  g->cl[g->obs[next]].writer == x;
        out->why[out->ncycle] = next >= g->n ? SC_GRAPH_OVERWRITE
                                : rf         ? SC_GRAPH_RF
                                             : SC_GRAPH_PO;
        out->cycle[out->ncycle++] = x;
    }
    return 0;
}

/* Mark op i for the closure below. */
static void keep_op(uint32_t i, bool *in, uint32_t *stack, size_t *top)
{
    if (i == NONE || in[i])
        return;
    in[i] = true;
    stack[(*top)++] = i;
}

/* The ops that keep the cycle's edges forced, for the shrinker to start
 * from (a witness: every value a kept op observes has its write kept):
 * the cycle's ops, the chain pair behind each co edge on it, and, to a
 * fixpoint, the writer of what a kept op observes and one needed
 * observer of what a kept optional op writes (so it stays needed). */
static int support(const graph *g, const uint32_t *c, size_t nodes, size_t ne,
                   sc_graph_result *out)
{
    bool *in = fl_calloc(g->n + 1, sizeof *in);
    uint32_t *stack = fl_malloc((g->n + 1) * sizeof *stack);
    uint32_t *observer = fl_malloc((g->ncl + 1) * sizeof *observer);
    int rc = in && stack && observer ? 0 : -1;
    size_t top = 0;
    for (size_t k = 0; rc == 0 && k < g->ncl; k++)
        observer[k] = NONE;
    for (uint32_t i = 0; rc == 0 && i < g->n; i++)
        if (g->needed[i] && g->obs[i] != NONE && observer[g->obs[i]] == NONE)
            observer[g->obs[i]] = i;
    for (size_t k = 0; rc == 0 && k < nodes; k++) {
        uint32_t x = c[k], y = c[(k + 1) % nodes];
        keep_op(x < g->n ? x : NONE, in, stack, &top);
        if (x < g->n)
            continue;
        for (size_t e = 0; e < ne; e++) /* the co edge end(x) -> y's pair */
            if (g->e.from[e] == x && g->e.to[e] == y && g->e.jx[e] != NONE) {
                keep_op(g->e.jx[e], in, stack, &top);
                keep_op(g->e.jy[e], in, stack, &top);
                break;
            }
    }
    while (rc == 0 && top > 0) {
        uint32_t i = stack[--top];
        /* a slot: every alike append (one of them made it), and what it
         * grew from, back to a string with a known writer */
        uint32_t k = g->obs[i];
        for (; k != NONE && g->cl[k].after != NONE; k = g->cl[k].after)
            for (uint32_t j = 0; j < g->n; j++)
                if (g->dup[j] && g->grp[j] == g->cl[k].group)
                    keep_op(j, in, stack, &top);
        if (k != NONE)
            keep_op(g->cl[k].writer, in, stack, &top);
        if (g->own[i] != NONE && !g->p->ops[i].required)
            keep_op(observer[g->own[i]], in, stack, &top);
    }
    size_t n = 0;
    for (uint32_t i = 0; rc == 0 && i < g->n; i++)
        n += in[i];
    out->support = rc == 0 ? fl_malloc((n + 1) * sizeof *out->support) : NULL;
    if (out->support == NULL)
        rc = -1;
    for (uint32_t i = 0; rc == 0 && i < g->n; i++)
        if (in[i])
            out->support[out->nsupport++] = i;
    fl_free(in);
    fl_free(stack);
    fl_free(observer);
    return rc;
}

/* The shortest cycle through s among the nodes the sort left (breadth
 * first), into c in forward order from s; its length, or 0. */
static size_t cycle_through(const graph *g, uint32_t s, uint32_t *parent,
                            uint32_t *stamp, uint32_t mark, uint32_t *queue,
                            uint32_t *c, size_t limit)
{
    size_t head = 0, tail = 0;
    queue[tail++] = s;
    stamp[s] = mark;
    while (head < tail) {
        uint32_t x = queue[head++];
        for (uint32_t k = g->off[x]; k < g->off[x + 1]; k++) {
            uint32_t y = g->adj[k];
            if (g->rank[y] != NONE)
                continue;
            if (y == s) { /* back at the start: s ... x */
                size_t len = 0;
                for (uint32_t z = x; z != s; z = parent[z])
                    len++;
                if (len + 1 > limit)
                    return 0;
                c[0] = s;
                size_t i = len;
                for (uint32_t z = x; z != s; z = parent[z])
                    c[i--] = z;
                return len + 1;
            }
            if (stamp[y] != mark) {
                stamp[y] = mark;
                parent[y] = x;
                queue[tail++] = y;
            }
        }
    }
    return 0;
}

#define CYCLE_TRIES 16 /* starts tried for a shorter cycle */

/* A cycle among the nodes the sort left (each has a predecessor left):
 * walk predecessors until one repeats; then, from a few of its nodes, the
 * shortest cycle through each, the shortest kept — the fewer ops, the
 * clearer the explanation. */
static int find_cycle(graph *g, size_t ne, sc_graph_result *out)
{
    size_t v = g->n + g->ncl;
    uint32_t *pred = fl_malloc((v + 1) * sizeof *pred);
    uint32_t *seen_at = fl_malloc((v + 1) * sizeof *seen_at);
    uint32_t *path = fl_malloc((v + 1) * sizeof *path);
    uint32_t *best = fl_malloc((v + 1) * sizeof *best);
    uint32_t *c = fl_malloc((v + 1) * sizeof *c);
    int rc = -1;
    if (!pred || !seen_at || !path || !best || !c)
        goto done;
    for (size_t u = 0; u < v; u++)
        pred[u] = seen_at[u] = NONE;
    for (size_t k = 0; k < ne; k++) /* any predecessor left will do */
        if (g->rank[g->e.from[k]] == NONE && g->rank[g->e.to[k]] == NONE)
            pred[g->e.to[k]] = g->e.from[k];
    uint32_t u = NONE;
    for (size_t w = 0; w < v && u == NONE; w++)
        if (g->rank[w] == NONE)
            u = (uint32_t)w;
    size_t len = 0;
    while (seen_at[u] == NONE) {
        seen_at[u] = (uint32_t)len;
        path[len++] = u;
        u = pred[u];
    }
    /* path[seen_at[u] .. len) walks the cycle backwards */
    size_t from = seen_at[u], nbest = len - from;
    for (size_t k = 0; k < nbest; k++)
        best[k] = path[len - 1 - k];
    /* pred, seen_at and path are scratch from here: parent, stamp, queue */
    for (size_t u2 = 0; u2 < v; u2++)
        seen_at[u2] = 0;
    size_t tries = nbest < CYCLE_TRIES ? nbest : CYCLE_TRIES;
    uint32_t starts[CYCLE_TRIES];
    for (size_t t = 0; t < tries; t++)
        starts[t] = best[t * nbest / tries];
    for (size_t t = 0; t < tries; t++) {
        size_t got = cycle_through(g, starts[t], pred, seen_at, (uint32_t)t + 1,
                                   path, c, nbest - 1);
        if (got > 0) {
            memcpy(best, c, got * sizeof *best);
            nbest = got;
        }
    }
    rc = emit_cycle(g, best, nbest, out);
    if (rc == 0)
        rc = support(g, best, nbest, ne, out);
done:
    fl_free(pred);
    fl_free(seen_at);
    fl_free(path);
    fl_free(best);
    fl_free(c);
    return rc;
}

/* ---- The guess ------------------------------------------------------------------ */

static int cmp_head(const void *x, const void *y, void *arg)
{
    const graph *g = arg;
    const cluster *a = &g->cl[*(const uint32_t *)x], *b = &g->cl[*(const uint32_t *)y];
    if (a->obj != b->obj)
        return a->obj < b->obj ? -1 : 1;
    if (a->writer == NONE || b->writer == NONE) /* the initial value first */
        return (a->writer == NONE) - (b->writer == NONE) ? (a->writer == NONE ? -1 : 1) : 0;
    int64_t ra = g->by_rank ? g->p->ops[a->writer].at : g->rank[a->writer];
    int64_t rb = g->by_rank ? g->p->ops[b->writer].at : g->rank[b->writer];
    if (ra != rb)
        return ra < rb ? -1 : 1;
    return (a->writer > b->writer) - (a->writer < b->writer);
}

/* Each key's clusters in the guessed order: heads (the initial value,
 * and clusters no cas writes) by where the sort put their writes, each
 * followed by the clusters cas ops chain onto it. Adds the edges of that
 * order. NULL, or why not. */
static const char *guess(graph *g)
{
    uint32_t *heads = fl_malloc((g->ncl + 1) * sizeof *heads);
    if (heads == NULL) {
        g->oom = true;
        return "memory";
    }
    size_t nh = 0, placed = 0, used = 0;
    for (size_t c = 0; c < g->ncl; c++) {
        const cluster *cl = &g->cl[c];
        bool live = cl->writer == NONE || g->needed[cl->writer];
        used += live;
        if (live && !cl->has_prev)
            heads[nh++] = (uint32_t)c;
    }
    qsort_r(heads, nh, sizeof *heads, cmp_head, g);
    uint32_t prev = NONE;
    for (size_t h = 0; h < nh; h++) {
        if (prev != NONE && g->cl[prev].obj != g->cl[heads[h]].obj)
            prev = NONE;
        for (uint32_t c = heads[h]; c != NONE && placed <= used; c = g->cl[c].glued) {
            placed++;
            if (prev != NONE) {
                uint32_t w = g->cl[c].writer, cas = g->cl[prev].cas_reader;
                edge(g, end_of(g, prev), w);
                if (cas != NONE && cas != w)
                    edge(g, cas, w);
            }
            prev = c;
        }
    }
    fl_free(heads);
    return placed == used ? NULL : "cas ops chain in a circle";
}

/* The guessed order, replayed through the model: the witness, or NULL
 * when a step is refused (then the search decides). */
static const char *replay(graph *g, sc_graph_result *out)
{
    const sc_problem *p = g->p;
    uint64_t *st = fl_malloc((p->nobjs + 1) * sizeof *st);
    out->order = fl_malloc((g->n + 1) * sizeof *out->order);
    if (st == NULL || out->order == NULL) {
        fl_free(st);
        g->oom = true;
        return "memory";
    }
    memcpy(st, p->initial, p->nobjs * sizeof *st);
    const char *why = NULL;
    for (size_t k = 0; k < g->ntopo && why == NULL; k++) {
        uint32_t i = g->topo[k];
        if (i >= g->n || !g->needed[i])
            continue;
        const sc_op *o = &p->ops[i];
        uint64_t next;
        if (!p->model->step(p->ctx, st[o->obj], &o->op, &next) ||
            next == LIN_NO_STATE)
            why = "the guessed order failed its replay";
        st[o->obj] = next;
        out->order[out->norder++] = (sc_step){i, next};
    }
    fl_free(st);
    return why;
}

/* ---- The whole -------------------------------------------------------------------- */

static bool late(const wgl_limits *l)
{
    return l != NULL && l->deadline_ns > 0 && fl_clock_mono_ns() > l->deadline_ns;
}

static int alloc_graph(graph *g)
{
    /* clusters: one an op, one an object's initial value, and room for as
     * many slots (strings repeated on a key) */
    size_t n = g->n, ncl = 2 * n + g->p->nobjs, v = n + ncl;
    g->ncl_cap = ncl;
    g->tsize = 16;
    while (g->tsize < 2 * (ncl + 1))
        g->tsize *= 2;
    g->kind = fl_calloc(n + 1, sizeof *g->kind);
    g->obs = fl_malloc((n + 1) * sizeof *g->obs);
    g->own = fl_malloc((n + 1) * sizeof *g->own);
    g->needed = fl_calloc(n + 1, sizeof *g->needed);
    g->cl = fl_malloc((ncl + 1) * sizeof *g->cl);
    g->table = fl_calloc(g->tsize, sizeof *g->table);
    g->off = fl_malloc((v + 2) * sizeof *g->off);
    g->indeg = fl_malloc((v + 1) * sizeof *g->indeg);
    g->topo = fl_malloc((v + 1) * sizeof *g->topo);
    g->rank = fl_malloc((v + 1) * sizeof *g->rank);
    g->order_scratch = fl_malloc((v + 1) * sizeof *g->order_scratch);
    return g->kind && g->obs && g->own && g->needed && g->cl && g->table &&
                   g->off && g->indeg && g->topo && g->rank && g->order_scratch
               ? 0 : -1;
}

static void free_graph(graph *g)
{
    fl_free(g->kind);
    fl_free(g->obs);
    fl_free(g->own);
    fl_free(g->needed);
    fl_free(g->cl);
    fl_free(g->table);
    fl_free(g->e.from);
    fl_free(g->e.to);
    fl_free(g->e.jx);
    fl_free(g->e.jy);
    fl_free(g->off);
    fl_free(g->adj);
    fl_free(g->indeg);
    fl_free(g->topo);
    fl_free(g->rank);
    fl_free(g->order_scratch);
    fl_free(g->clash_ops);
    fl_free(g->dup);
    fl_free(g->grp);
    fl_free(g->slot_tab);
}

/* Needed observers of nothing written, and the cas ops that end a
 * cluster. NULL, or why to decline. */
static const char *check_observers(graph *g, sc_graph_result *out)
{
    for (size_t i = 0; i < g->n; i++) {
        bool observes = g->kind[i] == K_READ || g->kind[i] == K_CAS;
        if (!g->needed[i] || !observes)
            continue;
        uint32_t a = g->obs[i];
        if (a == NONE) {
            out->verdict = CHECKER_INVALID;
            out->unwritten = (uint32_t)i;
            out->unwritten_words = g->p->model->string_role
                                       ? "a string no order of its key's puts "
                                         "and appends makes"
                                       : "a value nothing on its key wrote";
            return NULL;
        }
        if (g->kind[i] != K_CAS)
            continue;
        if (g->cl[a].cas_reader != NONE && g->partial)
            continue; /* its edges hold (none of these orders is legal) */
        if (g->cl[a].cas_reader != NONE)
            return "two cas ops expect the same value";
        g->cl[a].cas_reader = (uint32_t)i;
        g->cl[a].glued = g->own[i];
        g->cl[g->own[i]].has_prev = true;
    }
    return NULL;
}

static const char *build(graph *g, sc_graph_result *out, uint32_t *scratch)
{
    uint64_t *observed = fl_malloc((g->n + 1) * sizeof *observed);
    size_t *stamp = fl_calloc(g->p->nobjs + 1, sizeof *stamp);
    const char *why = !observed || !stamp ? "memory"
                      : g->p->model->string_role ? classify_strings(g, observed)
                                                 : classify(g, observed);
    if (why == NULL && g->clash[0] != NONE) { /* strings: decided */
        out->verdict = CHECKER_INVALID;
        out->unwritten = g->clash[1];
        out->unwritten_words = "which shows an append after another string "
                               "than another get does";
        out->support = fl_malloc((g->n + 1) * sizeof *out->support);
        for (uint32_t i = 0; out->support != NULL && i < g->n; i++)
            if (g->clash_ops[i])
                out->support[out->nsupport++] = i;
    } else if (why == NULL) {
        link_and_close(g, observed, scratch);
        why = check_observers(g, out);
    }
    if (why == NULL && out->verdict == CHECKER_UNKNOWN) {
        for (uint32_t i = 0; i < g->n; i++)
            if (g->needed[i])
                op_edges(g, i);
        chain_edges(g, scratch, stamp);
    }
    fl_free(observed);
    fl_free(stamp);
    return why;
}

static const char *decide(graph *g, const wgl_limits *limits,
                          sc_graph_result *out)
{
    uint32_t *scratch = fl_malloc((g->n + 1) * sizeof *scratch);
    const char *why = scratch ? build(g, out, scratch) : "memory";
    fl_free(scratch);
    if (why != NULL || out->verdict != CHECKER_UNKNOWN)
        return why;
    if (g->oom || late(limits))
        return g->oom ? "memory" : "time";
    g->base_edges = g->e.n;
    /* room for the guess's edges: at most two a cluster */
    g->adj = fl_malloc((g->e.n + 2 * g->ncl + 1) * sizeof *g->adj);
    if (g->adj == NULL || sort_nodes(g, g->e.n) != 0)
        return "memory";
    if (g->ntopo < g->n + g->ncl) {
        if (find_cycle(g, g->e.n, out) != 0)
            return "memory";
        out->verdict = CHECKER_INVALID;
        return NULL;
    }
    if (g->partial) /* no guess without knowing which alike op is which */
        return g->p->model->string_role ? "a string put or appended twice on a key"
                                        : "a value written twice on a key, or "
                                          "the initial value written";
    /* two guesses: the writes in history order (lagging replicas apply
     * writes in that order, however stale the reads), then in the order
     * the forced edges' sort put them */
    uint32_t *forced_rank = fl_malloc((g->n + g->ncl + 1) * sizeof *forced_rank);
    if (forced_rank == NULL)
        return "memory";
    memcpy(forced_rank, g->rank, (g->n + g->ncl) * sizeof *forced_rank);
    bool fits = false;
    for (int attempt = 0; attempt < 2 && !fits && why == NULL; attempt++) {
        g->by_rank = attempt == 0;
        memcpy(g->rank, forced_rank, (g->n + g->ncl) * sizeof *forced_rank);
        g->e.n = g->base_edges;
        if ((why = guess(g)) != NULL || g->oom)
            break;
        if (late(limits))
            why = "time";
        else if (sort_nodes(g, g->e.n) == 0)
            fits = g->ntopo == g->n + g->ncl;
    }
    fl_free(forced_rank);
    if (why != NULL || g->oom)
        return g->oom ? "memory" : why;
    if (!fits)
        return "the guessed orders of writes do not fit";
    if ((why = replay(g, out)) != NULL)
        return why;
    out->verdict = CHECKER_VALID;
    return NULL;
}

int sc_graph_decide(const sc_problem *p, const wgl_limits *limits,
                    sc_graph_result *out, fl_error *err)
{
    (void)err; /* running out of memory is "unknown", never an error */
    memset(out, 0, sizeof *out);
    out->verdict = CHECKER_UNKNOWN;
    out->unwritten = NONE;
    const lin_model *m = p->model;
    bool strings = m->string_role != NULL && m->string_of != NULL;
    if (!strings && (m->written == NULL || m->observed == NULL)) {
        out->declined = "the model does not say what ops write and observe";
        return FL_OK;
    }
    graph g = {.p = p, .n = p->nops, .clash = {NONE, NONE}};
    const char *why = alloc_graph(&g) == 0 ? decide(&g, limits, out) : "memory";
    if (why != NULL) {
        out->verdict = CHECKER_UNKNOWN;
        out->declined = why;
        fl_free(out->order);
        out->order = NULL;
        out->norder = 0;
    }
    free_graph(&g);
    return FL_OK;
}

void sc_graph_result_free(sc_graph_result *r)
{
    fl_free(r->support);
    r->support = NULL;
    fl_free(r->order);
    fl_free(r->cycle);
    fl_free(r->why);
    r->order = NULL;
    r->cycle = NULL;
    r->why = NULL;
}
