/*
 * elle_graph.c — the dependency graph of the committed transactions and
 * its cycles, by class. See elle.h for the classes.
 *
 * Nodes are the committed txns, then one time node per ok completion:
 * real time is a chain T1 -> c1 -> c2 -> ... of completions, each txn
 * pointing at its own completion's node and the latest completion before
 * its invocation pointing at it, so "T1 completed before T2 was invoked"
 * is a path of rt edges with 3n edges rather than n^2.
 *
 * Cycles: Tarjan's components (iterative) of the whole graph first; a
 * history without a nontrivial component is done. Each class's edges then
 * get their own components, computed only inside the nontrivial ones of
 * the class above, and each such component gives one shortest cycle by
 * breadth-first search from the head of an edge to its tail.
 */
#include "checkers/elle_internal.h"
#include "base/alloc.h"

#include <stdlib.h>
#include <string.h>

/* Node visits the searches for a G-single may spend before settling for
 * a G2-item in what remains (the verdict never depends on it). */
#define SEARCH_BUDGET (size_t)50000000

typedef struct edge {
    uint32_t from, to;
    uint8_t type;
} edge;

typedef struct graph {
    size_t n, ne;
    uint32_t *start;       /* CSR: edges of u are to[start[u] .. start[u+1]) */
    uint32_t *to;
    uint8_t *type;
    /* scratch for the searches */
    uint32_t *comp, *parent, *stamp;
    uint8_t *ptype;
    uint32_t epoch;
    uint32_t *queue;
    size_t visits;
} graph;

typedef struct edges {
    edge *e;
    size_t n, cap;
} edges;

static int add_edge(edges *l, uint32_t from, uint32_t to, uint8_t type)
{
    if (from == to || from == ELLE_NONE || to == ELLE_NONE)
        return FL_OK;
    if (l->n == l->cap) {
        size_t ncap = l->cap ? l->cap * 2 : 1024;
        edge *p = fl_realloc(l->e, ncap * sizeof *p);
        if (p == NULL)
            return FL_ENOMEM;
        l->e = p;
        l->cap = ncap;
    }
    l->e[l->n++] = (edge){from, to, type};
    return FL_OK;
}

static uint32_t node_of(const elle_result *r, uint32_t txn)
{
    return txn == ELLE_NONE ? ELLE_NONE : r->txns[txn].node;
}

static uint32_t writer_node(const elle_result *r, uint32_t key, int64_t v)
{
    const elle_write *w = elle_write_find(r, key, v);
    return w ? node_of(r, w->txn) : ELLE_NONE;
}

/* ww between consecutive versions; wr and rw from each external read. */
static int edges_list(const elle_result *r, edges *l)
{
    for (uint32_t k = 0; k < r->nkeys; k++) {
        uint32_t n;
        const int64_t *o = elle_order(r, k, &n);
        for (uint32_t i = 0; i + 1 < n; i++)
            if (add_edge(l, writer_node(r, k, o[i]), writer_node(r, k, o[i + 1]),
                         E_WW))
                return FL_ENOMEM;
    }
    for (uint32_t t = 0; t < r->ntxn; t++) {
        const elle_txn *x = &r->txns[t];
        if (x->status != T_OK)
            continue;
        for (uint32_t j = x->mop0; j < x->mop0 + x->nmop; j++) {
            const elle_mop *m = &r->mops[j];
            if (m->f != M_READ || !m->external)
                continue;
            uint32_t n, len = m->rn - m->own;
            const int64_t *o = elle_order(r, m->key, &n);
            if (!elle_prefix(r, m, o))
                continue; /* incompatible: no place in the order */
            if (len > 0 &&
                add_edge(l, writer_node(r, m->key, o[len - 1]), x->node, E_WR))
                return FL_ENOMEM;
            if (len < n &&
                add_edge(l, x->node, writer_node(r, m->key, o[len]), E_RW))
                return FL_ENOMEM;
        }
    }
    return FL_OK;
}

/* A committed external read, as the register's rules need it. */
typedef struct rread {
    uint32_t key;
    bool nil;
    int64_t v;
    uint32_t txn;
} rread;

static int rread_cmp(const void *a, const void *b)
{
    const rread *x = a, *y = b;
    if (x->key != y->key)
        return x->key < y->key ? -1 : 1;
    if (x->nil != y->nil)
        return x->nil ? -1 : 1;
    return x->v < y->v ? -1 : x->v > y->v;
}

static int write_key_cmp(const void *a, const void *b)
{
    const uint32_t *x = a, *y = b;
    return x[0] < y[0] ? -1 : x[0] > y[0];
}

/* The readers of (key, nil, v) in the sorted reads: [*lo, *hi). */
static void readers_of(const rread *rs, size_t n, rread q, size_t *lo,
                       size_t *hi)
{
    size_t a = 0, b = n;
    while (a < b) {
        size_t mid = (a + b) / 2;
        if (rread_cmp(&rs[mid], &q) < 0)
            a = mid + 1;
        else
            b = mid;
    }
    *lo = a;
    while (a < n && rread_cmp(&rs[a], &q) == 0)
        a++;
    *hi = a;
}

/* rw-register: wr from each read's writer; the initial null precedes
 * every write (rw from its readers to every writer of the key); a txn
 * that read k = a and then wrote k orders a before its write (ww from a's
 * writer, rw from a's other readers). */
static int edges_register(const elle_result *r, edges *l)
{
    size_t nr = 0;
    rread *rs = fl_malloc((r->nmop + 1) * sizeof *rs);
    uint32_t (*wk)[2] = fl_malloc((r->nwrites + 1) * sizeof *wk);
    size_t nw = 0;
    int rc = rs && wk ? FL_OK : FL_ENOMEM;
    for (uint32_t t = 0; rc == FL_OK && t < r->ntxn; t++) {
        const elle_txn *x = &r->txns[t];
        for (uint32_t j = x->mop0; x->committed && j < x->mop0 + x->nmop; j++) {
            const elle_mop *m = &r->mops[j];
            if (m->f == M_WRITE && m->last_write)
                wk[nw][0] = m->key, wk[nw++][1] = t;
            if (m->f == M_READ && m->external && x->status == T_OK)
                rs[nr++] = (rread){m->key, m->nil, m->v, t};
        }
    }
    if (rc == FL_OK) {
        qsort(rs, nr, sizeof *rs, rread_cmp);
        qsort(wk, nw, sizeof *wk, write_key_cmp);
    }
    for (size_t i = 0; rc == FL_OK && i < nr; i++) {
        const rread *q = &rs[i];
        uint32_t reader = r->txns[q->txn].node;
        if (!q->nil) {
            rc = add_edge(l, writer_node(r, q->key, q->v), reader, E_WR);
            continue;
        }
        size_t a = 0, b = nw;
        while (a < b) { /* first write of the key */
            size_t mid = (a + b) / 2;
            if (wk[mid][0] < q->key)
                a = mid + 1;
            else
                b = mid;
        }
        for (; rc == FL_OK && a < nw && wk[a][0] == q->key; a++)
            rc = add_edge(l, reader, node_of(r, wk[a][1]), E_RW);
    }
    /* read a, then wrote: a precedes the write */
    for (size_t i = 0; rc == FL_OK && i < nr; i++) {
        const rread *q = &rs[i];
        const elle_txn *x = &r->txns[q->txn];
        bool wrote = false;
        for (uint32_t j = x->mop0; j < x->mop0 + x->nmop; j++)
            wrote |= r->mops[j].f == M_WRITE && r->mops[j].key == q->key;
        if (!wrote || q->nil)
            continue;
        rc = add_edge(l, writer_node(r, q->key, q->v), x->node, E_WW);
        size_t lo, hi;
        readers_of(rs, nr, *q, &lo, &hi);
        for (size_t j = lo; rc == FL_OK && j < hi; j++)
            rc = add_edge(l, r->txns[rs[j].txn].node, x->node, E_RW);
    }
    fl_free(rs);
    fl_free(wk);
    return rc;
}

static int u64_cmp(const void *a, const void *b)
{
    uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;
    return x < y ? -1 : x > y;
}

/* The chain of completions (see the top of the file). */
static int edges_realtime(elle_result *r, edges *l)
{
    size_t n = r->ntxn_nodes;
    /* completion and invocation events of committed txns, in event order */
    size_t nev = 0;
    uint64_t *ev = fl_malloc((2 * r->ntxn + 1) * sizeof *ev);
    if (ev == NULL)
        return FL_ENOMEM;
    for (uint32_t t = 0; t < r->ntxn; t++) {
        const elle_txn *x = &r->txns[t];
        if (!x->committed)
            continue;
        ev[nev++] = (uint64_t)x->inv << 33 | (uint64_t)t << 1;
        if (x->status == T_OK)
            ev[nev++] = (uint64_t)x->done << 33 | (uint64_t)t << 1 | 1;
    }
    /* positions fit in 31 bits for any history this checks */
    qsort(ev, nev, sizeof *ev, u64_cmp);
    uint32_t cur = ELLE_NONE;
    int rc = FL_OK;
    for (size_t i = 0; rc == FL_OK && i < nev; i++) {
        uint32_t t = (uint32_t)(ev[i] >> 1 & 0xffffffffu);
        if (ev[i] & 1) {
            uint32_t c = (uint32_t)n++;
            rc = add_edge(l, r->txns[t].node, c, E_RT);
            if (rc == FL_OK && cur != ELLE_NONE)
                rc = add_edge(l, cur, c, E_RT);
            cur = c;
        } else if (cur != ELLE_NONE) {
            rc = add_edge(l, cur, r->txns[t].node, E_RT);
        }
    }
    fl_free(ev);
    r->nnodes = n;
    return rc;
}

static void graph_free(graph *g)
{
    fl_free(g->start);
    fl_free(g->to);
    fl_free(g->type);
    fl_free(g->comp);
    fl_free(g->parent);
    fl_free(g->stamp);
    fl_free(g->ptype);
    fl_free(g->queue);
}

static int graph_build(graph *g, size_t n, const edges *l)
{
    g->n = n;
    g->ne = l->n;
    g->start = fl_calloc(n + 2, sizeof *g->start);
    g->to = fl_malloc((l->n + 1) * sizeof *g->to);
    g->type = fl_malloc(l->n + 1);
    g->comp = fl_malloc((n + 1) * sizeof *g->comp);
    g->parent = fl_malloc((n + 1) * sizeof *g->parent);
    g->stamp = fl_calloc(n + 1, sizeof *g->stamp);
    g->ptype = fl_malloc(n + 1);
    g->queue = fl_malloc((n + 1) * sizeof *g->queue);
    if (!g->start || !g->to || !g->type || !g->comp || !g->parent ||
        !g->stamp || !g->ptype || !g->queue)
        return FL_ENOMEM;
    for (size_t i = 0; i < l->n; i++)
        g->start[l->e[i].from + 2]++;
    for (size_t u = 2; u < n + 2; u++)
        g->start[u] += g->start[u - 1];
    for (size_t i = 0; i < l->n; i++) {
        uint32_t at = g->start[l->e[i].from + 1]++;
        g->to[at] = l->e[i].to;
        g->type[at] = l->e[i].type;
    }
    return FL_OK;
}

/*
 * Tarjan's strongly connected components over the edges whose type has a
 * bit of mask, iteratively, only among nodes whose within[] is the same
 * nontrivial component (within NULL: every node). comp[u] is u's
 * component, or ELLE_NONE for a node alone in its own (or not searched).
 * Returns the number of nontrivial components, or -1 when out of memory.
 */
static long tarjan(graph *g, uint8_t mask, const uint32_t *within)
{
    size_t n = g->n;
    uint32_t *idx = fl_malloc(n * sizeof *idx), *low = fl_malloc(n * sizeof *low);
    uint32_t *stack = fl_malloc(n * sizeof *stack);
    uint32_t *call = fl_malloc(n * sizeof *call), *pos = fl_malloc(n * sizeof *pos);
    bool *on = fl_calloc(n, 1);
    long found = 0;
    if (!idx || !low || !stack || !call || !pos || !on) {
        found = -1;
        goto out;
    }
    memset(idx, 0xff, n * sizeof *idx);
    uint32_t next = 0, ncomp = 0;
    size_t sp = 0;
    memset(g->comp, 0xff, n * sizeof *g->comp);
    for (uint32_t s = 0; s < n; s++) {
        if (within && within[s] == ELLE_NONE)
            continue;
        if (idx[s] != ELLE_NONE)
            continue;
        size_t cp = 0;
        call[cp++] = s;
        idx[s] = low[s] = next++;
        pos[s] = g->start[s];
        stack[sp++] = s;
        on[s] = true;
        while (cp > 0) {
            uint32_t u = call[cp - 1];
            if (pos[u] < g->start[u + 1]) {
                uint32_t e = pos[u]++;
                uint32_t v = g->to[e];
                if (!(g->type[e] & mask) || (within && within[v] != within[u]))
                    continue;
                if (idx[v] == ELLE_NONE) {
                    idx[v] = low[v] = next++;
                    pos[v] = g->start[v];
                    stack[sp++] = v;
                    on[v] = true;
                    call[cp++] = v;
                } else if (on[v] && idx[v] < low[u]) {
                    low[u] = idx[v];
                }
                continue;
            }
            cp--;
            if (cp > 0 && low[u] < low[call[cp - 1]])
                low[call[cp - 1]] = low[u];
            if (low[u] != idx[u])
                continue;
            bool alone = stack[sp - 1] == u;
            uint32_t w;
            do {
                w = stack[--sp];
                on[w] = false;
                g->comp[w] = alone ? ELLE_NONE : ncomp;
            } while (w != u);
            if (!alone) {
                ncomp++;
                found++;
            }
        }
    }
out:
    fl_free(idx);
    fl_free(low);
    fl_free(stack);
    fl_free(call);
    fl_free(pos);
    fl_free(on);
    return found;
}

/* The edge class to show for an edge of these types, within mask:
 * dependencies before real time, ww before wr before rw. */
static uint8_t pick(uint8_t types, uint8_t mask)
{
    uint8_t t = types & mask;
    return t & E_WW ? E_WW : t & E_WR ? E_WR : t & E_RW ? E_RW : E_RT;
}

/*
 * A shortest path from `from` to `to` over mask's edges inside from's
 * component (comp). Writes the path's nodes into path[] (from first, to
 * last) and the class of each edge into types[]; returns its node count,
 * 0 if none (or the budget is spent).
 */
static size_t bfs(graph *g, uint32_t from, uint32_t to, uint8_t mask,
                  uint32_t *path, uint8_t *types, size_t *budget)
{
    uint32_t c = g->comp[from];
    if (++g->epoch == 0) {
        memset(g->stamp, 0, g->n * sizeof *g->stamp);
        g->epoch = 1;
    }
    size_t qh = 0, qt = 0;
    g->queue[qt++] = from;
    g->stamp[from] = g->epoch;
    g->parent[from] = ELLE_NONE;
    bool reached = from == to;
    while (qh < qt && !reached) {
        if (*budget == 0)
            return 0;
        (*budget)--;
        uint32_t u = g->queue[qh++];
        for (uint32_t e = g->start[u]; e < g->start[u + 1]; e++) {
            uint32_t v = g->to[e];
            if (!(g->type[e] & mask) || g->comp[v] != c ||
                g->stamp[v] == g->epoch)
                continue;
            g->stamp[v] = g->epoch;
            g->parent[v] = u;
            g->ptype[v] = pick(g->type[e], mask);
            g->queue[qt++] = v;
            if (v == to) {
                reached = true;
                break;
            }
        }
    }
    if (!reached)
        return 0;
    size_t len = 0;
    for (uint32_t v = to; v != ELLE_NONE; v = g->parent[v])
        len++;
    size_t i = len;
    for (uint32_t v = to; v != ELLE_NONE; v = g->parent[v]) {
        path[--i] = v;
        if (i > 0)
            types[i - 1] = g->ptype[v];
    }
    return len;
}

/* A cycle closed by edge (u -> v, class closing): the path v .. u, then
 * u -> v. Time nodes collapse into one rt edge between txns. Recorded as
 * the class its edges make it. */
static int record_cycle(elle_result *r, const uint32_t *path,
                        const uint8_t *types, size_t len, uint8_t closing)
{
    uint32_t *tx = fl_malloc((len + 1) * sizeof *tx);
    uint8_t *ty = fl_malloc(len + 1);
    if (tx == NULL || ty == NULL) {
        fl_free(tx);
        fl_free(ty);
        return FL_ENOMEM;
    }
    /* path[0] = v ... path[len-1] = u; edge i: path[i] -> path[i+1], and
     * the closing edge u -> v. Edges into and out of time nodes are all
     * rt, so a txn's own outgoing edge names the class of its step. */
    size_t n = 0;
    int rw = 0, wr = 0, rt = 0;
    for (size_t i = 0; i < len; i++) {
        uint32_t tn = r->node_txn[path[i]];
        if (tn == ELLE_NONE)
            continue;
        uint8_t t = i + 1 < len ? types[i] : closing;
        tx[n] = tn;
        ty[n++] = t;
        rw += t == E_RW;
        wr += t == E_WR;
        rt += t == E_RT;
    }
    elle_anomaly kind = rw == 0 ? (wr ? ELLE_G1C : ELLE_G0)
                      : rw == 1 ? ELLE_G_SINGLE
                                : ELLE_G2_ITEM;
    if (rt)
        kind = kind == ELLE_G0 ? ELLE_G0_RT : kind == ELLE_G1C ? ELLE_G1C_RT
             : kind == ELLE_G_SINGLE ? ELLE_G_SINGLE_RT : ELLE_G2_ITEM_RT;
    int rc = elle_found(r, kind, tx, ty, (uint32_t)n, ELLE_NONE, 0, ELLE_NONE,
                        ELLE_NONE);
    fl_free(tx);
    fl_free(ty);
    return rc;
}

/* For each nontrivial component of `mask` edges (g->comp), one cycle that
 * closes with an edge of class `closing` (and its path over `path`
 * edges); tries up to `tries` closing edges per component. */
static int cycles_of(elle_result *r, graph *g, uint8_t closing, uint8_t path_mask,
                     size_t tries, const bool *skip, size_t *budget,
                     uint32_t *path, uint8_t *types, bool *found_in)
{
    uint32_t ncomp = 0;
    for (size_t u = 0; u < g->n; u++)
        if (g->comp[u] != ELLE_NONE && g->comp[u] + 1 > ncomp)
            ncomp = g->comp[u] + 1;
    bool *done = fl_calloc(ncomp + 1, 1);
    size_t *tried = fl_calloc(ncomp + 1, sizeof *tried);
    int rc = done && tried ? FL_OK : FL_ENOMEM;
    for (uint32_t u = 0; rc == FL_OK && u < g->n; u++) {
        uint32_t c = g->comp[u];
        if (c == ELLE_NONE || done[c] || (skip && skip[u]))
            continue;
        for (uint32_t e = g->start[u]; e < g->start[u + 1] && !done[c]; e++) {
            uint32_t v = g->to[e];
            if (!(g->type[e] & closing) || g->comp[v] != c || tried[c] >= tries)
                continue;
            tried[c]++;
            size_t len = bfs(g, v, u, path_mask, path, types, budget);
            if (len == 0)
                continue;
            rc = record_cycle(r, path, types, len, pick(g->type[e], closing));
            done[c] = true;
            if (found_in)
                found_in[c] = true;
        }
    }
    fl_free(done);
    fl_free(tried);
    return rc;
}

static int search(elle_result *r, graph *g)
{
    size_t n = g->n;
    uint32_t *all = fl_malloc((n + 1) * sizeof *all);
    uint32_t *dep = fl_malloc((n + 1) * sizeof *dep);
    uint32_t *path = fl_malloc((n + 1) * sizeof *path);
    uint8_t *types = fl_malloc(n + 1);
    bool *in_dep = fl_calloc(n + 1, 1);
    bool *found = fl_calloc(n + 1, 1);
    size_t budget = SEARCH_BUDGET, unlimited = SIZE_MAX;
    int rc = all && dep && path && types && in_dep && found ? FL_OK : FL_ENOMEM;
    long k = rc == FL_OK ? tarjan(g, E_ALL, NULL) : 0;
    if (k < 0)
        rc = FL_ENOMEM;
    if (rc != FL_OK || k == 0)
        goto out;
    memcpy(all, g->comp, n * sizeof *all);
    /* dependency cycles: G0, then G1c, then G-single or G2-item */
    if (tarjan(g, E_WW, all) < 0 ||
        cycles_of(r, g, E_WW, E_WW, 1, NULL, &unlimited, path, types, NULL) ||
        tarjan(g, E_WW | E_WR, all) < 0 ||
        cycles_of(r, g, E_WR, E_WW | E_WR, 1, NULL, &unlimited, path, types,
                  NULL) ||
        tarjan(g, E_DEP, all) < 0) {
        rc = FL_ENOMEM;
        goto out;
    }
    memcpy(dep, g->comp, n * sizeof *dep);
    for (size_t u = 0; u < n; u++)
        in_dep[u] = dep[u] != ELLE_NONE;
    /* exactly one rw: close with rw, path without */
    bool *single = fl_calloc(n + 1, 1);
    rc = single ? cycles_of(r, g, E_RW, E_WW | E_WR, 10000, NULL, &budget,
                            path, types, single)
                : FL_ENOMEM;
    for (size_t u = 0; rc == FL_OK && u < n; u++)
        found[u] = dep[u] != ELLE_NONE && single[dep[u]];
    fl_free(single);
    if (rc == FL_OK)
        rc = cycles_of(r, g, E_RW, E_DEP, 1, found, &unlimited, path, types,
                       NULL);
    /* real-time cycles, in components with no dependency cycle */
    memcpy(g->comp, all, n * sizeof *all);
    bool *has_dep = fl_calloc(n + 1, 1);
    if (rc == FL_OK && has_dep == NULL)
        rc = FL_ENOMEM;
    for (size_t u = 0; rc == FL_OK && u < n; u++)
        if (in_dep[u] && all[u] != ELLE_NONE)
            has_dep[all[u]] = true;
    for (size_t u = 0; rc == FL_OK && u < n; u++)
        found[u] = all[u] != ELLE_NONE && has_dep[all[u]];
    fl_free(has_dep);
    if (rc == FL_OK)
        rc = cycles_of(r, g, E_RT, E_ALL, 1, found, &unlimited, path, types,
                       NULL);
    r->budget_spent = budget == 0;
out:
    fl_free(all);
    fl_free(dep);
    fl_free(path);
    fl_free(types);
    fl_free(in_dep);
    fl_free(found);
    return rc;
}

int elle_cycles(elle_result *r, fl_error *err)
{
    (void)err;
    uint32_t n = 0;
    for (uint32_t t = 0; t < r->ntxn; t++)
        if (r->txns[t].committed)
            r->txns[t].node = n++;
    r->ntxn_nodes = n;
    edges l = {0};
    graph g = {0};
    int rc = r->sum.list_append ? edges_list(r, &l) : edges_register(r, &l);
    if (rc == FL_OK)
        rc = edges_realtime(r, &l);
    if (rc == FL_OK) {
        r->node_txn = fl_malloc((r->nnodes + 1) * sizeof *r->node_txn);
        rc = r->node_txn ? FL_OK : FL_ENOMEM;
    }
    if (rc == FL_OK) {
        memset(r->node_txn, 0xff, (r->nnodes + 1) * sizeof *r->node_txn);
        for (uint32_t t = 0; t < r->ntxn; t++)
            if (r->txns[t].node != ELLE_NONE)
                r->node_txn[r->txns[t].node] = t;
        rc = graph_build(&g, r->nnodes, &l);
    }
    fl_free(l.e);
    if (rc == FL_OK)
        rc = search(r, &g);
    graph_free(&g);
    return rc;
}
